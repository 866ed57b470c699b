/**
 * Convolution and pooling: the textbook input-gradient identity, im2col/col2im adjointness and
 * layout, output shapes (including padding 'same'), error messages, and a conv2d of a realistic
 * size. Values against PyTorch are in the parity fixtures (tools/cases/nn.py).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows } from './helpers.js';

const f64 = { dtype: 'float64' as const };
const randn64 = (shape: number[]) => nd.randn(shape, f64);
const dot = (a: nd.Tensor, b: nd.Tensor) => nd.sum(nd.mul(a, b)).item();

describe('conv2d input gradient = conv of the dilated gradient with the flipped kernel', () => {
  // With unfold/fold the input gradient is col2im(W^T @ g); the classic derivation says it equals
  // conv2d(dilate(g, stride - 1), flip(W).transpose(0, 1), padding = d * (k - 1) - p, dilation = d),
  // trimmed (or zero-padded) to the input size.
  const check = (xShape: number[], wShape: number[], stride: number, padding: number, dilation: number) => {
    nd.manualSeed(7);
    const x = randn64(xShape).requiresGrad_(true);
    const w = randn64(wShape);
    const y = nd.conv2d(x, w, null, { stride, padding, dilation });
    const g = randn64([...y.shape]);
    const [gx] = nd.autograd.grad(y, [x], { gradOutputs: g });
    const k = wShape[2]!;
    const wFlip = nd.flip(w, [2, 3]).transpose(0, 1);
    const gd = nd.dilate(g, [2, 3], stride - 1);
    let ref = nd.conv2d(gd, wFlip, null, { padding: dilation * (k - 1) - padding, dilation });
    const [H, W] = [xShape[2]!, xShape[3]!];
    ref = nd.pad(ref, [0, W - ref.shape[3]!, 0, H - ref.shape[2]!]); // negative amounts trim
    assertShape(ref, gx!.shape);
    assertClose(gx!, ref, { atol: 1e-12, rtol: 1e-10 });
  };
  it('stride 2, padding 1, 3x3 kernel (odd input height: the dilated form needs trimming)', () => {
    check([2, 3, 7, 8], [4, 3, 3, 3], 2, 1, 1);
  });
  it('stride 2, no padding, dilation 2', () => {
    check([1, 2, 9, 10], [3, 2, 3, 3], 2, 0, 2);
  });
  it('stride 3 with a 3x3 kernel: windows do not overlap', () => {
    check([2, 2, 9, 7], [2, 2, 3, 3], 3, 1, 1);
  });
});

describe('im2col / col2im', () => {
  it('are adjoint: <im2col(x), c> = <x, col2im(c)>', () => {
    for (const [shape, kernel, stride, dilation] of [
      [[2, 3, 7, 6], [3, 2], [2, 1], [1, 2]],
      [[2, 2, 9], [3], [1], [2]],
      [[1, 2, 6, 6], [2, 2], [2, 2], [1, 1]], // disjoint windows
      [[2, 5, 4, 5], [2, 3], [1, 1], [1, 1]], // extra leading dims
    ] as [number[], number[], number[], number[]][]) {
      const x = randn64(shape);
      const cols = nd.im2col(x, kernel, { stride, dilation });
      const c = randn64([...cols.shape]);
      const back = nd.col2im(c, shape.slice(shape.length - kernel.length), kernel, { stride, dilation });
      assertShape(back, shape);
      assert.ok(Math.abs(dot(cols, c) - dot(x, back)) < 1e-9 * (1 + Math.abs(dot(cols, c))));
    }
  });

  it('gathers windows: shape (N, C, *out, *kernel) and values', () => {
    const x = nd.arange(0, 2 * 5 * 6, 1, f64).reshape(1, 2, 5, 6);
    const cols = nd.im2col(x, [2, 3], { stride: [2, 1], dilation: [2, 1] });
    assertShape(cols, [1, 2, 2, 4, 2, 3]);
    // window (oh=1, ow=2) of channel 1 starts at (2, 2): rows 2 and 4 (dilation 2), cols 2..4
    const win = cols.get(0, 1, 1, 2);
    assertClose(win, [[30 + 14, 30 + 15, 30 + 16], [30 + 26, 30 + 27, 30 + 28]]);
  });

  it('is one gather: (N, C, *kernel, *out) of the result is compact, so conv flattens it for free', () => {
    const cols = nd.im2col(nd.randn([2, 3, 6, 6]), [3, 3]);
    assert.equal(cols.array.isCompact(), false);
    assert.equal(nd.permute(cols, [0, 1, 4, 5, 2, 3]).array.isCompact(), true);
  });

  it('col2im sums overlapping windows (counts of a ones input)', () => {
    const cols = nd.im2col(nd.ones([1, 1, 4]), [2]);
    assertClose(nd.col2im(cols, [4], [2]), [[[1, 2, 2, 1]]]);
  });

  it('their gradients and tangents are each other (higher order works)', () => {
    const x = randn64([1, 2, 5, 5]).requiresGrad_(true);
    nd.autograd.gradcheck((t) => nd.sum(nd.square(nd.im2col(t, [2, 3], { stride: [1, 2] }))), [x]);
    const c = randn64([1, 2, 4, 2, 2, 3]).requiresGrad_(true);
    nd.autograd.gradcheck((t) => nd.col2im(t, [5, 5], [2, 3], { stride: [1, 2] }), [c]);
    const [, jv] = nd.autograd.jvp((t) => nd.im2col(t, [2, 3]), [x.detach()], [nd.onesLike(x)]);
    assertClose(jv, nd.ones([...jv.shape], f64));
  });
});

describe('output shapes', () => {
  const x = nd.randn([2, 4, 9, 8]);
  it('conv2d: stride, padding, dilation, groups, unbatched', () => {
    assertShape(nd.conv2d(x, nd.randn([6, 4, 3, 3])), [2, 6, 7, 6]);
    assertShape(nd.conv2d(x, nd.randn([6, 4, 3, 3]), nd.randn([6]), { stride: 2, padding: 1 }), [2, 6, 5, 4]);
    assertShape(nd.conv2d(x, nd.randn([6, 2, 3, 2]), null, { groups: 2, dilation: [2, 3], padding: [1, 0] }), [2, 6, 7, 5]);
    assertShape(nd.conv2d(x, nd.randn([4, 1, 3, 3]), { groups: 4, stride: [3, 2] }), [2, 4, 3, 3]);
    assertShape(nd.conv2d(x.get(0), nd.randn([5, 4, 2, 2])), [5, 8, 7]);
    assertShape(nd.conv2d(x, nd.randn([6, 4, 9, 8]), null, { padding: 'valid' }), [2, 6, 1, 1]);
  });
  it("padding 'same' keeps the spatial size for odd and even kernels and any dilation", () => {
    for (const [k, d] of [[[3, 3], 1], [[2, 4], 1], [[4, 5], 2], [[1, 2], 3]] as [number[], number][]) {
      assertShape(nd.conv2d(x, nd.randn([3, 4, ...k]), null, { padding: 'same', dilation: d }), [2, 3, 9, 8]);
    }
    assertShape(nd.conv1d(nd.randn([2, 3, 10]), nd.randn([5, 3, 4]), null, { padding: 'same' }), [2, 5, 10]);
  });
  it("padding 'same' with an even kernel puts the extra zero on the right/bottom (as PyTorch)", () => {
    // kernel [1, 1] over [1, 2, 3]: total padding 1, all on the right -> [1+2, 2+3, 3+0]
    const y = nd.conv1d(nd.tensor([[[1, 2, 3]]]), nd.ones([1, 1, 2]), null, { padding: 'same' });
    assertClose(y, [[[3, 5, 3]]]);
  });
  it('conv1d', () => {
    assertShape(nd.conv1d(nd.randn([2, 3, 11]), nd.randn([4, 3, 3]), nd.randn([4]), { stride: 2, padding: 1, dilation: 2 }), [2, 4, 5]);
    assertShape(nd.conv1d(nd.randn([3, 11]), nd.randn([4, 3, 3])), [4, 9]);
  });
  it('pooling (stride defaults to the kernel size)', () => {
    assertShape(nd.maxPool2d(x, 2), [2, 4, 4, 4]);
    assertShape(nd.maxPool2d(x, 3, { stride: 2, padding: 1 }), [2, 4, 5, 4]);
    assertShape(nd.maxPool2d(x, [3, 2], { stride: 1, dilation: 2 }), [2, 4, 5, 6]);
    assertShape(nd.avgPool2d(x, [2, 3], { stride: [1, 2], padding: [1, 1] }), [2, 4, 10, 4]);
    assertShape(nd.avgPool2d(x.get(0), 2), [4, 4, 4]);
    assertShape(nd.maxPool1d(nd.randn([2, 3, 9]), 2), [2, 3, 4]);
    assertShape(nd.avgPool1d(nd.randn([3, 9]), 3, { stride: 2, padding: 1 }), [3, 5]);
  });
  it('unfold / fold (torch layout)', () => {
    const u = nd.unfold(x, [2, 3], { padding: 1, stride: 2 });
    assertShape(u, [2, 4 * 6, 5 * 4]);
    assertShape(nd.fold(u, [9, 8], [2, 3], { padding: 1, stride: 2 }), [2, 4, 9, 8]);
  });
});

describe('pooling values', () => {
  it('maxPool pads with -Infinity, avgPool with zeros (countIncludePad as PyTorch)', () => {
    const x = nd.tensor([[[-5, -3, -4]]]);
    assertClose(nd.maxPool1d(x, 2, { stride: 2, padding: 1 }), [[[-5, -3]]]);
    assertClose(nd.avgPool1d(x, 2, { stride: 2, padding: 1 }), [[[-2.5, -3.5]]]);
    assertClose(nd.avgPool1d(x, 2, { stride: 2, padding: 1, countIncludePad: false }), [[[-5, -3.5]]]);
  });
  it('maxPool splits the gradient of tied maxima evenly (PyTorch routes it to one index)', () => {
    const x = nd.tensor([[[1, 1, 0, 2]]], { requiresGrad: true });
    nd.maxPool1d(x, 2).sum().backward();
    assertClose(x.grad!, [[[0.5, 0.5, 0, 1]]]);
  });
});

describe('errors', () => {
  const x = nd.randn([2, 4, 6, 6]);
  const w = nd.randn([6, 4, 3, 3]);
  it('wrong ranks (RangeError)', () => {
    assertThrows(() => nd.conv2d(nd.randn([4, 6]), w), RangeError, /^conv2d: a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \[4,6\]/);
    assertThrows(() => nd.conv2d(x, nd.randn([6, 4, 3])), RangeError, /^conv2d: a 4-D weight .*, got shape \[6,4,3\]/);
    assertThrows(() => nd.conv1d(x, nd.randn([6, 4, 3])), RangeError, /^conv1d: a 2-D .* or 3-D .* input/);
    assertThrows(() => nd.maxPool2d(nd.randn([6]), 2), RangeError, /^maxPool2d: a 3-D/);
  });
  it('channel mismatch and groups (RangeError)', () => {
    assertThrows(() => nd.conv2d(x, nd.randn([6, 3, 3, 3])), RangeError, /^conv2d: input channels \(weight\.shape\[1\] \* groups = 3 \* 1 = 3\) must match input\.shape\[1\], got 4/);
    assertThrows(() => nd.conv2d(x, nd.randn([6, 1, 3, 3]), null, { groups: 3 }), RangeError, /^conv2d: input channels \(weight\.shape\[1\] \* groups/);
    assertThrows(() => nd.conv2d(x, nd.randn([5, 2, 3, 3]), null, { groups: 2 }), RangeError, /^conv2d: out channels \(weight\.shape\[0\]\) divisible by groups 2, got 5/);
    assertThrows(() => nd.conv2d(x, w, null, { groups: 0 }), RangeError, /^conv2d: groups to be positive, got 0/);
    assertThrows(() => nd.conv2d(x, w, nd.randn([5])), RangeError, /^conv2d: a bias of shape \[6\]/);
  });
  it('kernel larger than the padded input (RangeError)', () => {
    assertThrows(() => nd.conv2d(x, nd.randn([2, 4, 7, 3])), RangeError, /^conv2d: a \(dilated\) kernel size of at most the padded input size 6 in spatial dim 0, got 7/);
    assertThrows(() => nd.conv2d(x, w, null, { dilation: 3 }), RangeError, /padded input size 6 .*, got 7/);
    assertThrows(() => nd.maxPool2d(x, 7, { padding: 0 }), RangeError, /^maxPool2d: a \(dilated\) kernel/);
    assertThrows(() => nd.im2col(x, [7, 1]), RangeError, /^im2col: a \(dilated\) kernel of size at most the input size 6/);
  });
  it('bad stride / padding / kernel values (RangeError) and kinds (TypeError)', () => {
    assertThrows(() => nd.conv2d(x, w, null, { stride: 0 }), RangeError, /^conv2d: stride of integers >= 1, got 0/);
    assertThrows(() => nd.conv2d(x, w, null, { stride: [1, 2, 3] }), RangeError, /^conv2d: stride with 2 entries, got \[1,2,3\]/);
    assertThrows(() => nd.conv2d(x, w, null, { padding: -1 }), RangeError, /^conv2d: padding of integers >= 0/);
    assertThrows(() => nd.conv2d(x, w, null, { stride: 1.5 }), TypeError, /^conv2d: stride to be an integer or a tuple of 2 integers, got 1\.5/);
    assertThrows(() => nd.conv2d(x, w, null, { padding: 'full' as 'same' }), TypeError, /^conv2d: padding of 'same', 'valid', an integer or a tuple, got "full"/);
    assertThrows(() => nd.conv2d(x, w, null, { groups: 1.5 }), TypeError, /^conv2d: groups to be an integer/);
    assertThrows(() => nd.maxPool2d(x, 0), RangeError, /^maxPool2d: kernelSize of integers >= 1, got 0/);
    assertThrows(() => nd.maxPool2d(x, 2, { padding: 2 }), RangeError, /^maxPool2d: padding of at most half the kernel size \[2,2\], got \[2,2\]/);
    assertThrows(() => nd.avgPool1d(nd.randn([1, 2, 5]), 3, { ceilMode: true }), TypeError, /^avgPool1d: ceilMode false/);
  });
  it("padding 'same' with stride > 1 (TypeError)", () => {
    assertThrows(() => nd.conv2d(x, w, null, { padding: 'same', stride: 2 }), TypeError, /^conv2d: stride 1 with padding 'same', got stride \[2,2\]/);
    assertThrows(() => nd.conv1d(nd.randn([1, 2, 5]), nd.randn([1, 2, 3]), null, { padding: 'same', stride: [2] }), TypeError, /^conv1d: stride 1 with padding 'same'/);
  });
  it('wrong kinds and dtypes (TypeError)', () => {
    assertThrows(() => nd.conv2d([1, 2] as unknown as nd.Tensor, w), TypeError, /^conv2d: input to be a Tensor, got an array/);
    assertThrows(() => nd.conv2d(x, 3 as unknown as nd.Tensor), TypeError, /^conv2d: weight to be a Tensor/);
    assertThrows(() => nd.conv2d(x, w, 5 as unknown as nd.Tensor), TypeError, /^conv2d: bias to be a Tensor or null, got number 5/);
    assertThrows(() => nd.conv2d(nd.cast(x, 'int32'), nd.cast(w, 'int32')), TypeError, /^conv2d: a floating-point input, got int32/);
    assertThrows(() => nd.conv2d(x, nd.cast(w, 'float64')), TypeError, /^conv2d: weight of the input's dtype float32, got float64/);
    assertThrows(() => nd.maxPool2d(nd.cast(x, 'int32'), 2), TypeError, /^maxPool2d: a floating-point input, got int32/);
  });
  it('col2im / fold shape mismatches (RangeError)', () => {
    assertThrows(() => nd.col2im(nd.randn([1, 2, 3, 3, 2, 2]), [5, 5], [2, 2]), RangeError, /^col2im: trailing dims \[4,4,2,2\]/);
    assertThrows(() => nd.fold(nd.randn([1, 8, 5]), [4, 4], 2), RangeError, /^fold: input.shape\[-1\] equal to the number of blocks 9/);
    assertThrows(() => nd.fold(nd.randn([1, 7, 9]), [4, 4], 2), RangeError, /^fold: input.shape\[-2\] divisible by the kernel size/);
  });
  it('a failed call leaves its inputs intact', () => {
    const before = Array.from(x.dataSync());
    assert.throws(() => nd.conv2d(x, nd.randn([6, 3, 3, 3])));
    assert.deepEqual(Array.from(x.dataSync()), before);
  });
});

describe('a realistic size', () => {
  it('conv2d of a 32x64x32x32 input with a 64x64x3x3 kernel runs (forward), and a smaller one trains', () => {
    const x = nd.randn([32, 64, 32, 32]);
    const w = nd.mul(nd.randn([64, 64, 3, 3]), 0.05);
    const y = nd.conv2d(x, w, nd.zeros([64]), { padding: 1 });
    assertShape(y, [32, 64, 32, 32]);
    assert.ok(Number.isFinite(nd.sum(y).item()));
    const xs = nd.randn([8, 16, 16, 16]).requiresGrad_(true);
    const ws = nd.randn([32, 16, 3, 3]).requiresGrad_(true);
    const b = nd.zeros([32]).requiresGrad_(true);
    const out = nd.maxPool2d(nd.relu(nd.conv2d(xs, ws, b, { padding: 1, stride: 1 })), 2);
    assertShape(out, [8, 32, 8, 8]);
    out.sum().backward();
    assertShape(ws.grad!, [32, 16, 3, 3]);
    assertShape(xs.grad!, [8, 16, 16, 16]);
    assertShape(b.grad!, [32]);
  });
});
