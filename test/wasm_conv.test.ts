// The window kernels (the optional Backend members im2col / col2im):
// - the wasm kernels (assembly/conv.ts) against the reference (cpu/conv.ts), bitwise, on many
//   geometries (stride, padding on either side and beyond the kernel, dilation, odd sizes, 1x1
//   kernels, one-row images, one plane, sizes large enough for the thread split) and dtypes
//   (float32, float64, int32, and bool, which takes the reference path);
// - the op layer with the members against its fallback (a copy of the default backend without
//   them): im2col / col2im / conv2d / conv1d / fold / avgPool2d values, non-contiguous inputs,
//   float32 and float64;
// - first and second derivatives through implicit padding (float64 finite differences), and the
//   adjointness of padded im2col / col2im.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { getBackend, type Backend, type Im2colSpec, type Storage } from '../src/ndarray/backend.js';
import type { AnyTypedArray, DType } from '../src/ndarray/dtype.js';
import { cpuWindows, WINDOW_MEMBERS, windowRange } from '../src/ndarray/cpu/conv.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { setMatmulPath, type MatmulPath } from '../src/ndarray/wasm/matmul.js';
import { windowCount, type WindowOptions } from '../src/ops/conv.js';
import { assertClose, assertThrows, mulberry32 } from './helpers.js';

const wasm = getBackend('wasm');
const cpu = getBackend('cpu');

before(async () => {
  const rt = wasmRuntime!;
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});

const rand = mulberry32(4321);

function randomData(dtype: DType, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') out[i] = rand() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') out[i] = Math.floor(rand() * 2001) - 1000;
    else out[i] = rand() * 20 - 10;
  }
  return out;
}

/** Storage of `be` holding `data`. */
function stored(be: Backend, dtype: DType, data: readonly number[]): Storage {
  const s = be.allocate(dtype, data.length);
  be.write(s, 0, data);
  return s;
}

/** Storage of `be` filled with a marker (the kernels must overwrite every element). */
function garbage(be: Backend, dtype: DType, n: number): Storage {
  const s = be.allocate(dtype, n);
  be.fill({ storage: s, offset: 0 }, n, dtype === 'bool' ? 1 : 7);
  return s;
}

/** Bitwise equality (NaN == NaN, -0 != 0). */
function assertSame(actual: AnyTypedArray, expected: AnyTypedArray, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${msg}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** A geometry from image size, kernel, stride, dilation and padding (before, after) per dim. */
function geometry(planes: number, h: number, w: number, k: [number, number], s: [number, number], d: [number, number], pad: [[number, number], [number, number]]): Im2colSpec {
  const oh = windowCount(h + pad[0][0] + pad[0][1], k[0], s[0], d[0]);
  const ow = windowCount(w + pad[1][0] + pad[1][1], k[1], s[1], d[1]);
  return { planes, h, w, oh, ow, kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], ph: pad[0][0], pw: pad[1][0] };
}

const CASES: [string, Im2colSpec][] = [
  ['3x3, padding 1 (conv2d "same")', geometry(6, 9, 10, [3, 3], [1, 1], [1, 1], [[1, 1], [1, 1]])],
  ['3x3, no padding', geometry(5, 8, 7, [3, 3], [1, 1], [1, 1], [[0, 0], [0, 0]])],
  ['stride 2, padding 1, odd sizes', geometry(3, 11, 13, [3, 3], [2, 2], [1, 1], [[1, 1], [1, 1]])],
  ['stride (3, 2), dilation (2, 3), asymmetric padding', geometry(4, 17, 19, [3, 2], [3, 2], [2, 3], [[2, 0], [0, 3]])],
  ['disjoint windows (stride 3, kernel 2)', geometry(2, 9, 9, [2, 2], [3, 3], [1, 1], [[0, 0], [0, 0]])],
  ['padding beyond the kernel (windows in the padding only)', geometry(3, 4, 5, [2, 3], [1, 2], [1, 1], [[3, 4], [4, 3]])],
  ['1x1 kernel, stride 2', geometry(4, 7, 9, [1, 1], [2, 2], [1, 1], [[0, 0], [0, 0]])],
  ['one plane, 5x5 kernel, padding 2', geometry(1, 6, 6, [5, 5], [1, 1], [1, 1], [[2, 2], [2, 2]])],
  ['one-row images (conv1d), dilation 2, padding 3', geometry(7, 1, 37, [1, 4], [1, 1], [1, 2], [[0, 0], [3, 3]])],
  ['a one-element image', geometry(2, 1, 1, [1, 1], [1, 1], [1, 1], [[0, 0], [0, 0]])],
  ['rows of 1..3 elements (SIMD tails)', geometry(3, 5, 3, [2, 2], [1, 1], [1, 1], [[0, 0], [0, 1]])],
  // rows of whole vectors, padding beyond the kernel, one-row images of 32
  ['3x3, padding 1, width 16', geometry(5, 8, 16, [3, 3], [1, 1], [1, 1], [[1, 1], [1, 1]])],
  ['stride (2, 1), dilation (1, 2), width 12', geometry(3, 9, 12, [3, 3], [2, 1], [1, 2], [[1, 1], [2, 2]])],
  ['padding beyond the kernel', geometry(2, 5, 4, [3, 5], [1, 1], [1, 1], [[3, 3], [6, 6]])],
  ['asymmetric padding, odd width 7', geometry(4, 6, 7, [2, 2], [1, 1], [1, 1], [[0, 0], [0, 2]])],
  ['one-row images, width 32, padding 1', geometry(3, 1, 32, [1, 3], [1, 1], [1, 1], [[0, 0], [1, 1]])],
  ['large: the thread split (128 planes of 24x24, 3x3, padding 1)', geometry(128, 24, 24, [3, 3], [1, 1], [1, 1], [[1, 1], [1, 1]])],
  ['large, stride 2 (64 planes of 33x31, 3x3, padding 1)', geometry(64, 33, 31, [3, 3], [2, 2], [1, 1], [[1, 1], [1, 1]])],
];

