// The wasm backend's matmul (assembly/gemm.ts through src/ndarray/wasm/matmul.ts) against a float64
// triple loop: odd and tile-edge shapes, shapes that cross the kernel's block sizes (k > KC,
// n > NC), all four transpose combinations, batches with broadcast operands (stride 0), operands
// at non-zero offsets, k = 0, both float dtypes, on 1 to 4 tasks (more tasks than threads: they
// are claimed), results that do not depend on the split (bitwise); the reference fallback for
// int32; and the BLAS branch's arguments through a fake BLAS written in JS.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../src/index.js';
import { getBackend, type Dense, type MatmulSpec } from '../src/ndarray/backend.js';
import type { DType } from '../src/ndarray/dtype.js';
import { wasmRuntime } from '../src/platform/setup.js';
import type { Blas } from '../src/ndarray/wasm/runtime.js';
import { matmulKernels, setMatmulPath, setMatmulTasks } from '../src/ndarray/wasm/matmul.js';
import { PLAIN_WASM, RELAXED_WASM } from '../src/ndarray/wasm/generated/kernels.js';
import { mulberry32 } from './helpers.js';


const wasm = getBackend('wasm');
const rt = wasmRuntime!;

before(async () => {
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});
after(() => {
  setMatmulTasks(0);
  setMatmulPath('auto');
});

const rng = mulberry32;

type Num = Float32Array | Float64Array | Int32Array;

/** Wasm storage of `len` random elements after `offset` elements of padding. */
function operand(dtype: DType, len: number, offset: number, rand: () => number): Dense & { data: Num } {
  const storage = wasm.allocate(dtype, offset + len);
  const data = (storage as unknown as { data: Num }).data;
  for (let i = 0; i < offset + len; i++) data[i] = dtype === 'int32' ? Math.floor(rand() * 7) - 3 : rand() - 0.5;
  return { storage, offset, data };
}

/** float64 reference of the batched product (C compact per batch). */
function reference(a: Dense & { data: Num }, b: Dense & { data: Num }, s: MatmulSpec): Float64Array {
  const { batch, m, n, k } = s;
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = a.offset + t * s.strideA;
    const bo = b.offset + t * s.strideB;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const x = a.data[ao + (s.transA ? p * m + i : i * k + p)]!;
          const y = b.data[bo + (s.transB ? j * k + p : p * n + j)]!;
          acc += x * y;
        }
        out[t * m * n + i * n + j] = acc;
      }
    }
  }
  return out;
}

interface Case {
  batch?: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Broadcast A / B over the batch (stride 0). */
  bcastA?: boolean;
  bcastB?: boolean;
  offset?: number;
}

