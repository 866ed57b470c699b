// The wasm backend's strided copies (compact, setitem, setitemScalar), reductions and
// gather/scatterAdd against the reference cpu backend, on random data and many layouts: permutes,
// flips, broadcasts, stepped slices, the convolution's im2col view, empty and size-1 dims, every
// dtype; reductions of many row counts and lengths with NaN, infinities and ties.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import '../src/index.js';
import { getBackend, type AxisSpec, type Backend, type ReduceOp, type Storage, type Strided } from '../src/ndarray/backend.js';
import type { AnyTypedArray, DType } from '../src/ndarray/dtype.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { planCopy } from '../src/ndarray/wasm/copy.js';
import { cpuStrided } from '../src/ndarray/cpu/strided.js';
import { cpuBackend } from '../src/ndarray/cpu/index.js';
import { mulberry32 } from './helpers.js';

/** New storage cleared to zeros (the wasm heap reuses blocks without clearing them). */
function zeroed(be: Backend, dtype: DType, n: number): Storage {
  const s = be.allocate(dtype, n);
  be.fill({ storage: s, offset: 0 }, n, 0);
  return s;
}


const wasm = getBackend('wasm');
const cpu = getBackend('cpu');
const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

before(async () => {
  const rt = wasmRuntime!;
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});

const rng = mulberry32;
const rand = rng(1234);
const randInt = (n: number) => Math.floor(rand() * n);

function randomData(dtype: DType, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') out[i] = rand() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') out[i] = randInt(2001) - 1000;
    else out[i] = rand() * 20 - 10;
  }
  return out;
}

/** The same data in storage of both backends. */
function pair(dtype: DType, data: readonly number[]): [Storage, Storage] {
  const c = zeroed(cpu, dtype, data.length);
  const w = zeroed(wasm, dtype, data.length);
  cpu.write(c, 0, data);
  wasm.write(w, 0, data);
  return [c, w];
}

/** Frees wasm storages at once (the heap then reuses their blocks without a collection). */
function release(...xs: Storage[]): void {
  for (const x of xs) if (x.device === 'wasm') wasm.free(x);
}

function all(be: Backend, s: Storage): AnyTypedArray {
  return be.readSync(s, 0, s.length);
}