describe('wasm im2col / col2im against the reference, bitwise', () => {
  // with the system BLAS doing the matmuls the kernels run on one thread: take the threaded path
  let prev: MatmulPath = 'auto';
  before(() => {
    prev = setMatmulPath('wasm');
  });
  after(() => {
    setMatmulPath(prev);
  });
  for (const [name, sp] of CASES) {
    const nImg = sp.planes * sp.h * sp.w;
    const nCols = sp.planes * sp.kh * sp.kw * sp.oh * sp.ow;
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
      test(`im2col ${name}, ${dtype}`, () => {
        const data = randomData(dtype, nImg + 3);
        // at an offset: the kernels must honor Dense.offset
        const img = { storage: stored(wasm, dtype, data), offset: 3 };
        const mine = garbage(wasm, dtype, nCols + 1);
        wasm.im2col!(img, { storage: mine, offset: 1 }, sp);
        const ref = garbage(cpu, dtype, nCols + 1);
        cpuWindows.im2col({ storage: stored(cpu, dtype, data), offset: 3 }, { storage: ref, offset: 1 }, sp);
        assertSame(wasm.readSync(mine, 0, nCols + 1), cpu.readSync(ref, 0, nCols + 1), 'columns');
      });
    }
    for (const dtype of ['float32', 'float64'] as DType[]) {
      test(`col2im ${name}, ${dtype}`, () => {
        const data = randomData(dtype, nCols + 2);
        const mine = garbage(wasm, dtype, nImg + 2);
        wasm.col2im!({ storage: stored(wasm, dtype, data), offset: 2 }, { storage: mine, offset: 2 }, sp);
        const ref = garbage(cpu, dtype, nImg + 2);
        cpuWindows.col2im({ storage: stored(cpu, dtype, data), offset: 2 }, { storage: ref, offset: 2 }, sp);
        assertSame(wasm.readSync(mine, 0, nImg + 2), cpu.readSync(ref, 0, nImg + 2), 'image');
      });
    }
  }

  test('the reference is the definition: cols[p, i, j, y, x] = img[p, y*sh + i*dh - ph, x*sw + j*dw - pw] or 0', () => {
    const sp = geometry(2, 5, 6, [2, 3], [2, 1], [2, 1], [[1, 2], [2, 0]]);
    const data = randomData('float64', sp.planes * sp.h * sp.w);
    const out = cpu.allocate('float64', sp.planes * sp.kh * sp.kw * sp.oh * sp.ow);
    cpuWindows.im2col({ storage: stored(cpu, 'float64', data), offset: 0 }, { storage: out, offset: 0 }, sp);
    const cols = cpu.readSync(out, 0, out.length);
    let q = 0;
    for (let p = 0; p < sp.planes; p++) {
      for (let i = 0; i < sp.kh; i++) {
        for (let j = 0; j < sp.kw; j++) {
          for (let y = 0; y < sp.oh; y++) {
            for (let x = 0; x < sp.ow; x++) {
              const r = y * sp.sh + i * sp.dh - sp.ph;
              const c = x * sp.sw + j * sp.dw - sp.pw;
              const inside = r >= 0 && r < sp.h && c >= 0 && c < sp.w;
              assert.equal(cols[q++], inside ? data[(p * sp.h + r) * sp.w + c] : 0);
            }
          }
        }
      }
    }
  });

  test('windowRange: the positions whose element lies inside', () => {
    for (const [off, s, size, n] of [[-3, 2, 5, 6], [2, 3, 10, 4], [-7, 1, 3, 4], [4, 1, 3, 5], [0, 1, 4, 4]]) {
      const [lo, hi] = windowRange(off!, s!, size!, n!);
      for (let x = 0; x < n!; x++) {
        const inside = x * s! + off! >= 0 && x * s! + off! < size!;
        assert.equal(x >= lo && x < hi, inside, `off ${off} stride ${s} size ${size} x ${x}`);
      }
    }
  });
});

