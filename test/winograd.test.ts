// Winograd F(4x4, 3x3) convolution (src/ops/winograd.ts, assembly/winograd.ts):
// - the wasm tile-transform kernels against the reference (cpu/winograd.ts) on odd geometries
//   (padding 0 / 1 / 2 / asymmetric, widths that leave partial tile groups, one-pixel outputs,
//   padded plane strides, enough planes for the thread split), and each adjoint kernel against
//   its forward by the dot-product test <T x, v> = <x, T* v>;
// - conv2d forward and plain-backward gradients on wasm against PyTorch (test/fixtures/ops_nn.json,
//   the conv2d/wino-* cases), against the im2col + GEMM algorithm, and against a float64 reference
//   (the accuracy bound in the docs), with a batch that does not fill its last chunk;
// - when it applies (algorithm setting, channel threshold, float64, stride, cpu device) and the
//   setConvAlgorithm errors;
// - that a convolution's own buffers (transformed operands, columns, compact copies) go back to the
//   wasm heap when it returns: only its results stay allocated.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { getBackend, type WinogradSpec } from '../src/ndarray/backend.js';
import { NDArray } from '../src/ndarray/ndarray.js';
import { cpuWinograd } from '../src/ndarray/cpu/winograd.js';
import { sizeClass } from '../src/ndarray/wasm/heap.js';
import { winogradBackward, winogradPlan } from '../src/ops/winograd.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { loadCases, dec, type Case } from './parity/harness.js';
import { assertClose, assertThrows, mulberry32, sameBits } from './helpers.js';

const wasm = getBackend('wasm');
const rand = mulberry32(97);

before(async () => {
  const rt = wasmRuntime!;
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});

let saved: nd.ConvAlgorithm = 'auto';
before(() => {
  saved = nd.setConvAlgorithm('auto');
});
after(() => {
  nd.setConvAlgorithm(saved);
});

function randArray(n: number, device = 'wasm'): NDArray {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return NDArray.fromData(a, [n], 'float32', device);
}

function randTensor(shape: number[], dtype: nd.DType = 'float32', device = 'wasm'): nd.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = Array.from({ length: n }, () => rand() * 2 - 1);
  return nd.tensor(a, { dtype, device }).reshape(shape);
}

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-30);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

interface Geo {
  batch: number;
  channels: number;
  h: number;
  w: number;
  /** padding before / after, rows and columns */
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  /** extra elements between the 36 tile planes */
  gap: number;
}

function specs(g: Geo): { inS: WinogradSpec; outS: WinogradSpec; oh: number; ow: number; plane: number } {
  const oh = g.h + g.pt + g.pb - 2;
  const ow = g.w + g.pl + g.pr - 2;
  const th = Math.ceil(oh / 4);
  const tw4 = Math.ceil(Math.ceil(ow / 4) / 4) * 4;
  const planeStride = g.channels * g.batch * th * tw4 + g.gap;
  return {
    inS: { batch: g.batch, channels: g.channels, h: g.h, w: g.w, ph: g.pt, pw: g.pl, th, tw4, planeStride },
    outS: { batch: g.batch, channels: g.channels, h: oh, w: ow, ph: 0, pw: 0, th, tw4, planeStride },
    oh,
    ow,
    plane: planeStride,
  };
}

const GEOS: Geo[] = [
  { batch: 2, channels: 3, h: 8, w: 8, pt: 1, pb: 1, pl: 1, pr: 1, gap: 0 },
  { batch: 1, channels: 2, h: 7, w: 13, pt: 1, pb: 1, pl: 1, pr: 1, gap: 16 },
  { batch: 3, channels: 5, h: 5, w: 6, pt: 0, pb: 0, pl: 0, pr: 0, gap: 3 },
  { batch: 2, channels: 4, h: 17, w: 9, pt: 2, pb: 2, pl: 2, pr: 2, gap: 0 },
  { batch: 1, channels: 1, h: 3, w: 3, pt: 0, pb: 0, pl: 0, pr: 0, gap: 0 },
  { batch: 1, channels: 2, h: 1, w: 1, pt: 1, pb: 1, pl: 1, pr: 1, gap: 0 },
  { batch: 2, channels: 3, h: 6, w: 23, pt: 1, pb: 0, pl: 0, pr: 1, gap: 5 },
  { batch: 4, channels: 24, h: 20, w: 19, pt: 1, pb: 1, pl: 1, pr: 1, gap: 16 },
];

