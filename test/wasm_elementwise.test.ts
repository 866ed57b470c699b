// The wasm backend's elementwise kernels (unary, binary, binaryScalar, where, cast) against the
// reference cpu backend: every op on every dtype, random data mixed with special values (NaN,
// +-Infinity, +-0, subnormals, halves for rounding, int32 extremes), sizes that exercise the
// scalar tails and the threaded split, and unaligned offsets. Exact ops must match bit for bit
// (any NaN matches any NaN); the float32 polynomial functions within 2 ulp and the float64
// transcendental functions within 2 ulp, with special values exact. erf: float32 bit for bit,
// float64 within ERF_F64_ULPS (its Math.exp is musl's, the reference's V8's).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import '../src/index.js';
import { BINARY_OPS, UNARY_OPS, getBackend, type Backend, type BinaryOp, type Dense, type UnaryOp } from '../src/ndarray/backend.js';
import type { AnyTypedArray, DType } from '../src/ndarray/dtype.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { cpuBackend } from '../src/ndarray/cpu/index.js';
import { mulberry32 } from './helpers.js';

const wasm = getBackend('wasm');
const cpu = getBackend('cpu');
const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];
/** Sizes: empty, the scalar tails, one vector block plus tails, and large enough for threads. */
const SIZES = [0, 1, 3, 7, 17, 1023, 65537 + 5];
const BIG = 2 * 65536 + 5;

before(async () => {
  const rt = wasmRuntime!;
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});

const rng = mulberry32;
const rand = rng(99);

const FLOAT_SPECIALS = [
  NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1, -1, 1e-40, -1e-40, 1e-45,
  3.4e38, -3.4e38, 88.72283, 88.8, 89, -87.5, -103, -104, -110, 1e-7, 2147483648, -2147483648,
  -2147483648.5, 2147483647.5, 4294967296.5, 3e9, -3e9, 1e20, -1e20, 0.625, -0.625, 9, -9,
];
const INT_SPECIALS = [2147483647, -2147483648, 0, 1, -1, 65536, -65536, 46341, 1 << 30, 94906267];

/** Random values of `dtype`, with special values mixed in (about one in eight). */
function randomData(dtype: DType, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const special = rand() < 0.125;
    if (dtype === 'bool') out[i] = rand() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') out[i] = special ? INT_SPECIALS[Math.floor(rand() * INT_SPECIALS.length)]! : Math.floor(rand() * 2001) - 1000;
    else if (special) out[i] = FLOAT_SPECIALS[Math.floor(rand() * FLOAT_SPECIALS.length)]!;
    else {
      const r = rand();
      out[i] = r < 0.5 ? rand() * 20 - 10 : r < 0.75 ? rand() * 4 - 2 : r < 0.9 ? Math.round(rand() * 20 - 10) : (rand() * 200 - 100) * 10 ** Math.floor(rand() * 6 - 3);
    }
  }
  return out;
}

/** `data` written to fresh storage of backend `be` at element offset `off`. */
function put(be: Backend, dtype: DType, data: readonly number[], off: number): Dense {
  const s = be.allocate(dtype, data.length + off);
  be.write(s, off, data);
  return { storage: s, offset: off };
}

function out(be: Backend, dtype: DType, n: number, off: number): Dense {
  return { storage: be.allocate(dtype, n + off), offset: off };
}

function read(be: Backend, d: Dense, n: number): AnyTypedArray {
  return be.readSync(d.storage, d.offset, n);
}

/** Bitwise equality (NaN == NaN, -0 != 0). */
function assertSame(actual: AnyTypedArray, expected: AnyTypedArray, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || (a !== a && e !== e)) continue;
    assert.fail(`${msg}: at ${i} got ${a}, expected ${e}`);
  }
}