// ------------------------------------------------------------------ the op layer: members vs fallback

const DEVICE = nd.getDefaultDevice();
/** The default device's backend without its window members: the op layer takes its fallbacks. */
const PLAIN = `${DEVICE}-nowindows`;
{
  const copy: Record<string, unknown> = { ...nd.getBackend(DEVICE), name: PLAIN };
  for (const k of WINDOW_MEMBERS) delete copy[k];
  nd.registerBackend(copy as unknown as Backend);
}

const onDevice = (t: nd.Tensor, device: string) => nd.tensor(t.dataSync(), { shape: [...t.shape], dtype: t.dtype, device });
const randn = (shape: number[], dtype: DType) => nd.tensor(Float64Array.from(randomData('float64', shape.reduce((a, b) => a * b, 1))), { shape, dtype, device: DEVICE });

/** Runs `fn` on the default device and on its copy without window members; same values. */
function bothPaths(fn: (device: string) => nd.Tensor, msg: string, tol = 0): void {
  const a = fn(DEVICE);
  const b = fn(PLAIN);
  assert.deepEqual([...a.shape], [...b.shape], `${msg}: shape`);
  assertClose(Array.from(a.dataSync(), Number), Array.from(b.dataSync(), Number), { atol: tol, rtol: tol, msg });
}