describe('winograd tile kernels (wasm vs the reference)', () => {
  for (const g of GEOS) {
    const name = `${g.batch}x${g.channels}x${g.h}x${g.w} pad ${g.pt},${g.pb},${g.pl},${g.pr} gap ${g.gap}`;
    test(name, () => {
      const { inS, outS, oh, ow, plane } = specs(g);
      const img = g.batch * g.channels * g.h * g.w;
      const out = g.batch * g.channels * oh * ow;
      const tiles = 36 * plane;
      const x = randArray(img);
      // input transform: every tile entry (the gaps between planes are not written)
      const v1 = randArray(tiles);
      const v2 = NDArray.fromData(v1.dataSync(), [tiles], 'float32', 'wasm');
      wasm.winogradInput!(x, v1, inS);
      cpuWinograd.winogradInput(x, v2, inS);
      assert.ok(relErr(v1.dataSync(), v2.dataSync()) < 1e-6, 'winogradInput');
      // its adjoint
      const dv = randArray(tiles);
      const x1 = randArray(img);
      const x2 = randArray(img);
      wasm.winogradInputAdjoint!(dv, x1, inS);
      cpuWinograd.winogradInputAdjoint(dv, x2, inS);
      assert.ok(relErr(x1.dataSync(), x2.dataSync()) < 1e-6, 'winogradInputAdjoint');
      // output transform and its adjoint
      const y1 = randArray(out);
      const y2 = randArray(out);
      wasm.winogradOutput!(dv, y1, outS);
      cpuWinograd.winogradOutput(dv, y2, outS);
      assert.ok(relErr(y1.dataSync(), y2.dataSync()) < 1e-6, 'winogradOutput');
      const m1 = NDArray.fromData(v1.dataSync(), [tiles], 'float32', 'wasm');
      const m2 = NDArray.fromData(v1.dataSync(), [tiles], 'float32', 'wasm');
      wasm.winogradOutputAdjoint!(y2, m1, outS);
      cpuWinograd.winogradOutputAdjoint(y2, m2, outS);
      assert.ok(relErr(m1.dataSync(), m2.dataSync()) < 1e-6, 'winogradOutputAdjoint');
    });
  }

  test('adjoints by the dot-product test', () => {
    for (const g of GEOS) {
      const { inS, outS, oh, ow, plane } = specs({ ...g, gap: 0 });
      const img = g.batch * g.channels * g.h * g.w;
      const tiles = 36 * plane;
      const x = randArray(img);
      const v = randArray(tiles);
      const tx = randArray(tiles);
      const tv = randArray(img);
      wasm.winogradInput!(x, tx, inS);
      wasm.winogradInputAdjoint!(v, tv, inS);
      const a = dot(tx.dataSync(), v.dataSync());
      const b = dot(x.dataSync(), tv.dataSync());
      assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `input: <Tx, v> = ${a}, <x, T*v> = ${b}`);
      const y = randArray(g.batch * g.channels * oh * ow);
      const ty = randArray(g.batch * g.channels * oh * ow);
      const sy = randArray(tiles);
      wasm.winogradOutput!(v, ty, outS);
      wasm.winogradOutputAdjoint!(y, sy, outS);
      const c = dot(ty.dataSync(), y.dataSync());
      const d = dot(v.dataSync(), sy.dataSync());
      assert.ok(Math.abs(c - d) <= 1e-4 * Math.max(1, Math.abs(c)), `output: <Tv, y> = ${c}, <v, T*y> = ${d}`);
    }
  });
});