/** Runs one product on the wasm backend and checks it against the float64 reference. */
function check(dtype: DType, c: Case, seed: number, backend: { matmul(a: Dense, b: Dense, out: Dense, s: MatmulSpec): void } = wasm): void {
  const rand = rng(seed);
  const batch = c.batch ?? 1;
  const { m, n, k } = c;
  const off = c.offset ?? 0;
  const spec: MatmulSpec = {
    batch, m, n, k, transA: !!c.transA, transB: !!c.transB,
    strideA: c.bcastA ? 0 : m * k, strideB: c.bcastB ? 0 : k * n,
  };
  const a = operand(dtype, (c.bcastA ? 1 : batch) * m * k, off, rand);
  const b = operand(dtype, (c.bcastB ? 1 : batch) * k * n, off + 3, rand);
  const out = operand(dtype, batch * m * n + 5, off + 1, rand); // garbage to be overwritten; 5 guard elements
  const guard = Array.from(out.data.subarray(off + 1 + batch * m * n));
  backend.matmul(a, b, out, spec);
  const want = reference(a, b, spec);
  const got = out.data;
  const tol = dtype === 'float32' ? 2e-6 * Math.sqrt(Math.max(k, 1)) : 1e-12 * Math.sqrt(Math.max(k, 1));
  const name = `${dtype} ${JSON.stringify(c)}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[out.offset + i]!;
    if (!(Math.abs(g - w) <= tol * (1 + Math.abs(w)))) assert.fail(`${name}: element ${i}: got ${g}, expected ${w}`);
  }
  assert.deepEqual(Array.from(got.subarray(off + 1 + batch * m * n)), guard, `${name}: wrote past C`);
}

const SHAPES: readonly [number, number, number][] = [
  [1, 1, 1], [1, 7, 13], [7, 1, 13], [13, 7, 1], [4, 8, 16], [5, 9, 17], [3, 4, 5],
  [8, 8, 8], [12, 24, 33], [33, 17, 64], [100, 10, 100], [63, 65, 257], [37, 1030, 300],
  [130, 9, 520], [1, 100, 300], [2, 33, 520], [3, 50, 7], [70, 1, 300], [1, 1, 600], [1, 30, 1],
  [2, 1, 5], [200, 1, 9],
];
const TRANS: readonly [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

for (const tasks of [1, 2, 3, 4]) {
  describe(`wasm matmul on ${tasks} task(s)`, () => {
    before(() => setMatmulTasks(tasks));
    after(() => setMatmulTasks(0));
    for (const dtype of ['float32', 'float64'] as const) {
      test(`${dtype}: shapes x transposes`, () => {
        setMatmulPath('wasm');
        if (tasks >= 2) assert.ok(rt.pool.threads < 2 || rt.pool.ready >= 1, 'a worker is ready');
        let seed = 1;
        for (const [m, n, k] of SHAPES) {
          for (const [transA, transB] of TRANS) check(dtype, { m, n, k, transA, transB, offset: seed % 3 }, seed++);
        }
      });
      test(`${dtype}: batches, broadcast operands, offsets`, () => {
        setMatmulPath('wasm');
        let seed = 100;
        for (const [batch, m, n, k] of [[2, 5, 7, 9], [3, 17, 9, 31], [5, 8, 12, 20], [1, 20, 30, 40]] as const) {
          for (const [transA, transB] of TRANS) {
            check(dtype, { batch, m, n, k, transA, transB, offset: 7 }, seed++);
            check(dtype, { batch, m, n, k, transA, transB, bcastA: true }, seed++);
            check(dtype, { batch, m, n, k, transA, transB, bcastB: true, offset: 1 }, seed++);
          }
        }
      });
      test(`${dtype}: k = 0 gives zeros`, () => {
        setMatmulPath('wasm');
        check(dtype, { m: 5, n: 9, k: 0 }, 7);
        check(dtype, { batch: 3, m: 13, n: 4, k: 0, transA: true, transB: true }, 8);
      });
    }
  });
}

test('wasm matmul: large enough to split on its own (automatic task count)', () => {
  setMatmulPath('wasm');
  setMatmulTasks(0);
  check('float32', { m: 200, n: 96, k: 150 }, 11);
  check('float32', { m: 40, n: 300, k: 150, transB: true }, 12);
  check('float64', { batch: 4, m: 50, n: 60, k: 70, transA: true }, 13);
});

test('wasm matmul: a row of C does not depend on the other rows of the product (bitwise)', () => {
  setMatmulPath('wasm');
  for (const tasks of [1, 2]) {
    setMatmulTasks(tasks);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [m, n, k] of [[37, 29, 600], [37, 1, 300], [11, 70, 40]] as const) {
        for (const transB of [false, true]) {
          const rand = rng(m + n + k);
          const a = operand(dtype, m * k, 0, rand);
          const b = operand(dtype, k * n, 0, rand);
          const whole = operand(dtype, m * n, 0, rand);
          const spec = (rows: number): MatmulSpec => ({ batch: 1, m: rows, n, k, transA: false, transB, strideA: 0, strideB: 0 });
          wasm.matmul(a, b, whole, spec(m));
          for (const [i0, i1] of [[0, 1], [1, 3], [3, 6], [6, 10], [10, m]] as const) {
            const part = operand(dtype, (i1 - i0) * n, 0, rand);
            wasm.matmul({ storage: a.storage, offset: i0 * k }, b, part, spec(i1 - i0));
            assert.deepEqual(Array.from(part.data), Array.from(whole.data.subarray(i0 * n, i1 * n)),
              `${dtype} ${m}x${n}x${k} transB ${transB}: rows [${i0}, ${i1}) on ${tasks} task(s)`);
          }
        }
      }
    }
  }
  setMatmulTasks(0);
});

test('wasm matmul: results do not depend on how many tasks (blocks of C) the product is split into (bitwise)', () => {
  setMatmulPath('wasm');
  let seed = 300;
  for (const dtype of ['float32', 'float64'] as const) {
    // [1, 48, 1100, 30]: split by columns, blocks wider than one NC-wide column block (assembly/gemm.ts)
    for (const [batch, m, n, k] of [[1, 100, 100, 300], [1, 37, 90, 70], [1, 2, 50, 40], [3, 30, 20, 10], [1, 64, 1, 33], [1, 48, 1100, 30]] as const) {
      for (const [transA, transB] of TRANS) {
        const rand = rng(seed++);
        const a = operand(dtype, batch * m * k, 0, rand);
        const b = operand(dtype, batch * k * n, 0, rand);
        const spec: MatmulSpec = { batch, m, n, k, transA, transB, strideA: m * k, strideB: k * n };
        let first: number[] | null = null;
        for (const tasks of [1, 2, 3, 4, 6, 8]) {
          setMatmulTasks(tasks);
          const out = operand(dtype, batch * m * n, 0, rand);
          wasm.matmul(a, b, out, spec);
          const got = Array.from(out.data);
          if (first === null) first = got;
          else assert.deepEqual(got, first, `${dtype} ${batch}x${m}x${n}x${k} transA ${transA} transB ${transB} on ${tasks} tasks`);
        }
      }
    }
  }
  setMatmulTasks(0);
});

test('wasm matmul: int32 runs the reference kernel', () => {
  setMatmulPath('wasm');
  for (const [transA, transB] of TRANS) check('int32', { batch: 2, m: 5, n: 6, k: 7, transA, transB, bcastB: true, offset: 2 }, 21);
});

test('wasm matmul: the BLAS branch passes row-major arguments per batch', () => {
  const calls: string[] = [];
  const fake: Blas = {
    path: 'fake',
    threads: 1,
    gemm(dtype, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      calls.push(`${dtype} ${transA} ${transB} ${m} ${n} ${k} ${lda} ${ldb} ${ldc}`);
      assert.equal(alpha, 1);
      assert.equal(beta, 0);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += a[transA ? p * lda + i : i * lda + p]! * b[transB ? j * ldb + p : p * ldb + j]!;
          c[i * ldc + j] = acc;
        }
      }
    },
  };
  const fakeRt = Object.create(rt, { blas: { value: fake } }) as typeof rt;
  const kernels = matmulKernels(fakeRt) as { matmul(a: Dense, b: Dense, out: Dense, s: MatmulSpec): void };
  setMatmulPath('auto');
  let seed = 40;
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [transA, transB] of TRANS) {
      calls.length = 0;
      check(dtype, { batch: 3, m: 5, n: 7, k: 9, transA, transB, bcastA: true, offset: 2 }, seed++, kernels);
      assert.equal(calls.length, 3);
      assert.equal(calls[0], `${dtype} ${transA} ${transB} 5 7 9 ${transA ? 5 : 9} ${transB ? 9 : 7} 7`);
    }
  }
  // k = 0 does not call the BLAS
  calls.length = 0;
  check('float32', { m: 3, n: 4, k: 0 }, 50, kernels);
  assert.equal(calls.length, 0);
  // the wasm path ignores the BLAS
  setMatmulPath('wasm');
  check('float32', { m: 5, n: 7, k: 9 }, 51, kernels);
  assert.equal(calls.length, 0);
  setMatmulPath('auto');
});

test('wasm matmul: the plain-SIMD and relaxed-SIMD builds of the kernel agree with the reference', () => {
  for (const [name, b64] of [['plain', PLAIN_WASM], ['relaxed', RELAXED_WASM]] as const) {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    if (!WebAssembly.validate(bytes)) continue; // relaxed SIMD unsupported here
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort: () => { throw new Error('abort'); } } })
      .exports as Record<string, (...args: number[]) => number>;
    const scratch = 1 << 20;
    for (const dtype of ['float32', 'float64'] as const) {
      const sz = dtype === 'float32' ? 4 : 8;
      const [m, n, k] = [13, 21, 300];
      const A = scratch + ex['gemm_scratch_bytes']!();
      const B = A + m * k * sz;
      const C = B + k * n * sz;
      const View = dtype === 'float32' ? Float32Array : Float64Array;
      const rand = rng(5);
      const a = new View(memory.buffer, A, m * k);
      const b = new View(memory.buffer, B, k * n);
      for (let i = 0; i < a.length; i++) a[i] = rand() - 0.5;
      for (let i = 0; i < b.length; i++) b[i] = rand() - 0.5;
      ex[dtype === 'float32' ? 'gemm_f32' : 'gemm_f64']!(A, B, C, 1, m, n, k, 1, m, n, 1, 0, 0, scratch, 0, 0, 1); // A transposed
      const c = new View(memory.buffer, C, m * n);
      const tol = dtype === 'float32' ? 2e-6 * Math.sqrt(k) : 1e-12 * Math.sqrt(k);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += a[p * m + i]! * b[p * n + j]!;
          const g = c[i * n + j]!;
          if (!(Math.abs(g - acc) <= tol * (1 + Math.abs(acc)))) assert.fail(`${name} ${dtype} (${i}, ${j}): got ${g}, expected ${acc}`);
        }
      }
    }
  }
});
