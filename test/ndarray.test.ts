/**
 * NDArray views (metadata only, shared storage), compact(), strided writes, a property test of
 * random view chains against a naive nested-array oracle, and Tensor get/set vs PyTorch.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { NDArray, resolveSlice, type SliceSpec } from '../src/ndarray/ndarray.js';
import { mulberry32, assertClose, assertShape, assertThrows } from './helpers.js';

// ------------------------------------------------------------------ helpers

const prodOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** A compact float64 array holding 0..n-1 (each value is its own flat storage index). */
function iota(shape: readonly number[]): NDArray {
  return NDArray.fromData(Array.from({ length: prodOf(shape) }, (_, i) => i), shape, 'float64');
}
const vals = (a: NDArray): number[] => Array.from(a.dataSync(), Number);

/** Reads every element by explicit index arithmetic (offset + sum idx*stride): the compact oracle. */
function stridedRead(a: NDArray): number[] {
  const base = Array.from(a.backend.readSync(a.storage, 0, a.storage.length), Number); // the whole buffer, any device
  const out: number[] = [];
  const idx = new Array<number>(a.ndim).fill(0);
  const n = a.size;
  for (let k = 0; k < n; k++) {
    let pos = a.offset;
    for (let d = 0; d < a.ndim; d++) pos += idx[d]! * a.strides[d]!;
    out.push(base[pos]!);
    for (let d = a.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < a.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

const rng = mulberry32;

// ------------------------------------------------------------------ views share storage

describe('views never copy', () => {
  test('every view op shares storage and has the expected metadata', () => {
    const a = iota([2, 3, 4]);
    const views: [string, NDArray][] = [
      ['view', a.view([6, 4])],
      ['reshape', a.reshape([4, -1])],
      ['permute', a.permute([2, 0, 1])],
      ['transpose', a.transpose(0, 2)],
      ['broadcastTo', a.slice([{ start: 0, stop: 1 }]).broadcastTo([5, 2, 3, 4])],
      ['slice', a.slice([{}, { start: 1 }, { step: -2 }])],
      ['flip', a.flip([0, 2])],
      ['select', a.select(1, -1)],
      ['unsqueeze', a.unsqueeze(1)],
      ['squeeze', a.unsqueeze(0).unsqueeze(3).squeeze()],
      ['asStrided', a.asStrided([2, 2], [12, 1], 1)],
    ];
    for (const [name, v] of views) assert.ok(v.storage === a.storage, `${name} copied`);
    assert.deepEqual(a.permute([2, 0, 1]).strides, [1, 12, 4]);
    assert.deepEqual(a.transpose(0, 2).shape, [4, 3, 2]);
    assert.deepEqual(a.flip([0, 2]).strides, [-12, 4, -1]);
    assert.equal(a.flip([0, 2]).offset, 15);
    assert.deepEqual(a.select(1, -1).shape, [2, 4]);
    assert.equal(a.select(1, -1).offset, 8);
  });

  test('writes through views are seen by the base', () => {
    const a = iota([3, 4]);
    a.transpose(0, 1).select(0, 2).assign(-1); // column 2
    a.slice([{ start: -1 }, { step: -3 }]).assign(NDArray.fromData([100, 200], [2], 'float64')); // row 2, cols 3, 0
    a.flip([0]).select(0, 0).slice([{ start: 1, stop: 2 }]).assign(7); // a[2,1]
    assert.deepEqual(vals(a), [0, 1, -1, 3, 4, 5, -1, 7, 200, 7, -1, 100]);
  });

  test('compact() returns the array itself when already compact, a copy otherwise', () => {
    const a = iota([2, 3]);
    assert.ok(a.compact() === a);
    const u = a.unsqueeze(0);
    assert.ok(u.isCompact() && u.compact() === u); // size-1 dims are ignored by isCompact
    const t = a.transpose(0, 1);
    assert.ok(!t.isCompact());
    const c = t.compact();
    assert.ok(c.storage !== a.storage);
    assert.deepEqual(vals(c), [0, 3, 1, 4, 2, 5]);
    assert.ok(a.clone().storage !== a.storage);
  });

  test('Tensor views share storage (get with ints/slices/null, permute, expand, squeeze of non-compact)', () => {
    const x = nd.arange(12).reshape(3, 4);
    const views = [
      x.get(':', 0), x.get(1), x.get('::-1', null, 2), x.get('...', '1:3'), x.transpose(0, 1),
      x.permute(1, 0).unsqueeze(0), x.transpose(0, 1).get(null).squeeze(0), x.flip(1), x.get(null).expand(2, 3, 4),
      x.view(-1), x.slice([{ step: 2 }]),
    ];
    for (const v of views) assert.ok(v.array.storage === x.array.storage);
    // writing into a view obtained by get() is seen by the base (PyTorch: x[:, 0] is a view)
    x.get(':', 0).set(1, 50);
    x.transpose(0, 1).get(3).set([], 9);
    assert.deepEqual(x.toArray(), [[0, 1, 2, 9], [50, 5, 6, 9], [8, 9, 10, 9]]);
  });
});

// ------------------------------------------------------------------ reshape / view

describe('reshape and view', () => {
  test('view of a compact array, with -1 inference', () => {
    const a = iota([2, 3, 4]);
    const v = a.view([4, -1]);
    assert.deepEqual(v.shape, [4, 6]);
    assert.deepEqual(v.strides, [6, 1]);
    assert.deepEqual(a.view([-1]).shape, [24]);
    assert.deepEqual(a.view([2, -1, 3]).shape, [2, 4, 3]);
    assert.deepEqual(a.view([1, 24, 1]).shape, [1, 24, 1]);
    assert.deepEqual(vals(a.view([6, 4]).select(0, 5)), [20, 21, 22, 23]);
    // a compact slice (with an offset) can be viewed too
    const s = a.select(0, 1);
    assert.deepEqual(vals(s.view([12]).slice([{ stop: 3 }])), [12, 13, 14]);
    assert.equal(NDArray.fromData([5], [], 'float64').view([1, 1]).item(), 5);
    assert.deepEqual(NDArray.empty([0, 3]).view([3, -1, 2]).shape, [3, 0, 2]);
  });

  test('view of a non-compact array throws; reshape copies', () => {
    const t = iota([3, 4]).transpose(0, 1);
    assertThrows(() => t.view([12]), RangeError, /^view: .*compact.*, got strides \[1,4\]$/);
    assertThrows(() => iota([4, 4]).slice([{}, { step: 2 }]).view([8]), RangeError, /^view: /);
    const r = t.reshape([12]);
    assert.ok(r.storage !== t.storage);
    assert.deepEqual(vals(r), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // adding or removing size-1 dims of a strided view stays a view
    const u = t.reshape([1, 4, 1, 3]);
    assert.ok(u.storage === t.storage);
    assert.deepEqual(vals(u), vals(t));
    const x = nd.arange(12).reshape(3, 4).transpose(0, 1);
    assertThrows(() => x.view(12), RangeError, /^view: /);
    assert.deepEqual(x.reshape(-1).toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  test('bad shapes and -1 errors', () => {
    const a = iota([2, 3, 4]);
    assertThrows(() => a.view([5, 5]), RangeError, /^view: shape \[5,5\] is invalid for input of size 24, got \[2,3,4\]$/);
    assertThrows(() => a.reshape([-1, -1]), RangeError, /^reshape: only one dimension can be -1, got \[-1,-1\]$/);
    assertThrows(() => a.view([5, -1]), RangeError, /^view: shape \[5,-1\] is invalid for input of size 24/);
    assertThrows(() => a.view([0, -1]), RangeError, /^view: shape \[0,-1\] is invalid/);
    assertThrows(() => a.reshape([-2, 12]), RangeError, /^reshape: shape must contain non-negative integers or one -1/);
    assertThrows(() => a.reshape([2.5, 2]), RangeError, /^reshape: /);
    const x = nd.zeros([2, 3]);
    assertThrows(() => x.reshape(4, -1), RangeError, /^reshape: shape \[4,-1\] is invalid for input of size 6, got \[2,3\]$/);
    assertThrows(() => x.view(7), RangeError, /^view: /);
  });
});

// ------------------------------------------------------------------ permute / transpose / broadcast / (un)squeeze

describe('permute, transpose, broadcastTo, expand, squeeze, unsqueeze', () => {
  test('permute and transpose values and negative dims', () => {
    const a = iota([2, 3, 4]);
    const p = a.permute([-1, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    assert.deepEqual(vals(p).slice(0, 6), [0, 4, 8, 12, 16, 20]);
    assert.deepEqual(vals(a.transpose(-1, -3)), vals(a.permute([2, 1, 0])));
    assert.deepEqual(vals(a.transpose(1, 1)), vals(a));
    const x = nd.arange(6).reshape(2, 3);
    assert.deepEqual(x.transpose(0, 1).toArray(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(x.mT.toArray(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(x.permute([1, 0]).toArray(), [[0, 3], [1, 4], [2, 5]]);
  });

  test('permute/transpose errors', () => {
    const a = iota([2, 3, 4]);
    assertThrows(() => a.permute([0, 1]), RangeError, /^permute: dims of length 3, got \[0,1\]$/);
    assertThrows(() => a.permute([0, 1, 1]), RangeError, /^permute: dims to be a permutation, got \[0,1,1\]$/);
    assertThrows(() => a.permute([0, 1, 3]), RangeError, /^permute: dim must be in the range \[-3, 2\], got 3$/);
    assertThrows(() => a.transpose(0, -4), RangeError, /^transpose: dim must be in the range \[-3, 2\], got -4$/);
    assertThrows(() => a.permute([0, 1, 1.5]), TypeError, /^permute: dim must be an integer, got 1.5$/);
    assertThrows(() => nd.zeros([2, 3]).permute(0, 0), RangeError, /^permute: /);
    assertThrows(() => nd.zeros([2, 3]).transpose(0, 2), RangeError, /^transpose: /);
  });

  test('broadcastTo uses stride 0', () => {
    const a = iota([3, 1]);
    const b = a.broadcastTo([2, 3, 4]);
    assert.deepEqual(b.strides, [0, 1, 0]);
    assert.ok(!b.isCompact());
    assert.deepEqual(vals(b), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    assert.deepEqual(NDArray.fromData([7], [], 'float64').broadcastTo([2, 2]).strides, [0, 0]);
    assert.deepEqual(a.broadcastTo([3, 0]).size, 0);
    assertThrows(() => a.broadcastTo([3, 4, 2]), RangeError, /^broadcastTo: a shape compatible with \[3,1\], got \[3,4,2\]$/);
    assertThrows(() => a.broadcastTo([3]), RangeError, /^broadcastTo: a shape of at least 2 dims, got \[3,1\] -> \[3\]$/);
  });

  test('Tensor expand (-1 keeps a dim) and broadcastTo', () => {
    const x = nd.tensor([[1], [2]]);
    const e = x.expand(3, -1, 4);
    assertShape(e, [3, 2, 4]);
    assert.deepEqual(e.array.strides, [0, 1, 0]);
    assertClose(e.sum(), 3 * 4 * 3);
    assertShape(x.broadcastTo([2, 5]), [2, 5]);
    assertThrows(() => x.expand(3, 3), RangeError, /^expand: shapes must be broadcastable, got \[2,1\] and \[3,3\]$/);
    assertThrows(() => x.expand(4), RangeError, /^expand: a shape of at least 2 dims, got \[4\]$/);
  });

  test('squeeze and unsqueeze (PyTorch: squeezing a non-1 dim is a no-op)', () => {
    const a = iota([1, 3, 1, 2]);
    assert.deepEqual(a.squeeze().shape, [3, 2]);
    assert.deepEqual(a.squeeze(0).shape, [3, 1, 2]);
    assert.deepEqual(a.squeeze(-2).shape, [1, 3, 2]);
    assert.deepEqual(a.squeeze(1).shape, [1, 3, 1, 2]);
    assert.deepEqual(a.squeeze([0, 2, 3]).shape, [3, 2]);
    assert.deepEqual(a.unsqueeze(-1).shape, [1, 3, 1, 2, 1]);
    assert.deepEqual(a.unsqueeze(4).shape, [1, 3, 1, 2, 1]);
    assert.deepEqual(a.unsqueeze(0).shape, [1, 1, 3, 1, 2]);
    assert.deepEqual(vals(a.unsqueeze(2).squeeze()), vals(a));
    assert.deepEqual(NDArray.fromData([3], [], 'float64').unsqueeze(0).shape, [1]);
    assert.deepEqual(NDArray.fromData([3], [1], 'float64').squeeze().shape, []);
    assertThrows(() => a.unsqueeze(5), RangeError, /^unsqueeze: dim must be in the range \[-5, 4\], got 5$/);
    assertThrows(() => a.squeeze(4), RangeError, /^squeeze: dim must be in the range \[-4, 3\], got 4$/);
    const x = nd.zeros([2, 1, 3]);
    assertShape(x.squeeze(), [2, 3]);
    assertShape(x.squeeze(0), [2, 1, 3]);
    assertShape(x.unsqueeze(-1), [2, 1, 3, 1]);
    assertShape(x.unsqueeze(0), [1, 2, 1, 3]);
  });
});

// ------------------------------------------------------------------ slicing / select / flip

// [n, start, stop, step, list(range(n))[start:stop:step]] computed with Python
const SLICE_CASES: [number, number | null, number | null, number, number[]][] = [
  [5, -5, 5, 1, [0, 1, 2, 3, 4]],
  [5, -9, -1, 1, [0, 1, 2, 3]],
  [5, -9, 3, 1, [0, 1, 2]],
  [5, 3, 3, 1, []],
  [5, 9, 1, 1, []],
  [5, -1, -3, 1, []],
  [5, -3, 3, 1, [2]],
  [5, 1, -1, 1, [1, 2, 3]],
  [5, -9, -3, 2, [0]],
  [5, 0, 4, 2, [0, 2]],
  [5, -3, -9, 2, []],
  [5, null, null, 2, [0, 2, 4]],
  [5, 1, 9, 2, [1, 3]],
  [5, 4, 9, 2, [4]],
  [5, -5, -1, 2, [0, 2]],
  [5, 5, null, 2, []],
  [5, 9, -9, -1, [4, 3, 2, 1, 0]],
  [5, 3, 0, -1, [3, 2, 1]],
  [5, -1, -5, -1, [4, 3, 2, 1]],
  [5, null, null, -1, [4, 3, 2, 1, 0]],
  [5, 0, null, -1, [0]],
  [5, -3, -1, -1, []],
  [5, null, 1, -1, [4, 3, 2]],
  [5, 4, -9, -1, [4, 3, 2, 1, 0]],
  [5, null, -3, -2, [4]],
  [5, -1, null, -2, [4, 2, 0]],
  [5, 3, -9, -2, [3, 1]],
  [5, -9, 0, -2, []],
  [5, 9, 0, -2, [4, 2]],
  [5, 1, -5, -2, [1]],
  [5, 5, 3, -2, [4]],
  [5, -3, -5, -2, [2]],
  [5, null, null, -3, [4, 1]],
  [5, 3, null, -3, [3, 0]],
  [5, -1, 0, -3, [4, 1]],
  [5, 0, 0, -3, []],
  [5, -5, null, -3, [0]],
  [5, 9, 1, -3, [4]],
  [5, -9, -9, -3, []],
  [5, 4, -3, -3, [4]],
  [0, null, null, 1, []],
  [0, null, null, -1, []],
  [1, -1, null, -1, [0]],
  [6, null, null, -4, [5, 1]],
  [6, -100, 100, 2, [0, 2, 4]],
  [6, 100, -100, -2, [5, 3, 1]],
];

describe('slicing, select and flip', () => {
  test('slice start/stop/step incl. negatives matches Python list slicing', () => {
    for (const [n, start, stop, step, expect] of SLICE_CASES) {
      const a = iota([n]);
      const s = a.slice([{ start, stop, step }]);
      assert.ok(s.storage === a.storage);
      assert.deepEqual(vals(s), expect, `range(${n})[${start}:${stop}:${step}]`);
      assert.deepEqual(stridedRead(s), expect);
      const r = resolveSlice({ start, stop, step }, n);
      assert.equal(r.length, expect.length);
      assert.equal(r.step, step);
      if (expect.length > 0) assert.equal(r.start, expect[0]);
    }
  });

  test('multi-dim slicing with steps: strides and offset', () => {
    const a = iota([4, 5, 6]);
    const s = a.slice([{ start: 1, step: 2 }, { step: -2 }, { start: -2, stop: 0, step: -3 }]);
    assert.deepEqual(s.shape, [2, 3, 2]);
    assert.deepEqual(s.strides, [60, -12, -3]);
    assert.equal(s.offset, 30 + 24 + 4);
    assert.deepEqual(vals(s), [58, 55, 46, 43, 34, 31, 118, 115, 106, 103, 94, 91]);
    assert.deepEqual(vals(a.slice([{ start: 10 }])), []);
    assert.deepEqual(a.slice([{ start: 10 }]).shape, [0, 5, 6]);
    assertThrows(() => a.slice([{}, {}, {}, {}]), RangeError, /^slice: at most 3 slices, got 4$/);
    assertThrows(() => a.slice([{ step: 0 }]), RangeError, /^slice: step must be a non-zero integer, got 0$/);
    assertThrows(() => a.slice([{ step: 1.5 }]), RangeError, /^slice: /);
  });

  test('select drops the dim (integer indexing, PyTorch semantics)', () => {
    const a = iota([2, 3, 4]);
    assert.deepEqual(a.select(0, 1).shape, [3, 4]);
    assert.deepEqual(vals(a.select(2, -1)), [3, 7, 11, 15, 19, 23]);
    assert.deepEqual(vals(a.select(-2, 0).select(0, 1)), [12, 13, 14, 15]);
    const s = a.select(0, 1).select(0, 2).select(0, 3);
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 23);
    assertThrows(() => a.select(1, 3), RangeError, /^select: index in \[-3, 2\] for dim 1 of size 3, got 3$/);
    assertThrows(() => a.select(1, -4), RangeError, /^select: index in \[-3, 2\] for dim 1 of size 3, got -4$/);
    assertThrows(() => a.select(3, 0), RangeError, /^select: dim must be in the range/);
  });

  test('flip reverses with negative strides', () => {
    const a = iota([2, 3]);
    assert.deepEqual(vals(a.flip([1])), [2, 1, 0, 5, 4, 3]);
    assert.deepEqual(vals(a.flip([0])), [3, 4, 5, 0, 1, 2]);
    assert.deepEqual(vals(a.flip([0, -1])), [5, 4, 3, 2, 1, 0]);
    assert.deepEqual(vals(a.flip([0]).flip([0])), vals(a));
    assert.deepEqual(vals(a.flip([])), vals(a));
    assert.deepEqual(iota([0, 3]).flip([0]).shape, [0, 3]);
    assertThrows(() => a.flip([2]), RangeError, /^flip: dim must be in the range \[-2, 1\], got 2$/);
    assertThrows(() => a.flip([0, -2]), RangeError, /^flip: dims must not repeat, got \[0,-2\]$/);
    const x = nd.arange(6).reshape(2, 3);
    assert.deepEqual(x.flip(1).toArray(), [[2, 1, 0], [5, 4, 3]]);
    assert.deepEqual(x.flip([0, 1]).toArray(), [[5, 4, 3], [2, 1, 0]]);
  });
});

// ------------------------------------------------------------------ compact

describe('compact', () => {
  test('handles up to 8 dims with permutes, negative strides, steps and broadcast dims', () => {
    const r = rng(7);
    for (let nd8 = 0; nd8 <= 8; nd8++) {
      for (let trial = 0; trial < 6; trial++) {
        const shape = Array.from({ length: nd8 }, () => 1 + Math.floor(r() * 3));
        let a = iota(shape);
        const perm = shape.map((_, i) => i).sort(() => r() - 0.5);
        a = a.permute(perm);
        a = a.flip(a.shape.map((_, i) => i).filter(() => r() < 0.5));
        a = a.slice(a.shape.map((n) => (n > 1 && r() < 0.5 ? { start: n - 1, step: -2 } : { step: r() < 0.3 ? 2 : 1 })));
        if (nd8 < 8 && r() < 0.5) {
          const d = Math.floor(r() * (a.ndim + 1));
          const u = a.unsqueeze(d);
          a = u.broadcastTo(u.shape.map((n, i) => (i === d ? 2 : n))); // a stride-0 dim
        }
        const c = a.compact();
        assert.ok(c.isCompact());
        assert.deepEqual(c.shape, a.shape);
        assert.deepEqual(vals(c), stridedRead(a), `shape ${a.shape} strides ${a.strides}`);
      }
    }
  });

  test('8-d transposed and flipped array, checked element by element', () => {
    const shape = [2, 3, 2, 2, 3, 2, 2, 2];
    const a = iota(shape);
    const v = a.permute([7, 0, 6, 1, 5, 2, 4, 3]).flip([1, 4, 7]).slice([{}, {}, {}, { step: -2 }]);
    assert.deepEqual(v.shape, [2, 2, 2, 2, 2, 2, 3, 2]);
    const c = vals(v.compact());
    const expect = stridedRead(v);
    assert.equal(c.length, 2 ** 7 * 3);
    assert.deepEqual(c, expect);
    // every element is a distinct source element
    assert.equal(new Set(c).size, c.length);
  });

  test('works for every dtype', () => {
    for (const dt of ['float32', 'float64', 'int32', 'bool'] as const) {
      const a = NDArray.fromData([1, 0, 3, 0, 5, 6], [2, 3], dt);
      const f = vals(a.transpose(0, 1).flip([0]));
      const expect = [3, 6, 0, 5, 1, 0].map((v) => (dt === 'bool' ? (v !== 0 ? 1 : 0) : v));
      assert.deepEqual(f, expect, dt);
    }
  });
});

// ------------------------------------------------------------------ strided writes

describe('strided writes (assign)', () => {
  test('scalar into strided, flipped and broadcast-free views', () => {
    const a = iota([4, 4]);
    a.slice([{ step: 2 }, { start: -1, step: -2 }]).assign(-1);
    assert.deepEqual(vals(a), [0, -1, 2, -1, 4, 5, 6, 7, 8, -1, 10, -1, 12, 13, 14, 15]);
    a.transpose(0, 1).select(0, 0).assign(9);
    assert.deepEqual(vals(a).filter((_, i) => i % 4 === 0), [9, 9, 9, 9]);
  });

  test('array values, broadcast values and dtype conversion', () => {
    const a = NDArray.full([3, 4], 0, 'float64');
    a.slice([{}, { start: 1, stop: 3 }]).assign(NDArray.fromData([7, 8], [2], 'float64')); // row broadcast
    a.slice([{ start: -1 }]).assign(NDArray.fromData([1, 2, 3, 4], [1, 4], 'float64'));
    assert.deepEqual(vals(a), [0, 7, 8, 0, 0, 7, 8, 0, 1, 2, 3, 4]);
    a.transpose(0, 1).select(0, 0).assign(NDArray.fromData([5], [], 'float64')); // 0-d source
    assert.deepEqual(vals(a).filter((_, i) => i % 4 === 0), [5, 5, 5]);
    const b = NDArray.full([2, 2], 0, 'int32');
    b.flip([1]).assign(NDArray.fromData([1.9, -1.9, 2.5, -0.5], [2, 2], 'float32'));
    assert.deepEqual(vals(b), [-1, 1, 0, 2]); // truncation toward zero
    assertThrows(() => a.assign(NDArray.fromData([1, 2], [2], 'float64')), RangeError, /^broadcastTo: /);
  });

  test('aliasing source and destination (overlapping views) behave like a copy first', () => {
    const a = iota([6]);
    a.slice([{ start: 1 }]).assign(a.slice([{ stop: -1 }])); // shift right
    assert.deepEqual(vals(a), [0, 0, 1, 2, 3, 4]);
    const b = iota([6]);
    b.assign(b.flip([0])); // in-place reverse
    assert.deepEqual(vals(b), [5, 4, 3, 2, 1, 0]);
    const c = iota([3, 3]);
    c.assign(c.transpose(0, 1)); // in-place transpose
    assert.deepEqual(vals(c), [0, 3, 6, 1, 4, 7, 2, 5, 8]);
    const d = iota([2, 3]);
    d.assign(d.select(0, 1)); // broadcast a row of itself
    assert.deepEqual(vals(d), [3, 4, 5, 3, 4, 5]);
  });
});

// ------------------------------------------------------------------ property test

type Nested = number | Nested[];
function nGet(x: Nested, idx: readonly number[]): number {
  let c = x;
  for (const i of idx) c = (c as Nested[])[i]!;
  return c as number;
}
/** Builds a nested array of `shape` whose entry at idx is fn(idx). */
function nBuild(shape: readonly number[], fn: (idx: number[]) => number, pre: number[] = []): Nested {
  if (pre.length === shape.length) return fn(pre);
  const out: Nested[] = [];
  for (let i = 0; i < shape[pre.length]!; i++) out.push(nBuild(shape, fn, [...pre, i]));
  return out;
}
function nFlat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(nFlat) : [x];
}
/** The indices Python's range(n)[start:stop:step] selects, by walking the range. */
function naiveSliceIndices(n: number, sp: SliceSpec): number[] {
  const step = sp.step ?? 1;
  const out: number[] = [];
  if (step > 0) {
    let i = sp.start == null ? 0 : sp.start < 0 ? Math.max(0, sp.start + n) : sp.start;
    const stop = sp.stop == null ? n : sp.stop < 0 ? sp.stop + n : Math.min(sp.stop, n);
    for (; i < stop; i += step) out.push(i);
  } else {
    let i = sp.start == null ? n - 1 : sp.start < 0 ? sp.start + n : Math.min(sp.start, n - 1);
    const stop = sp.stop == null ? -1 : sp.stop < 0 ? Math.max(-1, sp.stop + n) : sp.stop;
    for (; i > stop && i >= 0; i += step) out.push(i);
  }
  return out;
}

describe('property: random view chains vs a nested-array oracle', () => {
  test('300 seeded chains of 1-6 ops', () => {
    const r = rng(12345);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    let opsRun = 0;
    for (let chain = 0; chain < 300; chain++) {
      const shape0 = Array.from({ length: int(1, 4) }, () => int(1, 5));
      const base = iota(shape0);
      let a = base;
      let os: number[] = shape0.slice();
      const build = (shape: number[], fn: (idx: number[]) => number): Nested => {
        os = shape;
        return nBuild(shape, fn);
      };
      let o: Nested = nBuild(shape0, (idx) => idx.reduce((acc, v, d) => acc * shape0[d]! + v, 0));
      let copied = false;
      const log: string[] = [];
      const nOps = int(1, 6);
      for (let k = 0; k < nOps; k++) {
        const s = os;
        const ndim = s.length;
        const kind = int(0, 8);
        if (kind === 0 && ndim > 0) {
          const perm = s.map((_, i) => i).sort(() => r() - 0.5);
          log.push(`permute(${perm})`);
          a = a.permute(perm);
          const prev = o;
          o = build(perm.map((p) => s[p]!), (idx) => {
            const src = new Array<number>(ndim);
            perm.forEach((p, i) => (src[p] = idx[i]!));
            return nGet(prev, src);
          });
        } else if (kind === 1 && ndim > 0) {
          const specs: SliceSpec[] = s.map((n) => {
            const pick = () => (r() < 0.25 ? null : int(-n - 2, n + 2));
            return { start: pick(), stop: pick(), step: r() < 0.3 ? null : (r() < 0.5 ? -1 : 1) * int(1, 3) };
          });
          const nspec = int(1, ndim);
          const used = specs.slice(0, nspec);
          log.push(`slice(${JSON.stringify(used)})`);
          a = a.slice(used);
          const lists = s.map((n, d) => (d < nspec ? naiveSliceIndices(n, used[d]!) : Array.from({ length: n }, (_, i) => i)));
          const prev = o;
          o = build(lists.map((l) => l.length), (idx) => nGet(prev, idx.map((i, d) => lists[d]![i]!)));
        } else if (kind === 2 && ndim > 0) {
          const axes = s.map((_, i) => i).filter(() => r() < 0.5).map((d) => (r() < 0.5 ? d - ndim : d));
          log.push(`flip(${axes})`);
          a = a.flip(axes);
          const norm = axes.map((d) => (d < 0 ? d + ndim : d));
          const prev = o;
          o = build(s, (idx) => nGet(prev, idx.map((i, d) => (norm.includes(d) ? s[d]! - 1 - i : i))));
        } else if (kind === 3) {
          const lead = ndim < 5 ? int(0, 1) : 0;
          const target = [...Array.from({ length: lead }, () => int(1, 3)), ...s.map((n) => (n === 1 ? int(1, 3) : n))];
          if (prodOf(target) > 3000) continue;
          log.push(`broadcastTo(${target})`);
          a = a.broadcastTo(target);
          const prev = o;
          o = build(target, (idx) => nGet(prev, idx.slice(lead).map((i, d) => (s[d] === 1 ? 0 : i))));
        } else if (kind === 4 && ndim < 7) {
          const d = int(-ndim - 1, ndim);
          const dn = d < 0 ? d + ndim + 1 : d;
          log.push(`unsqueeze(${d})`);
          a = a.unsqueeze(d);
          const prev = o;
          o = build([...s.slice(0, dn), 1, ...s.slice(dn)], (idx) => nGet(prev, idx.filter((_, i) => i !== dn)));
        } else if (kind === 5 && ndim > 0) {
          const all = r() < 0.5;
          const dims = s.map((_, i) => i).filter(() => r() < 0.5);
          log.push(`squeeze(${all ? '' : dims})`);
          a = all ? a.squeeze() : a.squeeze(dims);
          const drop = s.map((n, i) => n === 1 && (all || dims.includes(i)));
          const prev = o;
          o = build(s.filter((_, i) => !drop[i]), (idx) => {
            const src: number[] = [];
            let j = 0;
            s.forEach((_, i) => src.push(drop[i] ? 0 : idx[j++]!));
            return nGet(prev, src);
          });
        } else if (kind === 6 && ndim > 0) {
          const d = int(0, ndim - 1);
          if (s[d] === 0) continue;
          const i = int(-s[d]!, s[d]! - 1);
          log.push(`select(${d}, ${i})`);
          a = a.select(d, i);
          const ii = i < 0 ? i + s[d]! : i;
          const prev = o;
          o = build(s.filter((_, j) => j !== d), (idx) => nGet(prev, [...idx.slice(0, d), ii, ...idx.slice(d)]));
        } else if (kind === 7) {
          // reshape: a view of compact arrays; split the flat order into a random factorization
          const size = prodOf(s);
          const target: number[] = [];
          let rest = size;
          while (rest > 1 && target.length < 4) {
            const divs = Array.from({ length: rest }, (_, i) => i + 1).filter((x) => rest % x === 0);
            const f = divs[int(0, divs.length - 1)]!;
            target.push(f);
            rest /= f;
          }
          if (rest !== 1 || size === 0) target.push(rest);
          const withInfer = target.length > 0 && size > 0 && r() < 0.5 ? target.map((t, i) => (i === 0 ? -1 : t)) : target;
          log.push(`reshape(${withInfer})`);
          if (a.isCompact()) {
            const before = a.storage;
            a = a.view(withInfer);
            assert.ok(a.storage === before, 'view of a compact array must not copy');
          } else {
            const before = a.storage;
            a = a.reshape(withInfer);
            if (a.storage !== before) copied = true;
          }
          const flatPrev = nFlat(o);
          o = build(target, (idx) => flatPrev[idx.reduce((acc, v, dd) => acc * target[dd]! + v, 0)]!);
        } else if (kind === 8 && ndim >= 2) {
          const d0 = int(-ndim, ndim - 1);
          const d1 = int(-ndim, ndim - 1);
          log.push(`transpose(${d0}, ${d1})`);
          a = a.transpose(d0, d1);
          const n0 = d0 < 0 ? d0 + ndim : d0;
          const n1 = d1 < 0 ? d1 + ndim : d1;
          const prev = o;
          const ns = s.slice();
          ns[n0] = s[n1]!;
          ns[n1] = s[n0]!;
          o = build(ns, (idx) => {
            const src = idx.slice();
            src[n0] = idx[n1]!;
            src[n1] = idx[n0]!;
            return nGet(prev, src);
          });
        } else continue;
        opsRun++;
        const msg = `chain ${chain} from [${shape0}]: ${log.join(' . ')}`;
        assert.deepEqual([...a.shape], os, msg);
      }
      const msg = `chain ${chain} from [${shape0}]: ${log.join(' . ')}`;
      if (!copied) assert.ok(a.storage === base.storage, `views must share storage: ${msg}`);
      const expect = nFlat(o);
      const got = Array.from(a.compact().dataSync());
      assert.equal(got.length, expect.length, msg);
      for (let i = 0; i < expect.length; i++) assert.equal(got[i], expect[i], `${msg} @ ${i}`);
      // strided write through the view lands on the oracle's source elements
      if (!copied && new Set(expect).size === expect.length) {
        a.assign(NDArray.fromData(expect.map((_, i) => 1000 + i), a.shape, 'float64'));
        const after = Array.from(base.dataSync());
        const hit = new Map(expect.map((src, i) => [src, 1000 + i]));
        for (let i = 0; i < after.length; i++) assert.equal(after[i], hit.get(i) ?? i, `${msg}: write @ ${i}`);
      }
    }
    assert.ok(opsRun > 600, `ran ${opsRun} ops`);
  });
});

// ------------------------------------------------------------------ Tensor get / set vs PyTorch

describe('Tensor get/set (PyTorch semantics)', () => {
  const x = nd.arange(24).reshape(2, 3, 4);
  const I = (v: number | number[] | number[][]) => nd.tensor(v as number[], { dtype: 'int32' });
  // expected values from torch (negative steps from NumPy; torch rejects them)
  const cases: [string, () => nd.Tensor, number[], unknown][] = [
    ['x[1]', () => x.get(1), [3, 4], [[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]],
    ['x[-1, 1:]', () => x.get(-1, '1:'), [2, 4], [[16, 17, 18, 19], [20, 21, 22, 23]]],
    ['x[:, 0]', () => x.get(':', 0), [2, 4], [[0, 1, 2, 3], [12, 13, 14, 15]]],
    ['x[..., 0]', () => x.get('...', 0), [2, 3], [[0, 4, 8], [12, 16, 20]]],
    ['x[0, ..., -1]', () => x.get(0, '...', -1), [3], [3, 7, 11]],
    ['x[None, 1, :, None, 2]', () => x.get(null, 1, ':', null, 2), [1, 3, 1], [[[14], [18], [22]]]],
    ['x[:, ::2, 1:3]', () => x.get(':', '::2', '1:3'), [2, 2, 2], [[[1, 2], [9, 10]], [[13, 14], [21, 22]]]],
    ['x[1, -2:, ::3]', () => x.get(1, { start: -2 }, { step: 3 }), [2, 2], [[16, 19], [20, 23]]],
    ['x[1, 2, 3]', () => x.get(1, 2, 3), [], 23],
    ['x[[1, 0, 1]]', () => x.get(I([1, 0, 1])), [3, 3, 4],
      [[[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], [[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]]],
    ['x[:, [[2, 0], [1, 1]]]', () => x.get(':', I([[2, 0], [1, 1]])), [2, 2, 2, 4],
      [[[[8, 9, 10, 11], [0, 1, 2, 3]], [[4, 5, 6, 7], [4, 5, 6, 7]]], [[[20, 21, 22, 23], [12, 13, 14, 15]], [[16, 17, 18, 19], [16, 17, 18, 19]]]]],
    ['x[0, :, [-1, 0]]', () => x.get(0, ':', I([-1, 0])), [3, 2], [[3, 0], [7, 4], [11, 8]]],
    ['x[..., tensor(2)]', () => x.get('...', nd.tensor(2, { dtype: 'int32' })), [2, 3], [[2, 6, 10], [14, 18, 22]]],
    ['x[:, ::-1, -1:0:-2]', () => x.get(':', '::-1', '-1:0:-2'), [2, 3, 2], [[[11, 9], [7, 5], [3, 1]], [[23, 21], [19, 17], [15, 13]]]],
    ['x[::-1, 1, ::-3]', () => x.get('::-1', 1, '::-3'), [2, 2], [[19, 16], [7, 4]]],
    ['x[0, 5:1:-1]', () => x.get(0, '5:1:-1'), [1, 4], [[8, 9, 10, 11]]],
    ['x[1, :, -100:100:3]', () => x.get(1, ':', '-100:100:3'), [3, 2], [[12, 15], [16, 19], [20, 23]]],
  ];
  for (const [name, fn, shape, expect] of cases) {
    test(name, () => {
      const y = fn();
      assertShape(y, shape);
      assert.equal(y.dtype, 'int32');
      assert.deepEqual(y.toArray(), expect);
    });
  }

  test('get errors', () => {
    assertThrows(() => x.get(2), RangeError, /^getitem: index in \[-2, 1\] for dim 0 of size 2, got 2$/);
    assertThrows(() => x.get(0, -4), RangeError, /^getitem: index in \[-3, 2\] for dim 1 of size 3, got -4$/);
    assertThrows(() => x.get(0, 0, 0, 0), RangeError, /^getitem: at most 3 indices for a 3-d tensor, got 4$/);
    assertThrows(() => x.get('...', 0, '...'), RangeError, /^getitem: at most one "\.\.\."/);
    assertThrows(() => x.get('1'), TypeError, /^getitem: a slice string like "1:5:2", got "1"$/);
    assertThrows(() => x.get('a:b'), TypeError, /^getitem: integer slice bounds, got "a:b"$/);
    assertThrows(() => x.get(0.5), RangeError, /^getitem: /);
    assertThrows(() => x.get('::0'), RangeError, /^slice: step must be a non-zero integer, got 0$/);
    assertThrows(() => x.get(nd.tensor([0])), TypeError, /^getitem: a tensor index of dtype int32, got float32$/);
    assertThrows(() => x.get(I([2])), RangeError, /^getitem: index values in \[-2, 1\] for dim 0 of size 2, got 2$/);
    assertThrows(() => x.get(I([-3])), RangeError, /^getitem: /);
    assertThrows(() => x.get(true as unknown as number), TypeError, /^getitem: indices that are integers/);
  });

  test('set: scalars and tensors into views, with broadcasting (torch values)', () => {
    const y = nd.zeros([3, 4]);
    y.set(1, 5);
    assert.deepEqual(y.toArray(), [[0, 0, 0, 0], [5, 5, 5, 5], [0, 0, 0, 0]]);
    y.set([':', -1], nd.tensor([1, 2, 3]));
    assert.deepEqual(y.toArray(), [[0, 0, 0, 1], [5, 5, 5, 2], [0, 0, 0, 3]]);
    y.set(['::2', '1:3'], nd.tensor([[7, 8]]));
    assert.deepEqual(y.toArray(), [[0, 7, 8, 1], [5, 5, 5, 2], [0, 7, 8, 3]]);
    y.set([0, 0], -1);
    assert.deepEqual(y.toArray(), [[-1, 7, 8, 1], [5, 5, 5, 2], [0, 7, 8, 3]]);
    y.set(['...', 0], 9);
    assert.deepEqual(y.toArray(), [[9, 7, 8, 1], [9, 5, 5, 2], [9, 7, 8, 3]]);
    y.set(['::-1', null, 1], nd.tensor([10, 20, 30]));
    assert.deepEqual(y.toArray(), [[9, 30, 8, 1], [9, 20, 5, 2], [9, 10, 8, 3]]);
    // torch drops leading size-1 dims of the value: z[0] = ones(1, 3)
    const z = nd.zeros([2, 3]);
    z.set(0, nd.ones([1, 1, 3]));
    assert.deepEqual(z.toArray(), [[1, 1, 1], [0, 0, 0]]);
    // the value is converted to the target dtype; int32 and float64 sources both work
    const w = nd.zeros([2, 2], { dtype: 'int32' });
    w.set([], nd.tensor([[1.7, -1.7], [2.2, -0.2]]));
    assert.deepEqual(w.toArray(), [[1, -1], [2, 0]]);
    w.set(1, 3.9);
    assert.deepEqual(w.toArray(), [[1, -1], [3, 3]]);
  });

  test('set with an overlapping value of the same tensor', () => {
    const y = nd.arange(6);
    y.set('1:', y.get(':-1'));
    assert.deepEqual(y.toArray(), [0, 0, 1, 2, 3, 4]);
    const m = nd.arange(9).reshape(3, 3);
    m.set([], m.transpose(0, 1));
    assert.deepEqual(m.toArray(), [[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
  });

  test('set errors', () => {
    const y = nd.zeros([2, 3]);
    assertThrows(() => y.set(0, nd.ones([2, 3])), RangeError, /^setitem: a value broadcastable to the selection's shape \[3\], got \[2,3\]$/);
    assertThrows(() => y.set(0, nd.ones([4])), RangeError, /^setitem: a value broadcastable to the selection's shape \[3\], got \[4\]$/);
    assertThrows(() => y.set(I([0]), 1), TypeError, /^setitem: integer, slice, null or "\.\.\." indices, got a tensor index$/);
    assertThrows(() => y.set(5, 1), RangeError, /^setitem: index in \[-2, 1\] for dim 0 of size 2, got 5$/);
    assertThrows(() => y.set(0, 'a' as unknown as number), TypeError, /^setitem: a Tensor or a number, got string a$/);
    const p = nd.zeros([2], { requiresGrad: true });
    assert.throws(() => p.set(0, 1), nd.GraphError);
    nd.noGrad(() => p.set(0, 1));
    assert.deepEqual(p.toArray(), [1, 0]);
    // a failed write leaves the target intact
    assert.deepEqual(y.toArray(), [[0, 0, 0], [0, 0, 0]]);
  });
});