/** Distance in units in the last place (sign-magnitude bit patterns: +0 and -0 are 0 apart). */
function ulps(a: number, e: number, dtype: DType): number {
  if (dtype === 'float32') {
    const f = new Float32Array([a, e]);
    const i = new Int32Array(f.buffer);
    const ord = (b: number) => (b >= 0 ? b : -(b & 0x7fffffff));
    return Math.abs(ord(i[0]!) - ord(i[1]!));
  }
  const f = new Float64Array([a, e]);
  const i = new BigInt64Array(f.buffer);
  const ord = (b: bigint) => (b >= 0n ? b : -(b & 0x7fffffffffffffffn));
  const d = ord(i[0]!) - ord(i[1]!);
  return Number(d < 0n ? -d : d);
}

/** Equality within `maxUlps`; NaN, infinities and the sign of zero must match exactly. */
function assertUlps(actual: AnyTypedArray, expected: AnyTypedArray, dtype: DType, maxUlps: number, msg: string): number {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || (a !== a && e !== e)) continue;
    if (a !== a || e !== e || !Number.isFinite(e) || !Number.isFinite(a) || e === 0) {
      assert.fail(`${msg}: at ${i} got ${a}, expected ${e} (special values must match)`);
    }
    const u = ulps(a, e, dtype);
    if (u > maxUlps) assert.fail(`${msg}: at ${i} got ${a}, expected ${e} (${u} ulp)`);
    worst = Math.max(worst, u);
  }
  return worst;
}

/**
 * float64 erf: the reference's operations, but exp(-x^2) from musl's exp rather than V8's, which
 * differ by 1 ulp on about 10% of arguments; that moves C * exp * sum by at most about 6 ulp
 * (4 seen in 10^7 random inputs, about 95% exact, |x| >= 3 all but exact).
 */
const ERF_F64_ULPS = 6;

/** Ops computed by a different function than the reference's (so compared within ulps). */
function tolerance(op: UnaryOp | BinaryOp, dtype: DType): number {
  if (dtype === 'float64' && op === 'erf') return ERF_F64_ULPS;
  if (dtype === 'float32' && (op === 'exp' || op === 'log' || op === 'tanh' || op === 'sigmoid')) return 2;
  if (dtype === 'float32' && (op === 'log1p' || op === 'expm1' || op === 'sin' || op === 'cos' || op === 'pow')) return 1;
  if (dtype === 'float64' && ['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'pow'].includes(op)) return 2;
  return 0;
}

function compare(actual: AnyTypedArray, expected: AnyTypedArray, outDtype: DType, tol: number, msg: string): void {
  if (tol === 0) assertSame(actual, expected, msg);
  else assertUlps(actual, expected, outDtype, tol, msg);
}

const BOOL_OUT = new Set<string>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'isnan', 'logicalNot']);