/** Bitwise equality (NaN == NaN, -0 != 0). */
function assertSame(actual: AnyTypedArray, expected: AnyTypedArray, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      assert.fail(`${msg}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Extent of a strided layout: [lowest, highest] element position relative to its offset. */
function extent(shape: readonly number[], strides: readonly number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  shape.forEach((n, i) => {
    const e = (n - 1) * strides[i]!;
    if (e < 0) lo += e;
    else hi += e;
  });
  return [lo, hi];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const compactStrides = (s: readonly number[]) => {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i]!;
  }
  return st;
};

/** compact of the view (shape, strides, offset) of random data on both backends, compared bitwise. */
function checkCompact(dtype: DType, shape: readonly number[], strides: readonly number[], offset: number | null, msg: string): void {
  const [lo, hi] = extent(shape, strides);
  const off = offset ?? -lo + randInt(3);
  const len = prod(shape) === 0 ? off + 1 : off + hi + 1 + randInt(3);
  const [c, w] = pair(dtype, randomData(dtype, len));
  const n = prod(shape);
  const oc = zeroed(cpu, dtype, n + 2);
  const ow = zeroed(wasm, dtype, n + 2);
  cpu.compact({ storage: c, offset: off, shape, strides }, { storage: oc, offset: 1 });
  wasm.compact({ storage: w, offset: off, shape, strides }, { storage: ow, offset: 1 });
  assertSame(all(wasm, ow), all(cpu, oc), `${msg} ${dtype} shape [${shape}] strides [${strides}] offset ${off}`);
  release(w, ow);
}

/** setitem and setitemScalar into the view on both backends, the whole destination compared. */
function checkSetitem(dtype: DType, shape: readonly number[], strides: readonly number[], msg: string): void {
  const [lo, hi] = extent(shape, strides);
  const off = -lo + randInt(3);
  const len = off + hi + 1 + randInt(3);
  const n = prod(shape);
  const init = randomData(dtype, len);
  const src = randomData(dtype, n + 1);
  const [dc, dw] = pair(dtype, init);
  const [sc, sw] = pair(dtype, src);
  const dst = (s: Storage): Strided => ({ storage: s, offset: off, shape, strides });
  cpu.setitem(dst(dc), { storage: sc, offset: 1 });
  wasm.setitem(dst(dw), { storage: sw, offset: 1 });
  const what = `${msg} ${dtype} shape [${shape}] strides [${strides}]`;
  assertSame(all(wasm, dw), all(cpu, dc), `setitem ${what}`);
  const v = dtype === 'bool' ? 1 : dtype === 'int32' ? -7 : 0.1;
  cpu.setitemScalar(dst(dc), v);
  wasm.setitemScalar(dst(dw), v);
  assertSame(all(wasm, dw), all(cpu, dc), `setitemScalar ${what}`);
  release(dw, sw);
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

describe('wasm strided copies match the reference', () => {
  test('planCopy merges contiguous dims and finds transposes', () => {
    assert.deepEqual(planCopy([2, 3, 4], [12, 4, 1], [12, 4, 1], 4), { shape: [24], src: [1], dst: [1], transpose: false });
    assert.deepEqual(planCopy([3, 1, 5], [0, 7, 0], [5, 5, 1], 4), { shape: [15], src: [0], dst: [1], transpose: false });
    assert.deepEqual(planCopy([8, 6], [1, 8], [6, 1], 4), { shape: [8, 6], src: [1, 8], dst: [6, 1], transpose: true });
    assert.equal(planCopy([2, 0, 3], [3, 3, 1], [0, 3, 1], 4), null);
    assert.deepEqual(planCopy([], [], [], 8), { shape: [1], src: [0], dst: [0], transpose: false });
  });

  test('permutes of 2-6 d arrays', () => {
    const shapes = [[5, 7], [3, 4, 5], [2, 3, 4, 5], [2, 3, 2, 3, 4], [2, 2, 3, 2, 2, 3]];
    for (const shape of shapes) {
      const st = compactStrides(shape);
      const perms = permutations(shape.length);
      for (let k = 0; k < Math.min(perms.length, 24); k++) {
        const p = perms[(k * 7) % perms.length]!;
        for (const dt of DTYPES) checkCompact(dt, p.map((a) => shape[a]!), p.map((a) => st[a]!), 0, 'permute');
      }
    }
  });

  test('large transposes and permutes (SIMD tiles, threads)', () => {
    for (const dt of DTYPES) {
      checkCompact(dt, [517, 300], [1, 517], 0, 'transpose');
      checkCompact(dt, [64, 33, 130], [1, 64 * 130, 64], 0, 'permute(2,0,1)');
      checkCompact(dt, [7, 130, 90], [90 * 130, 1, 130], 0, 'batched transpose');
    }
    checkCompact('float32', [1024, 1024], [1, 1024], 0, 'transpose 1024');
    checkCompact('float32', [300, 517], [-517, -1], null, 'flip both');
  });

  test('flips, broadcasts, stepped slices and offsets', () => {
    for (const dt of DTYPES) {
      checkCompact(dt, [6, 5], [-5, 1], null, 'flip 0');
      checkCompact(dt, [6, 5], [5, -1], null, 'flip 1');
      checkCompact(dt, [6, 5], [-1, -6], null, 'flip transposed');
      checkCompact(dt, [4, 3, 50], [0, 50, 1], 0, 'broadcast lead');
      checkCompact(dt, [4, 3, 50], [3, 1, 0], 0, 'broadcast last');
      checkCompact(dt, [3, 1000], [1, 0], 0, 'broadcast long row');
      checkCompact(dt, [200000], [0], 5, 'broadcast scalar (threads)');
      checkCompact(dt, [5, 7], [40, 2], 3, 'step 2');
      checkCompact(dt, [5, 33], [100, 3], 3, 'step 3');
      checkCompact(dt, [9, 31], [-70, -2], null, 'negative step 2');
      checkCompact(dt, [300, 400], [1000, 2], 11, 'step 2 large');
      checkCompact(dt, [2, 300000], [300001, 1], 7, 'long rows (threads)');
    }
  });

  test('the convolution im2col view, plain and strided', () => {
    const [N, C, H, W] = [2, 3, 9, 10];
    const sp = [C * H * W, H * W, W, 1];
    for (const dt of ['float32', 'float64'] as DType[]) {
      // (N, C, kh, kw, oh, ow) windows of a 3x3 kernel, stride 1 and stride 2
      checkCompact(dt, [N, C, 3, 3, H - 2, W - 2], [sp[0]!, sp[1]!, W, 1, W, 1], 0, 'im2col');
      checkCompact(dt, [N, C, 3, 3, 4, 4], [sp[0]!, sp[1]!, W, 1, 2 * W, 2], 0, 'im2col stride 2');
    }
    checkCompact('float32', [4, 16, 3, 3, 30, 30], [16 * 1024, 1024, 32, 1, 32, 1], 0, 'im2col large');
  });

  test('0-size, 1-size and 0-d layouts', () => {
    for (const dt of DTYPES) {
      checkCompact(dt, [], [], 2, '0-d');
      checkCompact(dt, [1, 1, 1], [5, 0, -3], 2, 'all ones');
      checkCompact(dt, [3, 0, 4], [4, 4, 1], 0, 'empty');
      checkCompact(dt, [0], [1], 0, 'empty 1-d');
      checkCompact(dt, [1, 5, 1, 3], [0, 1, 9, 5], 0, 'size-1 dims');
    }
  });

  test('random layouts, up to 9 dims (beyond 8 falls back)', () => {
    for (let t = 0; t < 150; t++) {
      const nd = randInt(10);
      const shape = Array.from({ length: nd }, () => (rand() < 0.05 ? 0 : 1 + randInt(nd > 5 ? 3 : 6)));
      const strides = shape.map(() => (rand() < 0.15 ? 0 : (randInt(9) + 1) * (rand() < 0.3 ? -1 : 1)));
      checkCompact(DTYPES[t % 4]!, shape, strides, null, 'random');
    }
  });

  test('setitem and setitemScalar into strided views', () => {
    for (const dt of DTYPES) {
      checkSetitem(dt, [5, 7], [1, 5], 'transposed');
      checkSetitem(dt, [130, 70], [1, 130], 'large transposed');
      checkSetitem(dt, [4, 6], [-12, 2], 'flipped stepped');
      checkSetitem(dt, [3, 4, 5], [40, 10, 1], 'slice of rows');
      checkSetitem(dt, [2, 150001], [150002, 1], 'long rows');
      checkSetitem(dt, [3, 0, 2], [2, 2, 1], 'empty');
      checkSetitem(dt, [], [], '0-d');
      checkSetitem(dt, [2, 3, 2, 3, 2], [1, 2, 6, 12, 36], 'reversed dims');
    }
  });
});

// ---- reductions ----------------------------------------------------------------------------

const OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'prod', 'argmax', 'argmin'];

/** Values with ties, signed zeros, infinities and (optionally) NaN. */
function reduceData(n: number, specials: boolean, nan: boolean, forProd = false): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (specials && u < 0.02) out[i] = [Infinity, -Infinity, 0, -0][randInt(4)]!;
    else if (nan && u < 0.025) out[i] = NaN;
    else if (u < 0.3) out[i] = randInt(5) - 2; // ties
    else out[i] = forProd ? 0.6 + rand() * 0.8 : rand() * 200 - 100;
  }
  return out;
}

function checkReduce(op: ReduceOp, dt: 'float32' | 'float64', outer: number, size: number, data: readonly number[], msg: string): void {
  const [c, w] = pair(dt, data);
  const od: DType = op === 'argmax' || op === 'argmin' ? 'int32' : dt;
  const oc = zeroed(cpu, od, outer + 1);
  const ow = zeroed(wasm, od, outer + 1);
  cpu.reduce(op, { storage: c, offset: 0 }, { storage: oc, offset: 1 }, outer, size);
  wasm.reduce(op, { storage: w, offset: 0 }, { storage: ow, offset: 1 }, outer, size);
  const a = all(wasm, ow);
  const e = all(cpu, oc);
  release(w, ow);
  const what = `${op} ${dt} ${msg} outer ${outer} size ${size}`;
  if (op !== 'sum' && op !== 'prod') {
    assertSame(a, e, what);
    return;
  }
  // sums and products: float64 accumulation in another order
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    let scale = 0; // sum of magnitudes of the row (the error bound's scale)
    for (let k = 0; k < size && i >= 1; k++) scale += Math.abs(data[(i - 1) * size + k]!);
    const tol = op === 'sum' ? 1e-13 * scale + (dt === 'float32' ? 4e-7 * Math.abs(y) : 0) : 1e-12 * Math.abs(y) + (dt === 'float32' ? 4e-7 * Math.abs(y) : 0);
    assert.ok(Math.abs(x - y) <= tol, `${what}: row ${i - 1} is ${x}, expected ${y}`);
  }
}

describe('wasm reductions match the reference', () => {
  const sizes = [1, 2, 3, 7, 10, 16, 17, 33, 1023];
  test('every op, dtype and row length, with NaN, infinities, signed zeros and ties', () => {
    for (const dt of ['float32', 'float64'] as const) {
      for (const op of OPS) {
        for (const size of sizes) {
          for (const outer of [1, 2, 3, 7, 10]) {
            const n = outer * size;
            checkReduce(op, dt, outer, size, reduceData(n, true, false, op === 'prod'), 'specials');
            checkReduce(op, dt, outer, size, reduceData(n, true, true, op === 'prod'), 'with NaN');
          }
        }
      }
    }
  });

  test('many short rows (threads) and long rows (pieces)', () => {
    for (const dt of ['float32', 'float64'] as const) {
      for (const op of OPS) {
        checkReduce(op, dt, 100003, 2, reduceData(200006, true, false, op === 'prod'), 'many rows');
        checkReduce(op, dt, 1023, 10, reduceData(10230, true, true, op === 'prod'), 'softmax rows');
        checkReduce(op, dt, 1, 100003, reduceData(100003, false, false, op === 'prod'), 'one long row');
        checkReduce(op, dt, 3, 100003, reduceData(300009, true, false, op === 'prod'), 'three long rows');
      }
    }
  });

  test('long rows: a NaN late, the extreme late, signed zero extremes, all-equal rows', () => {
    for (const dt of ['float32', 'float64'] as const) {
      const n = 40000;
      const late = Array.from({ length: n }, (_, i) => Math.sin(i));
      late[35000] = NaN;
      late[39999] = NaN;
      const peak = Array.from({ length: n }, (_, i) => Math.cos(i));
      peak[33333] = 5;
      peak[36000] = 5;
      peak[20] = -5;
      peak[39990] = -5;
      const zeros = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : -1));
      const negZeros = Array.from({ length: n }, (_, i) => (i === 30000 ? -0 : i > 30000 ? 0 : -2));
      const flat = new Array<number>(n).fill(-Infinity);
      for (const op of OPS) {
        for (const [name, d] of [['late NaN', late], ['late peak', peak], ['zeros', zeros], ['-0 first', negZeros], ['all -inf', flat]] as const) {
          checkReduce(op, dt, 1, n, d, name);
          checkReduce(op, dt, 2, n / 2, d, name);
          checkReduce(op, dt, 40, n / 40, d, name);
        }
      }
    }
  });

  test('int32 and bool inputs use the reference', () => {
    const [c, w] = pair('int32', [3, -1, 4, 1, -5, 9]);
    for (const op of OPS) {
      const oc = zeroed(cpu, 'int32', 2);
      const ow = zeroed(wasm, 'int32', 2);
      cpu.reduce(op, { storage: c, offset: 0 }, { storage: oc, offset: 0 }, 2, 3);
      wasm.reduce(op, { storage: w, offset: 0 }, { storage: ow, offset: 0 }, 2, 3);
      assertSame(all(wasm, ow), all(cpu, oc), `${op} int32`);
    }
  });
});

// ---- argmax / argmin over the middle axis (reduceAxis) -----------------------------------

/** reduceAxis arg* of (outer, size, inner) data on both backends (input offset 2, output offset 1), bitwise. */
function checkArgAxis(op: 'argmax' | 'argmin', dt: 'float32' | 'float64', outer: number, size: number, inner: number, data: readonly number[], msg: string): void {
  const [c, w] = pair(dt, [0.5, -0.5, ...data]);
  const n = outer * inner;
  const oc = zeroed(cpu, 'int32', n + 2);
  const ow = zeroed(wasm, 'int32', n + 2);
  cpu.reduceAxis!(op, { storage: c, offset: 2 }, { storage: oc, offset: 1 }, outer, size, inner);
  wasm.reduceAxis!(op, { storage: w, offset: 2 }, { storage: ow, offset: 1 }, outer, size, inner);
  const a = all(wasm, ow);
  const e = all(cpu, oc);
  release(w, ow);
  assertSame(a, e, `reduceAxis ${op} ${dt} ${msg} (${outer}, ${size}, ${inner})`);
}

describe('wasm reduceAxis argmax / argmin match the reference', () => {
  const ARGS = ['argmax', 'argmin'] as const;
  test('many shapes, inner = 1 and inner > 1, with NaN, infinities, signed zeros and ties', () => {
    const shapes: [number, number, number][] = [];
    for (const outer of [1, 2, 5]) {
      for (const size of [1, 2, 3, 7, 16, 17, 33]) {
        for (const inner of [1, 2, 3, 7, 8, 9, 16, 17, 31]) shapes.push([outer, size, inner]);
      }
    }
    shapes.push([1, 1023, 1], [3, 100003, 1], [1, 5, 1031], [7, 1, 9], [2, 40000, 3]);
    for (const dt of ['float32', 'float64'] as const) {
      for (const op of ARGS) {
        for (const [outer, size, inner] of shapes) {
          const n = outer * size * inner;
          checkArgAxis(op, dt, outer, size, inner, reduceData(n, true, false), 'specials');
          checkArgAxis(op, dt, outer, size, inner, reduceData(n, true, true), 'with NaN');
        }
      }
    }
  });

  test('structured columns: NaN first / late / everywhere, all equal, -0 and +0 ties, infinities', () => {
    const size = 37;
    const cols: ((r: number) => number)[] = [
      (r) => (r === 0 ? NaN : r), // NaN in row 0 wins
      (r) => (r === 20 || r === 30 ? NaN : Math.sin(r)), // the first of two NaN
      () => NaN,
      () => 3, // all equal: index 0
      (r) => (r % 2 === 0 ? -0 : 0), // signed zero ties: index 0
      (r) => (r % 2 === 0 ? 0 : -0),
      (r) => (r < 5 ? -1 : r % 3 === 0 ? -0 : 0), // the first zero wins for argmax
      () => Infinity,
      () => -Infinity,
      (r) => (r === 36 ? Infinity : r === 35 ? -Infinity : 0), // extremes in the last rows
      (r) => (r === 10 || r === 25 ? 7 : r === 12 || r === 31 ? -7 : 1), // repeated extremes: the first
      (r) => (r === 36 ? NaN : r === 3 ? 1e30 : -r), // NaN in the last row
      (r) => (r === 0 ? -Infinity : r === 1 ? NaN : 2), // -inf first, then NaN
      (r) => -r - 0.5, // decreasing: argmax 0, argmin last
    ];
    for (const inner of [cols.length, 8, 3, 1, 2 * cols.length + 3]) {
      for (const outer of [1, 3]) {
        const data: number[] = [];
        for (let q = 0; q < outer; q++) {
          for (let r = 0; r < size; r++) {
            for (let i = 0; i < inner; i++) data.push(cols[(i + q) % cols.length]!(r));
          }
        }
        for (const dt of ['float32', 'float64'] as const) {
          for (const op of ARGS) checkArgAxis(op, dt, outer, size, inner, data, 'structured');
        }
      }
    }
  });

  test('large inputs split over threads', () => {
    for (const dt of ['float32', 'float64'] as const) {
      for (const op of ARGS) {
        checkArgAxis(op, dt, 4, 300, 2053, reduceData(4 * 300 * 2053, true, true), 'large');
        checkArgAxis(op, dt, 2000, 64, 9, reduceData(2000 * 64 * 9, true, false), 'many blocks');
      }
    }
  });

  test('float inputs run in WebAssembly (the reference kernels are not called)', () => {
    const saved = [cpuStrided.reduceAxis, cpuBackend.reduce] as const;
    cpuStrided.reduceAxis = () => assert.fail('reduceAxis fell back to the reference');
    cpuBackend.reduce = () => assert.fail('reduce fell back to the reference');
    try {
      for (const dt of ['float32', 'float64'] as const) {
        for (const inner of [1, 5, 8]) {
          const w = zeroed(wasm, dt, 3 * 4 * inner);
          wasm.write(w, 0, reduceData(3 * 4 * inner, true, true));
          const o = zeroed(wasm, 'int32', 3 * inner);
          for (const op of ARGS) wasm.reduceAxis!(op, { storage: w, offset: 0 }, { storage: o, offset: 0 }, 3, 4, inner);
          release(w, o);
        }
      }
    } finally {
      cpuStrided.reduceAxis = saved[0];
      cpuBackend.reduce = saved[1];
    }
  });

  test('float32 inputs that round to ties keep the first index', () => {
    // float32 rounding of nearby doubles gives exact ties: the first index must win
    const size = 9;
    const inner = 11;
    const data = Array.from({ length: size * inner }, (_, k) => 1 + ((k * 7919) % 5) * 1e-9);
    for (const op of ARGS) checkArgAxis(op, 'float32', 1, size, inner, data, 'float32 ties');
  });
});

// ---- gather / scatterAdd -----------------------------------------------------------------

function checkGatherScatter(dt: DType, outer: number, dim: number, idxDim: number, inner: number): void {
  const spec: AxisSpec = { outer, inner, dim, idxDim };
  const [sc, sw] = pair(dt, randomData(dt, outer * dim * inner));
  const idx = Array.from({ length: outer * idxDim * inner }, () => randInt(Math.min(dim, 3 + randInt(dim))));
  const [ic, iw] = pair('int32', idx);
  const n = outer * idxDim * inner;
  const oc = zeroed(cpu, dt, n);
  const ow = zeroed(wasm, dt, n);
  cpu.gather({ storage: sc, offset: 0 }, { storage: ic, offset: 0 }, { storage: oc, offset: 0 }, spec);
  wasm.gather({ storage: sw, offset: 0 }, { storage: iw, offset: 0 }, { storage: ow, offset: 0 }, spec);
  const what = `${dt} outer ${outer} dim ${dim} idxDim ${idxDim} inner ${inner}`;
  assertSame(all(wasm, ow), all(cpu, oc), `gather ${what}`);
  release(sw, ow);
  if (dt === 'bool') {
    release(iw);
    return;
  }
  const [bc, bw] = pair(dt, randomData(dt, outer * dim * inner));
  const [xc, xw] = pair(dt, randomData(dt, n));
  cpu.scatterAdd({ storage: bc, offset: 0 }, { storage: ic, offset: 0 }, { storage: xc, offset: 0 }, spec);
  wasm.scatterAdd({ storage: bw, offset: 0 }, { storage: iw, offset: 0 }, { storage: xw, offset: 0 }, spec);
  assertSame(all(wasm, bw), all(cpu, bc), `scatterAdd ${what}`);
  release(iw, bw, xw);
}

describe('wasm gather and scatterAdd match the reference', () => {
  test('random indices, repeated indices, every dtype', () => {
    for (const dt of DTYPES) {
      checkGatherScatter(dt, 1, 10, 7, 1);
      checkGatherScatter(dt, 5, 4, 9, 3);
      checkGatherScatter(dt, 3, 1, 4, 5);
      checkGatherScatter(dt, 64, 100, 1, 1); // cross-entropy's pick
      checkGatherScatter(dt, 1, 50, 1200, 64); // embedding rows (threads over columns)
      checkGatherScatter(dt, 20000, 10, 4, 1); // threads over slabs
    }
  });
});