describe('conv2d by Winograd on wasm', () => {
  const cases = loadCases('nn').filter((c) => c.id.startsWith('conv2d/wino-'));

  test('the fixtures are there', () => {
    assert.equal(cases.length, 3);
  });

  for (const c of cases) {
    test(`${c.id}: plain backward against PyTorch`, () => {
      const [x, w, b] = c.inputs.map((e) => dec(e, { requiresGrad: true })) as [nd.Tensor, nd.Tensor, nd.Tensor | undefined];
      const padding = (c.params as { padding?: number | string }).padding ?? 0;
      const y = nd.conv2d(x.to('wasm'), w.to('wasm'), b ? b.to('wasm') : null, { padding: padding as number });
      const scale = (e: { data: unknown[] }) => Math.max(1, ...e.data.map((v) => Math.abs(v as number)));
      assertClose(y, dec(c.out), { atol: 1e-5 * scale(c.out), rtol: 1e-5, msg: `${c.id} forward` });
      nd.sum(nd.mul(y, dec(c.cotangent!).to('wasm'))).backward();
      const grads = [x, w, b].filter((t): t is nd.Tensor => t !== undefined).map((t) => t.grad!);
      grads.forEach((g, i) => {
        const e = c.grads![i]!;
        assertClose(g, dec(e), { atol: 2e-5 * scale(e), rtol: 1e-4, msg: `${c.id} grad ${i}` });
      });
    });
  }

  /** Forward and plain-backward gradients of conv2d(x, w) with `alg`, as host arrays. */
  function run(alg: nd.ConvAlgorithm, x: nd.Tensor, w: nd.Tensor, g: nd.Tensor, padding: number): Float64Array[] {
    const prev = nd.setConvAlgorithm(alg);
    try {
      const xi = x.detach().requiresGrad_();
      const wi = w.detach().requiresGrad_();
      const y = nd.conv2d(xi, wi, null, { padding });
      nd.sum(nd.mul(y, g)).backward();
      return [y, xi.grad!, wi.grad!].map((t) => Float64Array.from(t.dataSync() as Float32Array));
    } finally {
      nd.setConvAlgorithm(prev);
    }
  }

  test('matches im2col + GEMM and a float64 reference; batch over several chunks', () => {
    // 64 channels of 32 x 32: 8 samples a chunk, so 11 samples leave a partial last chunk
    const x = randTensor([11, 64, 32, 32]);
    const w = randTensor([64, 64, 3, 3]);
    const g = randTensor([11, 64, 32, 32]);
    const wino = run('winograd', x, w, g, 1);
    const gemm = run('gemm', x, w, g, 1);
    const ref = run('gemm', x.double(), w.double(), g.double(), 1);
    const names = ['forward', 'input gradient', 'weight gradient'];
    names.forEach((n, i) => {
      const ew = relErr(wino[i]!, ref[i]!);
      const eg = relErr(gemm[i]!, ref[i]!);
      // the documented bound (docs/performance.md): a few 1e-6 of the largest magnitude
      assert.ok(ew < 2e-5, `${n}: Winograd error ${ew} relative to the largest magnitude`);
      assert.ok(eg < 2e-6, `${n}: GEMM error ${eg}`);
    });
  });

  test('non-contiguous input, bias, padding 2 (a 36 x 36 output)', () => {
    const x = randTensor([2, 20, 34, 16]).permute([0, 1, 3, 2]); // (2, 20, 16, 34)
    const w = randTensor([24, 20, 3, 3]);
    const b = randTensor([24]);
    const yw = nd.conv2d(x, w, b, { padding: 2 });
    nd.setConvAlgorithm('gemm');
    const yg = nd.conv2d(x, w, b, { padding: 2 });
    nd.setConvAlgorithm('auto');
    assert.deepEqual(yw.shape, [2, 24, 18, 36]);
    assert.ok(relErr(yw.dataSync() as Float32Array, yg.dataSync() as Float32Array) < 2e-5);
  });

  test('higher-order gradients (a recorded backward) still work', () => {
    const x = randTensor([1, 16, 6, 6]).requiresGrad_();
    const w = randTensor([16, 16, 3, 3]).requiresGrad_();
    const y = nd.conv2d(x, w, null, { padding: 1 });
    const [gx] = nd.autograd.grad(nd.sum(nd.mul(y, y)), [x], { createGraph: true });
    const [gw] = nd.autograd.grad(nd.sum(gx!), [w]);
    assert.deepEqual(gw!.shape, [16, 16, 3, 3]);
    nd.setConvAlgorithm('gemm');
    const y2 = nd.conv2d(x, w, null, { padding: 1 });
    const [gx2] = nd.autograd.grad(nd.sum(nd.mul(y2, y2)), [x], { createGraph: true });
    const [gw2] = nd.autograd.grad(nd.sum(gx2!), [w]);
    nd.setConvAlgorithm('auto');
    assert.ok(relErr(gw!.dataSync() as Float32Array, gw2!.dataSync() as Float32Array) < 2e-5);
  });
});