describe('wasm elementwise kernels match the reference', () => {
  test('unary: every op, dtype and size', () => {
    for (const dtype of DTYPES) {
      for (const n of [...SIZES, BIG]) {
        const data = randomData(dtype, n);
        const inC = put(cpu, dtype, data, 0);
        const inW = put(wasm, dtype, data, 3);
        for (const op of UNARY_OPS) {
          const od = BOOL_OUT.has(op) ? 'bool' : dtype;
          const oc = out(cpu, od, n, 0);
          const ow = out(wasm, od, n, 1);
          cpu.unary(op, inC, oc, n);
          wasm.unary(op, inW, ow, n);
          compare(read(wasm, ow, n), read(cpu, oc, n), od, tolerance(op, dtype), `${op} ${dtype} n=${n}`);
        }
      }
    }
  });

  test('binary: every op, dtype and size', () => {
    for (const dtype of DTYPES) {
      for (const n of [...SIZES, BIG]) {
        const x = randomData(dtype, n);
        // equal elements now and then, for the comparisons and maximum/minimum ties (+0 / -0)
        const y = randomData(dtype, n).map((v, i) => (i % 5 === 0 ? x[i]! : i % 7 === 0 && v === 0 ? -0 : v));
        const ac = put(cpu, dtype, x, 0), bc = put(cpu, dtype, y, 0);
        const aw = put(wasm, dtype, x, 1), bw = put(wasm, dtype, y, 2);
        for (const op of BINARY_OPS) {
          const od = BOOL_OUT.has(op) ? 'bool' : dtype;
          const oc = out(cpu, od, n, 0);
          const ow = out(wasm, od, n, 3);
          cpu.binary(op, ac, bc, oc, n);
          wasm.binary(op, aw, bw, ow, n);
          compare(read(wasm, ow, n), read(cpu, oc, n), od, tolerance(op, dtype), `${op} ${dtype} n=${n}`);
        }
      }
    }
  });

  test('binaryScalar: every op, dtype, scalar and order', () => {
    const scalars: Record<DType, number[]> = {
      float32: [1.5, 0, -0, NaN, Infinity, 2, 0.5, -3, 0.1],
      float64: [0.1, -2.5, NaN, 0, -0, 2, -Infinity],
      int32: [3, -7, 0, 2147483647, 1.5],
      bool: [0, 1],
    };
    for (const dtype of DTYPES) {
      for (const n of [3, 17, 1023, BIG]) {
        const data = randomData(dtype, n);
        const ac = put(cpu, dtype, data, 0);
        const aw = put(wasm, dtype, data, 5);
        // the threaded size with one scalar (the kernels are the same for every scalar)
        for (const s of n === BIG ? scalars[dtype].slice(0, 1) : scalars[dtype]) {
          for (const op of BINARY_OPS) {
            for (const reversed of [false, true]) {
              const od = BOOL_OUT.has(op) ? 'bool' : dtype;
              const oc = out(cpu, od, n, 0);
              const ow = out(wasm, od, n, 2);
              cpu.binaryScalar(op, ac, s, oc, n, reversed);
              wasm.binaryScalar(op, aw, s, ow, n, reversed);
              compare(read(wasm, ow, n), read(cpu, oc, n), od, tolerance(op, dtype), `${op}(${reversed ? `${s}, a` : `a, ${s}`}) ${dtype} n=${n}`);
            }
          }
        }
      }
    }
  });

  test('where: every dtype and size', () => {
    for (const dtype of DTYPES) {
      for (const n of [...SIZES, BIG]) {
        const c = randomData('bool', n);
        const x = randomData(dtype, n);
        const y = randomData(dtype, n);
        const oc = out(cpu, dtype, n, 0);
        const ow = out(wasm, dtype, n, 1);
        cpu.where(put(cpu, 'bool', c, 0), put(cpu, dtype, x, 0), put(cpu, dtype, y, 0), oc, n);
        wasm.where(put(wasm, 'bool', c, 3), put(wasm, dtype, x, 2), put(wasm, dtype, y, 1), ow, n);
        assertSame(read(wasm, ow, n), read(cpu, oc, n), `where ${dtype} n=${n}`);
      }
    }
  });

  test('cast: every dtype pair and size, out-of-range floats to int32', () => {
    for (const from of DTYPES) {
      for (const n of [...SIZES, BIG]) {
        const data = randomData(from, n);
        const ac = put(cpu, from, data, 0);
        const aw = put(wasm, from, data, 1);
        for (const to of DTYPES) {
          const oc = out(cpu, to, n, 0);
          const ow = out(wasm, to, n, 2);
          cpu.cast(ac, oc, n);
          wasm.cast(aw, ow, n);
          assertSame(read(wasm, ow, n), read(cpu, oc, n), `cast ${from} -> ${to} n=${n}`);
        }
      }
    }
  });
});

