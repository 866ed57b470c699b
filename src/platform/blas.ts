/**
 * The system BLAS through koffi (Node only; imported by src/platform/node.ts).
 *
 * `loadBlas()` finds an optimized CBLAS (MKL, OpenBLAS, BLIS or Apple Accelerate) at standard
 * places, or exactly the library that `NEEDLE_BLAS=/path/lib.so` names (`NEEDLE_BLAS=0` turns it
 * off), binds `cblas_sgemm`/`cblas_dgemm`, and returns a {@link Blas} whose `gemm` runs on the host
 * typed arrays given to it: koffi passes a TypedArray's data pointer straight to C (no copy in or
 * out), so views of the wasm heap's shared memory are read and written in place.
 *
 * It never throws: without a BLAS, `blas` is null and `note` says why (nd.info() shows it) and the
 * wasm backend keeps its own matmul kernels. See docs/blas.md.
 */
import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Blas } from '../ndarray/wasm/runtime.js';

/** The part of koffi used here (typed locally: koffi is an optional dependency). */
interface KoffiLib {
  func(declaration: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

/** Who made the BLAS found ('BLAS' when it cannot tell: possibly the slow reference BLAS). */
export type BlasVendor = 'MKL' | 'OpenBLAS' | 'BLIS' | 'Accelerate' | 'BLAS';

/** A system BLAS: the {@link Blas} the wasm runtime uses, plus what nd.info() reports. */
export interface SystemBlas extends Blas {
  readonly vendor: BlasVendor;
  /** Version ('' when the library does not say). */
  readonly version: string;
  /** Threading ('pthread', 'OpenMP', 'serial', ...; '' when unknown). */
  readonly threading: string;
  /** The library's own description (openblas_get_config(), MKL's version string, ...). */
  readonly config: string;
  /** The CPU kernels it picked (OpenBLAS's core name, BLIS's architecture; '' when unknown). */
  readonly core: string;
  /** The file the dynamic loader opened, symbolic links resolved ('' when unknown). */
  readonly realPath: string;
  /** One line: vendor, version, threads, path. */
  describe(): string;
}

/** Options of {@link loadBlas} (for tests; the defaults are what start-up uses). */
export interface LoadBlasOptions {
  /** Environment read for NEEDLE_BLAS / NEEDLE_THREADS (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Warn on stderr (once per process) when NEEDLE_BLAS names a library that cannot be used (default true). */
  warn?: boolean;
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;
const INT_MAX = 0x7fffffff;

const SGEMM = 'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, _Inout_ float *c, int ldc)';
const DGEMM = 'void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha, const double *a, int lda, const double *b, int ldb, double beta, _Inout_ double *c, int ldc)';

/** Libraries stay loaded for the life of the process (unloading a threaded BLAS is not safe). */
const pinned: KoffiLib[] = [];
let warned = false;

interface Candidate {
  /** A path, or a bare name the dynamic loader searches for. */
  name: string;
  /** A generic name (libblas.so.3, libcblas.so.3): used only if it turns out to be an optimized BLAS. */
  generic?: boolean;
}

function multiarch(): string {
  const m: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu' };
  return m[process.arch] ?? `${process.arch}-linux-gnu`;
}

/** Where to look, best first. */
function candidates(env: NodeJS.ProcessEnv): Candidate[] {
  const out: Candidate[] = [];
  const add = (...names: string[]) => { for (const name of names) out.push({ name }); };
  if (process.platform === 'darwin') {
    // Accelerate first: on Apple silicon it runs on the matrix units and beats OpenBLAS by far.
    add('/System/Library/Frameworks/Accelerate.framework/Accelerate');
    add('libmkl_rt.2.dylib', 'libmkl_rt.dylib', '/opt/intel/oneapi/mkl/latest/lib/libmkl_rt.2.dylib');
    add('/opt/homebrew/opt/openblas/lib/libopenblas.0.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib');
    add('/usr/local/opt/openblas/lib/libopenblas.0.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib', 'libopenblas.0.dylib', 'libopenblas.dylib');
    add('/opt/homebrew/opt/blis/lib/libblis.dylib', '/usr/local/opt/blis/lib/libblis.dylib', 'libblis.4.dylib', 'libblis.dylib');
    return out;
  }
  if (process.platform === 'win32') {
    add('mkl_rt.2.dll', 'mkl_rt.dll', 'libopenblas.dll', 'openblas.dll', 'libblis.4.dll', 'libblis.dll');
    return out;
  }
  const ma = multiarch();
  const conda = env['CONDA_PREFIX'];
  // MKL (the single dynamic library; MKL_THREADING_LAYER picks its threading)
  add('libmkl_rt.so.2', 'libmkl_rt.so');
  if (conda) add(path.join(conda, 'lib', 'libmkl_rt.so.2'));
  add('/opt/intel/oneapi/mkl/latest/lib/libmkl_rt.so.2', '/opt/intel/oneapi/mkl/latest/lib/intel64/libmkl_rt.so.2');
  // OpenBLAS: Fedora's threaded builds are libopenblasp (pthreads) / libopenblaso (OpenMP); its
  // libopenblas.so.0 is the serial one. Debian's libopenblas.so.0 follows its alternatives.
  add('libopenblasp.so.0', 'libopenblaso.so.0', 'libopenblas.so.0', 'libopenblas.so');
  add(`/usr/lib/${ma}/openblas-pthread/libopenblas.so.0`, `/usr/lib/${ma}/openblas-openmp/libopenblas.so.0`, `/usr/lib/${ma}/openblas-serial/libopenblas.so.0`);
  if (conda) add(path.join(conda, 'lib', 'libopenblas.so.0'), path.join(conda, 'lib', 'libopenblas.so'));
  add('/opt/OpenBLAS/lib/libopenblas.so', '/usr/local/lib/libopenblas.so', '/usr/lib64/libopenblas.so.0');
  // BLIS
  add('libblis.so.4', 'libblis.so', 'libblis-mt.so.4');
  add(`/usr/lib/${ma}/blis-pthread/libblis.so.4`, `/usr/lib/${ma}/blis-openmp/libblis.so.4`, `/usr/lib/${ma}/blis-serial/libblis.so.4`);
  add('/usr/local/lib/libblis.so');
  // The generic names (Debian's alternatives may point them at OpenBLAS or BLIS): only if optimized.
  out.push({ name: 'libcblas.so.3', generic: true }, { name: 'libblas.so.3', generic: true });
  return out;
}

/** Where the dynamic loader finds a bare name (for the note; '' when not found on disk). */
function locate(name: string, env: NodeJS.ProcessEnv): string {
  if (name.includes('/') || name.includes('\\')) return existsSync(name) ? name : '';
  const ldVar = process.platform === 'darwin' ? 'DYLD_LIBRARY_PATH' : process.platform === 'win32' ? 'PATH' : 'LD_LIBRARY_PATH';
  const dirs = (env[ldVar] ?? '').split(path.delimiter).filter((d) => d !== '');
  if (process.platform === 'linux') {
    const ma = multiarch();
    dirs.push(`/usr/lib/${ma}`, `/lib/${ma}`, '/usr/lib64', '/lib64', '/usr/local/lib', '/usr/lib', '/lib');
  } else if (process.platform === 'darwin') {
    dirs.push('/opt/homebrew/lib', '/usr/local/lib', '/usr/lib');
  }
  for (const d of dirs) {
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return '';
}

function tryFunc<F>(lib: KoffiLib, decl: string): F | null {
  try {
    return lib.func(decl) as F;
  } catch {
    return null;
  }
}

function positiveInt(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : null;
}

/** The cores this process may use. */
export function cores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

interface Identity {
  vendor: BlasVendor;
  version: string;
  threading: string;
  config: string;
  core: string;
  threads: number;
}

/**
 * Who made the library, and its threads. NEEDLE_THREADS, when set and the library's own variable
 * is not, sets the BLAS's thread count too.
 */
function identify(lib: KoffiLib, name: string, env: NodeJS.ProcessEnv): Identity {
  const needleThreads = positiveInt(env['NEEDLE_THREADS']);
  const getConfig = tryFunc<() => string | null>(lib, 'const char *openblas_get_config(void)');
  if (getConfig) {
    const config = (getConfig() ?? '').trim();
    const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? '';
    const parallel = tryFunc<() => number>(lib, 'int openblas_get_parallel(void)');
    const p = parallel ? parallel() : -1;
    const threading = p === 0 ? 'serial' : p === 1 ? 'pthread' : p === 2 ? 'OpenMP' : '';
    const own = env['OPENBLAS_NUM_THREADS'] ?? env['GOTO_NUM_THREADS'] ?? (p === 2 ? env['OMP_NUM_THREADS'] : undefined);
    if (needleThreads !== null && own === undefined && p !== 0) {
      tryFunc<(n: number) => void>(lib, 'void openblas_set_num_threads(int)')?.(needleThreads);
    }
    const getThreads = tryFunc<() => number>(lib, 'int openblas_get_num_threads(void)');
    const core = tryFunc<() => string | null>(lib, 'const char *openblas_get_corename(void)');
    const corename = core ? (core() ?? '').trim() : '';
    return { vendor: 'OpenBLAS', version, threading, config, core: corename, threads: Math.max(1, getThreads ? getThreads() : 1) };
  }
  const mklVersion = tryFunc<(buf: Uint8Array, len: number) => void>(lib, 'void MKL_Get_Version_String(_Out_ uint8_t *buf, int len)');
  if (mklVersion) {
    const buf = new Uint8Array(256);
    mklVersion(buf, buf.length);
    const end = buf.indexOf(0);
    const config = new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end)).trim();
    const version = /Version\s+(\S+)/.exec(config)?.[1] ?? '';
    const own = env['MKL_NUM_THREADS'] ?? env['OMP_NUM_THREADS'];
    if (needleThreads !== null && own === undefined) {
      tryFunc<(n: number) => void>(lib, 'void MKL_Set_Num_Threads(int)')?.(needleThreads);
    }
    const getThreads = tryFunc<() => number>(lib, 'int MKL_Get_Max_Threads(void)');
    return { vendor: 'MKL', version, threading: env['MKL_THREADING_LAYER'] ?? '', config, core: '', threads: Math.max(1, getThreads ? getThreads() : 1) };
  }
  const blisVersion = tryFunc<() => string | null>(lib, 'const char *bli_info_get_version_str(void)');
  if (blisVersion) {
    const version = (blisVersion() ?? '').trim();
    let arch = '';
    const queryArch = tryFunc<() => number>(lib, 'int bli_arch_query_id(void)');
    const archString = tryFunc<(id: number) => string | null>(lib, 'const char *bli_arch_string(int id)');
    if (queryArch && archString) arch = (archString(queryArch()) ?? '').trim();
    // BLIS runs on one thread unless told otherwise: NEEDLE_THREADS, else every core
    const own = env['BLIS_NUM_THREADS'] ?? env['BLIS_JC_NT'] ?? env['BLIS_IC_NT'] ?? env['OMP_NUM_THREADS'];
    if (own === undefined) {
      tryFunc<(n: number) => void>(lib, 'void bli_thread_set_num_threads(int64_t)')?.(needleThreads ?? cores());
    }
    const getThreads = tryFunc<() => number | bigint>(lib, 'int64_t bli_thread_get_num_threads(void)');
    const t = getThreads ? Number(getThreads()) : 1;
    return { vendor: 'BLIS', version, threading: '', config: version, core: arch, threads: Math.max(1, t) };
  }
  if (process.platform === 'darwin' && name.includes('Accelerate')) {
    const t = positiveInt(env['VECLIB_MAXIMUM_THREADS']) ?? cores();
    return { vendor: 'Accelerate', version: '', threading: '', config: 'vecLib', core: '', threads: t };
  }
  return { vendor: 'BLAS', version: '', threading: '', config: '', core: '', threads: 1 };
}

type Gemm = (
  order: number, transA: number, transB: number, m: number, n: number, k: number,
  alpha: number, a: Float32Array | Float64Array, lda: number,
  b: Float32Array | Float64Array, ldb: number,
  beta: number, c: Float32Array | Float64Array, ldc: number,
) => void;

function checkDim(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > INT_MAX) throw new RangeError(`blas.gemm: ${what} must be an integer in [0, 2^31-1], got ${v}`);
}

/** Elements a row-major rows x cols operand with leading dimension ld spans; checks ld. */
function extent(what: string, rows: number, cols: number, ld: number, view: Float32Array | Float64Array): number {
  checkDim(`ld${what}`, ld);
  if (ld < Math.max(1, cols)) throw new RangeError(`blas.gemm: ld${what}=${ld} is less than the ${cols} columns of ${what}`);
  const need = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  if (view.length < need) throw new RangeError(`blas.gemm: ${what} needs ${need} elements (${rows}x${cols}, ld ${ld}), its view has ${view.length}`);
  return need;
}

function overlaps(x: Float32Array | Float64Array, nx: number, y: Float32Array | Float64Array, ny: number): boolean {
  if (nx === 0 || ny === 0 || x.buffer !== y.buffer) return false;
  const bx = x.byteOffset, by = y.byteOffset, s = x.BYTES_PER_ELEMENT;
  return bx < by + ny * s && by < bx + nx * s;
}

class KoffiBlas implements SystemBlas {
  constructor(
    readonly path: string,
    readonly realPath: string,
    readonly threads: number,
    readonly vendor: BlasVendor,
    readonly version: string,
    readonly threading: string,
    readonly config: string,
    readonly core: string,
    private readonly sgemm: Gemm,
    private readonly dgemm: Gemm,
  ) {}