describe(`im2col / col2im on ${DEVICE}: the backend members against the fallback`, () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    test(`im2col and col2im with padding, stride, dilation (2-D and 1-D), ${dtype}`, () => {
      const x = randn([2, 3, 9, 8], dtype);
      const opts = { stride: [2, 1], dilation: [1, 2], padding: [[1, 2], [0, 3]] as [number, number][] };
      bothPaths((d) => nd.im2col(onDevice(x, d), [3, 2], opts), 'im2col 2-D');
      const c = randn([2, 3, 5, 9, 3, 2], dtype);
      // the fallback adds the offsets in the same order: equal up to the sign of zeros
      bothPaths((d) => nd.col2im(onDevice(c, d), [9, 8], [3, 2], opts), 'col2im 2-D');
      const x1 = randn([4, 2, 13], dtype);
      bothPaths((d) => nd.im2col(onDevice(x1, d), [3], { stride: 2, padding: 2 }), 'im2col 1-D');
      const c1 = randn([4, 2, 8, 3], dtype);
      bothPaths((d) => nd.col2im(onDevice(c1, d), [13], [3], { stride: 2, padding: 2 }), 'col2im 1-D');
    });

    test(`non-contiguous inputs (permuted, sliced), ${dtype}`, () => {
      const x = randn([3, 2, 10, 9], dtype);
      bothPaths((d) => nd.im2col(nd.permute(onDevice(x, d), [1, 0, 3, 2]), [3, 3], { padding: 1 }), 'im2col of a permute');
      bothPaths((d) => nd.im2col(onDevice(x, d).get(':', ':', '1::2'), [2, 2], { padding: [1, 0] }), 'im2col of a stepped slice');
      const c = randn([2, 3, 3, 3, 8, 8], dtype);
      // (N, C, kh, kw, oh, ow) permuted to the documented (N, C, oh, ow, kh, kw): the compact layout
      bothPaths((d) => nd.col2im(nd.permute(onDevice(c, d), [0, 1, 4, 5, 2, 3]), [8, 8], [3, 3], { padding: 1 }), 'col2im of the matmul layout');
      // a layout that is not the kernel's: the op compacts first
      bothPaths((d) => nd.col2im(nd.permute(onDevice(c, d), [1, 0, 5, 4, 3, 2]), [8, 8], [3, 3], { padding: 1 }), 'col2im of another permute');
    });

    test(`conv2d / conv1d forward and gradients, fold, avgPool2d, ${dtype}`, () => {
      const tol = dtype === 'float32' ? 1e-5 : 1e-12;
      const x = randn([2, 4, 9, 7], dtype);
      const wg = randn([6, 2, 3, 3], dtype);
      const w1 = randn([6, 4, 3, 3], dtype);
      const grads = (d: string, which: 0 | 1, opts: nd.ConvOptions) => {
        const w = opts.groups === 2 ? wg : w1;
        const xs = onDevice(x, d).requiresGrad_(true);
        const ws = onDevice(w, d).requiresGrad_(true);
        const y = nd.conv2d(xs, ws, null, opts);
        nd.sum(nd.mul(y, y)).backward();
        return which === 0 ? xs.grad! : ws.grad!;
      };
      const optsList: nd.ConvOptions[] = [
        { padding: 1 }, { padding: 'same', dilation: 2 }, { stride: [2, 1], padding: [0, 2], dilation: [1, 2] },
        { padding: 1, groups: 2 }, { stride: 2, padding: [2, 1], groups: 2 },
      ];
      for (const opts of optsList) {
        const w = opts.groups === 2 ? wg : w1;
        bothPaths((d) => nd.conv2d(onDevice(x, d), onDevice(w, d), null, opts), `conv2d ${JSON.stringify(opts)}`, tol);
        bothPaths((d) => grads(d, 0, opts), `conv2d dX ${JSON.stringify(opts)}`, tol);
        bothPaths((d) => grads(d, 1, opts), `conv2d dW ${JSON.stringify(opts)}`, tol);
      }
      const xl = randn([3, 4, 11], dtype);
      const wl = randn([2, 4, 4], dtype);
      bothPaths((d) => nd.conv1d(onDevice(xl, d), onDevice(wl, d), null, { padding: 'same' }), 'conv1d same (asymmetric padding)', tol);
      const cols = randn([2, 4 * 9, 30], dtype);
      bothPaths((d) => nd.fold(onDevice(cols, d), [9, 11], 3, { padding: 1, stride: 2 }), 'fold', tol);
      bothPaths((d) => nd.avgPool2d(onDevice(x, d), 3, { padding: 1, stride: 2, countIncludePad: false }), 'avgPool2d', tol);
    });
  }

  test('the chunked convolution: chunks of several samples and a remainder, one-sided gradients, forward mode', () => {
    // 144 x 6400 column elements a sample: chunks of 2 samples (2, 2, 1)
    const x = randn([5, 16, 80, 80], 'float32');
    const w = randn([4, 16, 3, 3], 'float32');
    const tol = 2e-4;
    const run = (d: string, gx: boolean, gw: boolean) => {
      const xs = onDevice(x, d).requiresGrad_(gx);
      const ws = onDevice(w, d).requiresGrad_(gw);
      const y = nd.conv2d(xs, ws, null, { padding: 1 });
      nd.sum(nd.mul(y, y)).backward();
      return [y, xs.grad, ws.grad] as const;
    };
    for (const [gx, gw] of [[true, true], [true, false], [false, true]]) {
      const [ya, xa, wa] = run(DEVICE, gx, gw);
      const [yb, xb, wb] = run(PLAIN, gx, gw);
      assertClose(ya, yb, { atol: tol, rtol: tol, msg: 'forward' });
      assert.equal(xa === null, !gx);
      assert.equal(wa === null, !gw);
      if (gx) assertClose(xa!, xb!, { atol: tol, rtol: tol, msg: 'dX' });
      if (gw) assertClose(wa!, wb!, { atol: 1e-2, rtol: tol, msg: 'dW' });
    }
    // forward mode: conv is linear in each argument
    const xs = randn([2, 3, 7, 6], 'float64');
    const ws = randn([4, 3, 3, 2], 'float64');
    const tx = randn([2, 3, 7, 6], 'float64');
    const tw = randn([4, 3, 3, 2], 'float64');
    const [, t] = nd.autograd.jvp((a, b) => nd.conv2d(a!, b!, null, { padding: [1, 0], stride: [1, 2] }), [xs, ws], [tx, tw]);
    const want = nd.add(nd.conv2d(tx, ws, null, { padding: [1, 0], stride: [1, 2] }), nd.conv2d(xs, tw, null, { padding: [1, 0], stride: [1, 2] }));
    assertClose(t, want, { atol: 1e-12, rtol: 1e-12 });
  });

  test('int32 and bool windows (im2col copies any dtype; col2im of int32 takes the fallback)', () => {
    const xi = nd.tensor(Int32Array.from(randomData('int32', 2 * 7 * 6)), { shape: [2, 7, 6], dtype: 'int32', device: DEVICE });
    bothPaths((d) => nd.im2col(onDevice(xi, d), [2, 3], { padding: 1 }), 'im2col int32');
    const xb = nd.tensor(Uint8Array.from(randomData('bool', 2 * 7 * 6)), { shape: [2, 7, 6], dtype: 'bool', device: DEVICE });
    bothPaths((d) => nd.im2col(onDevice(xb, d), [2, 3], { padding: [[1, 0], [0, 2]] }), 'im2col bool');
    const ci = nd.tensor(Int32Array.from(randomData('int32', 2 * 8 * 6 * 2 * 3)), { shape: [2, 8, 6, 2, 3], dtype: 'int32', device: DEVICE });
    bothPaths((d) => nd.col2im(onDevice(ci, d), [7, 6], [2, 3], { padding: 1 }), 'col2im int32');
  });

  test('empty batches and channels', () => {
    for (const shape of [[0, 3, 5, 5], [2, 0, 5, 5]]) {
      const x = nd.zeros(shape, { device: DEVICE });
      const cols = nd.im2col(x, [3, 3], { padding: 1 });
      assert.deepEqual([...cols.shape], [...shape, 3, 3]);
      assert.deepEqual([...nd.col2im(cols, [5, 5], [3, 3], { padding: 1 }).shape], shape);
    }
  });
});