describe('when Winograd applies', () => {
  /** Whether two conv2d runs (with `alg` and with 'gemm') give the same bits. */
  function same(alg: nd.ConvAlgorithm, x: nd.Tensor, w: nd.Tensor, opts: nd.ConvOptions): boolean {
    const prev = nd.setConvAlgorithm(alg);
    const a = nd.conv2d(x, w, null, opts).dataSync();
    nd.setConvAlgorithm('gemm');
    const b = nd.conv2d(x, w, null, opts).dataSync();
    nd.setConvAlgorithm(prev);
    return a.every((v, i) => Object.is(v, b[i]));
  }

  test('auto: from 8 channels on each side', () => {
    assert.equal(nd.WINOGRAD_MIN_CHANNELS, 8);
    assert.equal(same('auto', randTensor([1, 8, 9, 9]), randTensor([8, 8, 3, 3]), { padding: 1 }), false);
    assert.equal(same('auto', randTensor([1, 3, 9, 9]), randTensor([16, 3, 3, 3]), { padding: 1 }), true);
    assert.equal(same('auto', randTensor([1, 16, 9, 9]), randTensor([4, 16, 3, 3]), { padding: 1 }), true);
    assert.equal(same('winograd', randTensor([1, 3, 9, 9]), randTensor([16, 3, 3, 3]), { padding: 1 }), false);
  });

  test('never for float64, strides, dilation, other kernel sizes, or the cpu device', () => {
    assert.ok(same('winograd', randTensor([1, 16, 9, 9], 'float64'), randTensor([16, 16, 3, 3], 'float64'), { padding: 1 }));
    assert.ok(same('winograd', randTensor([1, 16, 9, 9]), randTensor([16, 16, 3, 3]), { padding: 1, stride: 2 }));
    assert.ok(same('winograd', randTensor([1, 16, 9, 9]), randTensor([16, 16, 3, 3]), { padding: 2, dilation: 2 }));
    assert.ok(same('winograd', randTensor([1, 16, 9, 9]), randTensor([16, 16, 5, 5]), { padding: 2 }));
    assert.ok(same('winograd', randTensor([1, 16, 9, 9], 'float32', 'cpu'), randTensor([16, 16, 3, 3], 'float32', 'cpu'), { padding: 1 }));
  });

  test('setConvAlgorithm returns the previous setting and rejects unknown names', () => {
    const prev = nd.setConvAlgorithm('gemm');
    assert.equal(nd.getConvAlgorithm(), 'gemm');
    assert.equal(nd.info().wasm.conv, 'gemm');
    assert.equal(nd.setConvAlgorithm(prev), 'gemm');
    assertThrows(() => nd.setConvAlgorithm('fft' as nd.ConvAlgorithm), RangeError, /setConvAlgorithm: expected 'auto', 'gemm' or 'winograd', got "fft"/);
    assert.equal(nd.getConvAlgorithm(), prev);
  });
});

describe("conv2d's own buffers go back to the heap at once", () => {
  const heap = () => wasmRuntime!.heap;
  /** Heap bytes still allocated after f, less before (f's results held by the caller). */
  function kept(f: () => unknown): [number, unknown] {
    const before = heap().liveBytes;
    const out = f();
    return [heap().liveBytes - before, out];
  }
  // x as a transposed view, so that the op also makes (and must free) a compact copy of it
  const x = nd.permute(randTensor([4, 12, 12, 16]), [0, 3, 1, 2]);
  const w = randTensor([16, 16, 3, 3]);
  const yBytes = sizeClass(4 * 16 * 12 * 12 * 4);

  for (const alg of ['winograd', 'gemm'] as const) {
    test(`forward (${alg}): only the output stays allocated`, () => {
      const prev = nd.setConvAlgorithm(alg);
      try {
        nd.noGrad(() => nd.conv2d(x, w, null, { padding: 1 })); // first call: cached constants
        const [bytes, y] = kept(() => nd.noGrad(() => nd.conv2d(x, w, null, { padding: 1 })));
        assert.deepEqual((y as nd.Tensor).shape, [4, 16, 12, 12]);
        assert.ok(bytes <= yBytes, `${alg}: ${bytes} bytes stayed allocated, expected at most the output's ${yBytes}`);
      } finally {
        nd.setConvAlgorithm(prev);
      }
    });
  }

  test('Winograd backward: only dx and dw stay allocated', () => {
    const xa = x.array;
    const wa = w.array;
    const plan = winogradPlan(xa, wa, { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1] });
    assert.ok(plan !== null);
    const dy = nd.permute(randTensor([4, 12, 12, 16]), [0, 3, 1, 2]).array;
    winogradBackward(dy, xa, wa, plan!, true, true);
    const [bytes, out] = kept(() => winogradBackward(dy, xa, wa, plan!, true, true));
    const [dx, dw] = out as [NDArray, NDArray];
    assert.deepEqual(dx.shape, [4, 16, 12, 12]);
    assert.deepEqual(dw.shape, [16, 16, 3, 3]);
    const limit = sizeClass(dx.size * 4) + sizeClass(dw.size * 4);
    assert.ok(bytes <= limit, `${bytes} bytes stayed allocated, expected at most dx's and dw's ${limit}`);
  });
});

export type { Case };