  gemm(
    dtype: 'float32' | 'float64',
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array | Float64Array, lda: number,
    b: Float32Array | Float64Array, ldb: number,
    beta: number, c: Float32Array | Float64Array, ldc: number,
  ): void {
    // koffi would pass any typed array's pointer (a Float64Array to float * included): check here.
    const Arr = dtype === 'float32' ? Float32Array : Float64Array;
    if (!(a instanceof Arr) || !(b instanceof Arr) || !(c instanceof Arr)) {
      throw new TypeError(`blas.gemm: ${dtype} needs ${Arr.name} operands, got ${a.constructor.name}, ${b.constructor.name}, ${c.constructor.name}`);
    }
    checkDim('m', m);
    checkDim('n', n);
    checkDim('k', k);
    const nc = extent('C', m, n, ldc, c);
    const na = extent('A', transA ? k : m, transA ? m : k, lda, a);
    const nb = extent('B', transB ? n : k, transB ? k : n, ldb, b);
    if (overlaps(c, nc, a, na) || overlaps(c, nc, b, nb)) throw new RangeError('blas.gemm: C overlaps A or B');
    if (m === 0 || n === 0) return;
    if (k === 0) {
      // C = beta * C (done here: not every BLAS handles k = 0 the same way)
      for (let i = 0; i < m; i++) {
        const row = i * ldc;
        for (let j = 0; j < n; j++) c[row + j] = beta === 0 ? 0 : beta * c[row + j]!;
      }
      return;
    }
    (dtype === 'float32' ? this.sgemm : this.dgemm)(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  describe(): string {
    const what = this.vendor === 'BLAS' ? 'unidentified CBLAS (the slow reference BLAS?)' : [this.vendor, this.version].filter((s) => s !== '').join(' ');
    const details = [this.threading, `${this.threads} thread${this.threads === 1 ? '' : 's'}`, this.core].filter((s) => s !== '').join(', ');
    const where = this.realPath !== '' && this.realPath !== this.path ? `${this.path} -> ${this.realPath}` : this.path;
    return `${what} (${details}) at ${where}`;
  }
}

/** Loads `name` and binds the gemms; throws with a readable reason. */
function open(koffi: Koffi, name: string, env: NodeJS.ProcessEnv): { blas: KoffiBlas; generic: boolean } {
  let lib: KoffiLib;
  try {
    lib = koffi.load(name);
  } catch (e) {
    throw new Error(`cannot load ${name}: ${(e as Error).message.replace(/^Failed to load shared library:\s*/, '')}`);
  }
  pinned.push(lib);
  if (/ILP64/i.test(env['MKL_INTERFACE_LAYER'] ?? '') && tryFunc(lib, 'int MKL_Get_Max_Threads(void)')) {
    // the bindings pass 32-bit ints: MKL's 64-bit-integer interface would misread them
    throw new Error(`${name} is MKL with MKL_INTERFACE_LAYER=${env['MKL_INTERFACE_LAYER']}; the bindings need the LP64 interface`);
  }
  const sgemm = tryFunc<Gemm>(lib, SGEMM);
  const dgemm = tryFunc<Gemm>(lib, DGEMM);
  if (!sgemm || !dgemm) throw new Error(`${name} has no ${sgemm ? 'cblas_dgemm' : 'cblas_sgemm'}: not a CBLAS library`);
  const id = identify(lib, name, env);
  const found = locate(name, env);
  let real = '';
  if (found !== '') {
    try {
      real = realpathSync(found);
    } catch {
      real = '';
    }
  }
  const blas = new KoffiBlas(found !== '' ? found : name, real, id.threads, id.vendor, id.version, id.threading, id.config, id.core, sgemm, dgemm);
  return { blas, generic: id.vendor === 'BLAS' };
}

function loadKoffi(): Koffi | null {
  try {
    return createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return null;
  }
}

const FALLBACK = 'matmul uses the wasm kernels';

/**
 * Loads a BLAS: NEEDLE_BLAS=0/off/none/false disables it; NEEDLE_BLAS=/path (or a library name)
 * loads exactly that; otherwise MKL, OpenBLAS, BLIS, Apple Accelerate at standard places. Never
 * throws: `blas` is null with the reason in `note`, else `note` describes the library.
 */
export async function loadBlas(options: LoadBlasOptions = {}): Promise<{ blas: SystemBlas | null; note: string }> {
  const env = options.env ?? process.env;
  const warn = (msg: string) => {
    if (options.warn === false || warned) return;
    warned = true;
    process.emitWarning(msg, { code: 'NEEDLE_BLAS' });
  };
  const raw = (env['NEEDLE_BLAS'] ?? '').trim();
  const setting = raw.toLowerCase();
  if (['0', 'off', 'none', 'false', 'no'].includes(setting)) {
    return { blas: null, note: `no BLAS: disabled by NEEDLE_BLAS=${raw}; ${FALLBACK}` };
  }
  const explicit = raw !== '' && !['1', 'auto', 'on', 'true', 'yes'].includes(setting);
  // OpenBLAS's idle threads busy-wait for 2^28 cycles after every call by default, taking the
  // cores from the wasm kernel threads and from JavaScript between products; 2^20 (~0.3 ms)
  // keeps them awake through a burst of products (Winograd's 36 per chunk: 2^4, which made them
  // sleep at once, cost a wake-up per call) and lets them sleep soon after (docs/blas.md; read
  // when the library loads, so it is set before; the user's value wins)
  if (env === process.env && process.env['OPENBLAS_THREAD_TIMEOUT'] === undefined) process.env['OPENBLAS_THREAD_TIMEOUT'] = '20';
  const koffi = loadKoffi();
  if (!koffi) {
    const note = `no BLAS: koffi is not installed (npm install koffi); ${FALLBACK}`;
    if (explicit) warn(`NEEDLE_BLAS=${raw} is ignored: ${note}`);
    return { blas: null, note };
  }
  if (explicit) {
    try {
      const { blas } = open(koffi, raw, env);
      return { blas, note: `${blas.describe()} (NEEDLE_BLAS)` };
    } catch (e) {
      const note = `no BLAS: NEEDLE_BLAS=${raw} is unusable (${(e as Error).message}); ${FALLBACK}`;
      warn(note);
      return { blas: null, note };
    }
  }
  const skipped: string[] = [];
  for (const cand of candidates(env)) {
    let got: { blas: KoffiBlas; generic: boolean };
    try {
      got = open(koffi, cand.name, env);
    } catch (e) {
      // not there: the usual case, said nothing of; there but unusable: said in the note
      const msg = (e as Error).message;
      if (!msg.startsWith('cannot load ')) skipped.push(msg);
      continue;
    }
    if (cand.generic && got.generic) {
      // an unidentified libblas.so.3 is most likely the reference BLAS: slower than the wasm kernels
      skipped.push(`${got.blas.path} (not an optimized BLAS; NEEDLE_BLAS=${got.blas.path} forces it)`);
      continue;
    }
    return { blas: got.blas, note: got.blas.describe() };
  }
  const hint = process.platform === 'darwin' ? 'brew install openblas' : 'e.g. apt-get install libopenblas0-pthread';
  const skip = skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : '';
  return { blas: null, note: `no BLAS found (MKL, OpenBLAS, BLIS${process.platform === 'darwin' ? ', Accelerate' : ''}; ${hint}, or set NEEDLE_BLAS=/path/to/lib)${skip}; ${FALLBACK}` };
}