describe('wasm float32 functions: accuracy sweeps', () => {
  /** n points spread over [lo, hi], plus the same count log-spaced over [tiny, hi] of both signs. */
  function sweep(lo: number, hi: number, n: number): number[] {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) xs.push(lo + ((hi - lo) * i) / (n - 1));
    for (let i = 0; i < n; i++) {
      const v = Math.exp(Math.log(1e-30) + ((Math.log(Math.max(Math.abs(lo), Math.abs(hi))) - Math.log(1e-30)) * i) / (n - 1));
      if (v <= hi) xs.push(v);
      if (-v >= lo) xs.push(-v);
    }
    return xs;
  }
  const cases: [UnaryOp, number[]][] = [
    ['exp', sweep(-105, 90, 60000)],
    ['log', [...sweep(0, 3.4e38, 60000), ...sweep(0.5, 2, 60000), 1e-45, 1e-40, 1.17549435e-38, 0, -0, -1]],
    ['tanh', sweep(-12, 12, 60000)],
    ['sigmoid', sweep(-110, 110, 60000)],
  ];
  for (const [op, xs] of cases) {
    test(`${op} within 2 ulp of Math.${op === 'sigmoid' ? 'exp' : op} (float32)`, () => {
      const n = xs.length;
      const oc = out(cpu, 'float32', n, 0);
      const ow = out(wasm, 'float32', n, 0);
      cpu.unary(op, put(cpu, 'float32', xs, 0), oc, n);
      wasm.unary(op, put(wasm, 'float32', xs, 0), ow, n);
      assertUlps(read(wasm, ow, n), read(cpu, oc, n), 'float32', 2, `${op} sweep`);
    });
  }
});

