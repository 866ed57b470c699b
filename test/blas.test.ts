/**
 * The system BLAS through koffi (src/platform/blas.ts): finding it, NEEDLE_BLAS, and cblas_?gemm
 * on views into shared memory (the wasm heap's kind) for all four transpose combinations against
 * a plain loop. Where no BLAS is installed the gemm tests skip (CI installs OpenBLAS: .ci/run).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBlas, type SystemBlas } from '../src/platform/blas.js';

type Dtype = 'float32' | 'float64';
type View = Float32Array | Float64Array;

const base = { ...process.env };
const found = await loadBlas({ env: base, warn: false });
const blas: SystemBlas | null = found.blas;
const NO_BLAS = `skipped: ${found.note}`;

/** A shared memory like the wasm heap's, and views into it at element offsets. */
function sharedMemory(dtype: Dtype, elements: number): { all: View; view(offset: number, length?: number): View } {
  const bytes = elements * (dtype === 'float32' ? 4 : 8);
  const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1, maximum: Math.ceil(bytes / 65536) + 1, shared: true });
  const all = dtype === 'float32' ? new Float32Array(mem.buffer) : new Float64Array(mem.buffer);
  return { all, view: (offset, length) => (length === undefined ? all.subarray(offset) : all.subarray(offset, offset + length)) };
}

/** Deterministic values in [-1, 1), exactly representable in float32. */
function fill(v: View, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = ((s >>> 8) - 8388608) / 8388608;
  }
}

/** C = alpha op(A) op(B) + beta C, row-major, in float64. */
function naive(tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: View, lda: number, b: View, ldb: number, beta: number, c: View, ldc: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[tA ? p * lda + i : i * lda + p]! * b[tB ? j * ldb + p : p * ldb + j]!;
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]!);
    }
  }
  return out;
}

function runCase(b: SystemBlas, dtype: Dtype, tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, beta: number): void {
  // operands with padded rows (ld > columns) at odd offsets in one shared memory
  const [ra, ca] = tA ? [k, m] : [m, k];
  const [rb, cb] = tB ? [n, k] : [k, n];
  const lda = ca + 3, ldb = cb + 1, ldc = n + 2;
  const offA = 5, offB = offA + ra * lda + 7, offC = offB + rb * ldb + 11;
  const total = offC + m * ldc + 13;
  const mem = sharedMemory(dtype, total);
  fill(mem.all.subarray(0, total), 1234 + m * 7 + n * 13 + k);
  const before = Float64Array.from(mem.all.subarray(0, total));
  const a = mem.view(offA, ra * lda), bb = mem.view(offB, rb * ldb);
  const c = mem.view(offC); // runs to the end of the memory, as a heap view may
  const want = naive(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc);
  b.gemm(dtype, tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc);
  // read back through a separate view of the memory: written in place, nothing else touched
  const tol = dtype === 'float32' ? 2e-5 * Math.max(1, k) : 1e-12 * Math.max(1, k);
  for (let idx = 0; idx < total; idx++) {
    const rel = idx - offC;
    const inC = rel >= 0 && Math.floor(rel / ldc) < m && rel % ldc < n;
    const got = mem.all[idx]!;
    if (inC) {
      const w = want[Math.floor(rel / ldc) * n + (rel % ldc)]!;
      if (!(Math.abs(got - w) <= tol * (1 + Math.abs(w)))) assert.fail(`${dtype} tA=${tA} tB=${tB} ${m}x${n}x${k}: C[${Math.floor(rel / ldc)},${rel % ldc}] = ${got}, want ${w}`);
    } else if (got !== before[idx]) {
      assert.fail(`${dtype} tA=${tA} tB=${tB}: element ${idx} outside C changed (${before[idx]} -> ${got})`);
    }
  }
}

describe('loadBlas', () => {
  it('reports what it found, or why nothing', () => {
    assert.equal(typeof found.note, 'string');
    assert.ok(found.note.length > 0);
    if (blas) {
      assert.ok(found.note.includes(blas.vendor), found.note);
      assert.ok(found.note.includes(blas.path), found.note);
      assert.ok(Number.isInteger(blas.threads) && blas.threads >= 1);
      if ((base['NEEDLE_BLAS'] ?? '') === '') assert.notEqual(blas.vendor, 'BLAS', 'an unidentified BLAS is only used when NEEDLE_BLAS names it');
    } else {
      assert.match(found.note, /no BLAS/);
    }
  });

  for (const off of ['0', 'off', 'none', 'OFF']) {
    it(`NEEDLE_BLAS=${off} turns it off`, async () => {
      const r = await loadBlas({ env: { ...base, NEEDLE_BLAS: off }, warn: false });
      assert.equal(r.blas, null);
      assert.match(r.note, new RegExp(`disabled by NEEDLE_BLAS=${off}`));
    });
  }

  it('NEEDLE_BLAS naming a missing file: null, and the note names it', async () => {
    const p = '/nonexistent/dir/libnoblas.so';
    const r = await loadBlas({ env: { ...base, NEEDLE_BLAS: p }, warn: false });
    assert.equal(r.blas, null);
    assert.ok(r.note.includes(p), r.note);
    assert.match(r.note, /wasm kernels/);
  });

  it('NEEDLE_BLAS naming a file that is no library: null with the reason', async () => {
    const r = await loadBlas({ env: { ...base, NEEDLE_BLAS: '/etc/hostname' }, warn: false });
    assert.equal(r.blas, null);
    assert.ok(r.note.includes('/etc/hostname'), r.note);
  });

  it('NEEDLE_BLAS naming a library without cblas_sgemm: null with the reason', async (t) => {
    if (process.platform !== 'linux') return t.skip('uses libc.so.6');
    if (!blas) return t.skip(NO_BLAS); // koffi may be absent too
    const r = await loadBlas({ env: { ...base, NEEDLE_BLAS: 'libc.so.6' }, warn: false });
    assert.equal(r.blas, null);
    assert.match(r.note, /libc\.so\.6 has no cblas_sgemm/);
  });

  it('NEEDLE_BLAS naming the library found loads exactly that', async (t) => {
    if (!blas) return t.skip(NO_BLAS);
    const r = await loadBlas({ env: { ...base, NEEDLE_BLAS: blas.path }, warn: false });
    assert.ok(r.blas, r.note);
    assert.equal(r.blas.path, blas.path);
    assert.equal(r.blas.vendor, blas.vendor);
    assert.match(r.note, /\(NEEDLE_BLAS\)$/);
  });

  it('NEEDLE_THREADS sets the BLAS threads when its own variable is unset', async (t) => {
    if (!blas) return t.skip(NO_BLAS);
    if (blas.vendor !== 'OpenBLAS' || blas.threading === 'serial') return t.skip(`checked on threaded OpenBLAS only (this is ${blas.describe()})`);
    if (base['OPENBLAS_NUM_THREADS'] !== undefined || base['GOTO_NUM_THREADS'] !== undefined || base['OMP_NUM_THREADS'] !== undefined) return t.skip('a BLAS thread variable is set');
    const one = await loadBlas({ env: { ...base, NEEDLE_THREADS: '1' }, warn: false });
    try {
      assert.equal(one.blas?.threads, 1);
      assert.match(one.note, /1 thread\b/);
    } finally {
      const back = await loadBlas({ env: { ...base, NEEDLE_THREADS: String(blas.threads) }, warn: false });
      assert.equal(back.blas?.threads, blas.threads);
    }
  });
});