describe('implicit padding: adjointness, derivatives, errors', () => {
  const f64 = { dtype: 'float64' as const };
  test('padded im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>', () => {
    for (const [shape, kernel, opts] of [
      [[2, 3, 7, 6], [3, 2], { stride: [2, 1], dilation: [1, 2], padding: [[2, 1], [0, 3]] }],
      [[2, 2, 9], [3], { padding: 4, stride: 2 }],
      [[1, 2, 3, 3, 4], [2, 2, 3], { padding: 1 }], // three spatial dims: the fallback
    ] as [number[], number[], WindowOptions][]) {
      const x = nd.randn(shape, f64);
      const cols = nd.im2col(x, kernel, opts);
      const c = nd.randn([...cols.shape], f64);
      const back = nd.col2im(c, shape.slice(shape.length - kernel.length), kernel, opts);
      assert.deepEqual([...back.shape], shape);
      const lhs = nd.sum(nd.mul(cols, c)).item();
      const rhs = nd.sum(nd.mul(x, back)).item();
      assert.ok(Math.abs(lhs - rhs) < 1e-9 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
    }
  });

  test('conv2d with padding: first and second derivatives by finite differences', () => {
    const x = nd.randn([1, 2, 5, 4], f64).requiresGrad_(true);
    const w = nd.randn([3, 2, 3, 3], f64).requiresGrad_(true);
    nd.autograd.gradcheck((a, b) => nd.conv2d(a!, b!, null, { padding: [1, 2], stride: [2, 1] }), [x, w]);
    // a second derivative: the gradient of <dX, v> with respect to the weight
    const v = nd.randn([1, 2, 5, 4], f64);
    nd.autograd.gradcheck((b) => {
      const xs = x.detach().requiresGrad_(true);
      const y = nd.conv2d(xs, b!, null, { padding: 1 });
      const [gx] = nd.autograd.grad(nd.sum(nd.square(y)), [xs], { createGraph: true });
      return nd.sum(nd.mul(gx!, v));
    }, [w]);
  });

  test('padding errors name the op and the argument', () => {
    const x = nd.randn([1, 1, 4, 4]);
    assertThrows(() => nd.im2col(x, [2, 2], { padding: -1 }), RangeError, /^im2col: padding of integers >= 0/);
    assertThrows(() => nd.im2col(x, [2, 2], { padding: [[1, 1]] }), RangeError, /^im2col: padding with 2 \[before, after\] pairs/);
    assertThrows(() => nd.im2col(x, [2, 2], { padding: [[1, 1], [1, 0.5]] }), TypeError, /^im2col: padding pairs of integers/);
    assertThrows(() => nd.im2col(x, [7, 2], { padding: 1 }), RangeError, /^im2col: a \(dilated\) kernel of size at most the padded input size 6 in spatial dim 0, got 7/);
    assertThrows(() => nd.col2im(nd.randn([1, 1, 5, 5, 2, 2]), [4, 4], [2, 2]), RangeError, /^col2im: trailing dims \[3,3,2,2\]/);
  });
});