describe('wasm erf matches the reference', () => {
  /** The float64 (or float32) neighbours of x. */
  function neighbours(x: number, dtype: DType): number[] {
    if (dtype === 'float32') {
      const f = new Float32Array([x]);
      const i = new Int32Array(f.buffer);
      const b = i[0]!;
      const r: number[] = [];
      for (const d of [-2, -1, 1, 2]) {
        i[0] = b + d;
        r.push(f[0]!);
      }
      return r;
    }
    const f = new Float64Array([x]);
    const i = new BigInt64Array(f.buffer);
    const b = i[0]!;
    const r: number[] = [];
    for (const d of [-2n, -1n, 1n, 2n]) {
      i[0] = b + d;
      r.push(f[0]!);
    }
    return r;
  }

  /** Special values, both signs: zeros, NaN, infinities, tiny and huge, and the branch points 3 and 6. */
  function specials(dtype: DType): number[] {
    const pos = [
      0, Infinity, 5e-324, 1e-310, 1e-300, 1e-200, 1e-45, 1e-40, 1.17549435e-38, 1e-30, 1e-20, 1e-16, 1e-9, 1e-8,
      1e-3, 0.1, 0.5, 1, 1.5, 2, 2.5, 2.9999, 3, 3.0001, 4, 5, 5.9999, 6, 6.0001, 7, 9, 26, 27, 28, 1e10,
      3.4e38, 1e300, 1.7976931348623157e308,
    ];
    const xs = [NaN, -NaN];
    for (const p of pos) {
      const v = dtype === 'float32' ? Math.fround(p) : p;
      xs.push(v, -v);
      if (Number.isFinite(v) && v !== 0) for (const nb of neighbours(v, dtype)) xs.push(nb, -nb);
    }
    return xs;
  }

  /** Random values: uniform over [-7, 7] and [-3.5, 3.5], and log-spaced magnitudes of both signs. */
  function randomErf(n: number): number[] {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = rand();
      const s = rand() < 0.5 ? -1 : 1;
      xs.push(r < 0.4 ? rand() * 14 - 7 : r < 0.8 ? rand() * 7 - 3.5 : s * Math.exp(rand() * 80 - 78));
    }
    return xs;
  }

  function check(dtype: DType, xs: readonly number[], msg: string): { exact: number; worst: number } {
    const n = xs.length;
    const oc = out(cpu, dtype, n, 0);
    const ow = out(wasm, dtype, n, 1);
    cpu.unary('erf', put(cpu, dtype, xs, 0), oc, n);
    wasm.unary('erf', put(wasm, dtype, xs, 3), ow, n);
    const a = read(wasm, ow, n);
    const e = read(cpu, oc, n);
    let exact = 0;
    for (let i = 0; i < n; i++) if (Object.is(a[i], e[i]) || (a[i] !== a[i] && e[i] !== e[i])) exact++;
    if (dtype === 'float32') {
      assertSame(a, e, msg);
      return { exact, worst: 0 };
    }
    return { exact, worst: assertUlps(a, e, dtype, ERF_F64_ULPS, msg) };
  }

  for (const dtype of ['float32', 'float64'] as const) {
    test(`${dtype}: special values and branch points${dtype === 'float32' ? ' bit for bit' : ''}`, () => {
      const xs = specials(dtype);
      check(dtype, xs, `erf ${dtype} specials`);
      // where exp(-x^2) is exactly 1 or 0, or erf is +-1 without it, the results are exact
      const outer = xs.filter((x) => x !== x || Math.abs(x) < 1e-9 || Math.abs(x) >= 6);
      const r = check(dtype, outer, `erf ${dtype} specials (exact)`);
      assert.equal(r.exact, outer.length, `erf ${dtype}: special values must match exactly`);
      // signed zeros, infinities, saturation, NaN
      const o = out(wasm, dtype, 7, 0);
      wasm.unary('erf', put(wasm, dtype, [0, -0, Infinity, -Infinity, NaN, 6, -6], 0), o, 7);
      const v = read(wasm, o, 7);
      assert.ok(Object.is(v[0], 0) && Object.is(v[1], -0), 'erf(+-0) = +-0');
      assert.deepEqual([v[2], v[3], v[5], v[6]], [1, -1, 1, -1]);
      assert.ok(Number.isNaN(v[4]), 'erf(NaN) = NaN');
    });

    test(`${dtype}: random inputs, sizes 1, 7, 1023 and threaded`, () => {
      let exact = 0;
      let total = 0;
      for (const n of [1, 7, 1023, 2 * 65536 + 5]) {
        const r = check(dtype, randomErf(n), `erf ${dtype} n=${n}`);
        exact += r.exact;
        total += n;
      }
      // the same operations as the reference: float64 differs only through exp's last bit
      if (dtype === 'float64') assert.ok(exact >= 0.85 * total, `erf float64: ${exact} of ${total} exact`);
    });
  }

  test('float32: a dense sweep of [-6.5, 6.5] bit for bit', () => {
    const xs: number[] = [];
    for (let i = 0; i <= 200000; i++) xs.push(Math.fround(-6.5 + (13 * i) / 200000));
    check('float32', xs, 'erf float32 sweep');
  });

  test('float32 and float64 run in WebAssembly (the reference kernel is not called)', () => {
    const saved = cpuBackend.unary;
    cpuBackend.unary = () => assert.fail('erf fell back to the reference');
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        const o = out(wasm, dtype, 9, 0);
        wasm.unary('erf', put(wasm, dtype, [0, 1, -2, 3, 4, 7, NaN, -0, 0.25], 0), o, 9);
      }
    } finally {
      cpuBackend.unary = saved;
    }
  });

  test('int32 and bool keep the reference', () => {
    for (const dtype of ['int32', 'bool'] as const) {
      const xs = dtype === 'bool' ? [0, 1, 1, 0, 1] : [0, 1, -1, 2, -3, 7, 2147483647, -2147483648];
      const n = xs.length;
      const oc = out(cpu, dtype, n, 0);
      const ow = out(wasm, dtype, n, 0);
      cpu.unary('erf', put(cpu, dtype, xs, 0), oc, n);
      wasm.unary('erf', put(wasm, dtype, xs, 0), ow, n);
      assertSame(read(wasm, ow, n), read(cpu, oc, n), `erf ${dtype}`);
    }
  });
});