describe('blas.gemm on shared-memory views', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${dtype} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'} against a loop`, (t) => {
        if (!blas) return t.skip(NO_BLAS);
        runCase(blas, dtype, tA, tB, 7, 5, 9, 1, 0);
        runCase(blas, dtype, tA, tB, 33, 17, 65, 0.5, -1.5);
        runCase(blas, dtype, tA, tB, 1, 64, 3, 2, 1);
        runCase(blas, dtype, tA, tB, 96, 80, 130, 1, 0.25); // big enough to be split over threads
      });
    }
  }

  it('beta = 0 overwrites C, NaN included', (t) => {
    if (!blas) return t.skip(NO_BLAS);
    const a = new Float32Array(new SharedArrayBuffer(4 * 4)).fill(1);
    const b = new Float32Array([1, 2, 3, 4]);
    const c = new Float32Array(4).fill(NaN);
    blas.gemm('float32', false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
    assert.deepEqual(Array.from(c), [4, 6, 4, 6]);
  });

  it('k = 0 scales C by beta; m = 0 or n = 0 does nothing', (t) => {
    if (!blas) return t.skip(NO_BLAS);
    const c = new Float64Array([1, 2, 3, 4]);
    blas.gemm('float64', false, false, 2, 2, 0, 1, new Float64Array(0), 1, new Float64Array(0), 2, 3, c, 2);
    assert.deepEqual(Array.from(c), [3, 6, 9, 12]);
    blas.gemm('float64', false, false, 2, 2, 0, 1, new Float64Array(0), 1, new Float64Array(0), 2, 0, c, 2);
    assert.deepEqual(Array.from(c), [0, 0, 0, 0]);
    c.set([1, 2, 3, 4]);
    blas.gemm('float64', false, false, 0, 2, 2, 1, new Float64Array(0), 2, new Float64Array(4), 2, 0, new Float64Array(0), 2);
    blas.gemm('float64', false, false, 2, 0, 2, 1, new Float64Array(4), 2, new Float64Array(0), 1, 0, c, 1);
    assert.deepEqual(Array.from(c), [1, 2, 3, 4]);
  });

  it('refuses what would read or write out of bounds, or the wrong element type', (t) => {
    if (!blas) return t.skip(NO_BLAS);
    const f = (n: number) => new Float32Array(n);
    // koffi would hand a Float64Array's pointer to cblas_sgemm: checked in JS
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, 2, 1, new Float64Array(4), 2, f(4), 2, 0, f(4), 2), TypeError);
    assert.throws(() => blas.gemm('float64', false, false, 2, 2, 2, 1, f(4), 2, f(4), 2, 0, f(4), 2), TypeError);
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, 2, 1, f(3), 2, f(4), 2, 0, f(4), 2), /A needs 4 elements/);
    assert.throws(() => blas.gemm('float32', false, true, 2, 3, 2, 1, f(4), 2, f(5), 2, 0, f(6), 3), /B needs 6 elements/);
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, 2, 1, f(4), 2, f(4), 2, 0, f(3), 2), /C needs 4 elements/);
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, 2, 1, f(4), 1, f(4), 2, 0, f(4), 2), /ldA=1/);
    assert.throws(() => blas.gemm('float32', false, false, 2.5, 2, 2, 1, f(4), 2, f(4), 2, 0, f(4), 2), /m must be an integer/);
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, -1, 1, f(4), 2, f(4), 2, 0, f(4), 2), /k must be an integer/);
    const shared = f(12);
    assert.throws(() => blas.gemm('float32', false, false, 2, 2, 2, 1, shared.subarray(0, 4), 2, shared.subarray(4, 8), 2, 0, shared.subarray(2, 6), 2), /overlaps/);
    // adjacent, not overlapping: fine
    blas.gemm('float32', false, false, 2, 2, 2, 1, shared.subarray(0, 4), 2, shared.subarray(4, 8), 2, 0, shared.subarray(8), 2);
  });
});
