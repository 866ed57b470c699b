/** nd.utils.data (datasets, DataLoader, collate), nd.transforms, and the file-format readers. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as nd from '../src/index.js';
import { assertThrows, flat } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const D = nd.utils.data;
const T = nd.transforms;

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'needle-data-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Dataset of i -> [i, 10 * i] (numbers). */
class Numbers extends D.Dataset<[number, number]> {
  constructor(readonly n: number) {
    super();
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [number, number] {
    return [i, 10 * i];
  }
}

/** Dataset whose get resolves later (as a dataset streaming from disk would). */
class Slow extends D.Dataset<nd.Tensor> {
  get length(): number {
    return 7;
  }
  async get(i: number): Promise<nd.Tensor> {
    await new Promise((r) => setTimeout(r, (7 - i) % 3));
    return nd.tensor([i, -i]);
  }
}

function firstColumn(batches: Iterable<[nd.Tensor, nd.Tensor]>): number[][] {
  return [...batches].map(([a]) => flat(a));
}

// ------------------------------------------------------------------------------------ datasets

describe('datasets', () => {
  test('TensorDataset rows, length and shape errors', () => {
    const x = nd.arange(12).reshape([4, 3]);
    const y = nd.tensor([0, 1, 2, 3], { dtype: 'int32' });
    const ds = new D.TensorDataset(x, y);
    assert.equal(ds.length, 4);
    const [xi, yi] = ds.get(2);
    assert.deepEqual(flat(xi), [6, 7, 8]);
    assert.equal(yi!.item(), 2);
    assert.deepEqual(flat(ds.get(-1)[0]), [9, 10, 11]);
    assertThrows(() => ds.get(4), RangeError, /TensorDataset.get: an index in \[-4, 3\], got 4/);
    assertThrows(() => new D.TensorDataset(x, nd.zeros([5])), RangeError, /TensorDataset: tensors of one first dimension \(4.*got \[5\] at tensors\[1\]/);
    assertThrows(() => new D.TensorDataset(), TypeError, /TensorDataset: at least one tensor, got none/);
  });

  test('Subset and ConcatDataset', () => {
    const a = new Numbers(3);
    const b = new Numbers(5);
    const sub = new D.Subset(b, [4, 0, -1]);
    assert.equal(sub.length, 3);
    assert.deepEqual([0, 1, 2].map((i) => sub.get(i)), [[4, 40], [0, 0], [4, 40]]);
    assertThrows(() => new D.Subset(b, [5]), RangeError, /Subset: indices in \[-5, 4\], got 5 at position 0/);
    const cat = new D.ConcatDataset([a, b, new Numbers(0), new Numbers(2)]);
    assert.equal(cat.length, 10);
    assert.deepEqual(cat.cumulativeSizes, [3, 8, 8, 10]);
    const got = [...Array(10).keys()].map((i) => (cat.get(i) as [number, number])[0]);
    assert.deepEqual(got, [0, 1, 2, 0, 1, 2, 3, 4, 0, 1]);
    assertThrows(() => cat.get(10), RangeError, /ConcatDataset.get: an index in \[-10, 9\], got 10/);
    assertThrows(() => new D.ConcatDataset([]), TypeError, /ConcatDataset: a non-empty array of datasets/);
  });

  test('randomSplit: counts, fractions, disjoint, reproducible', () => {
    const ds = new Numbers(10);
    const [p, q] = D.randomSplit(ds, [7, 3], { generator: new nd.Generator(1) });
    assert.equal(p!.length, 7);
    assert.equal(q!.length, 3);
    const all = [...p!.indices, ...q!.indices].sort((u, v) => u - v);
    assert.deepEqual(all, [...Array(10).keys()]);
    const again = D.randomSplit(ds, [7, 3], { generator: new nd.Generator(1) });
    assert.deepEqual(again[0]!.indices, p!.indices);
    // PyTorch: floor(f * n) each, remainder handed out round-robin
    const fr = D.randomSplit(ds, [0.45, 0.45, 0.1], { generator: new nd.Generator(2) });
    assert.deepEqual(fr.map((s) => s.length), [5, 4, 1]);
    // the split is a prefix partition of randperm(n)
    const perm = flat(nd.randperm(10, { generator: new nd.Generator(1) }));
    assert.deepEqual([...p!.indices], perm.slice(0, 7));
    assertThrows(() => D.randomSplit(ds, [5, 4]), RangeError, /randomSplit: lengths summing to the dataset's length 10, got \[5,4\] \(sum 9\)/);
  });

  test('TransformDataset applies transform and targetTransform', () => {
    const ds = new D.TransformDataset(new Numbers(3), { transform: (v: number) => v + 0.5, targetTransform: { forward: (v: number) => -v } });
    assert.deepEqual(ds.get(2), [2.5, -20]);
  });
});

// ------------------------------------------------------------------------------------ DataLoader

describe('DataLoader', () => {
  const x = nd.arange(10).reshape([10, 1]);
  const y = nd.arange(10, 20, 1, { dtype: 'int32' });
  const ds = new D.TensorDataset(x, y);

  test('batch counts with and without dropLast', () => {
    for (const [n, bs, dropLast, count, last] of [
      [10, 3, false, 4, 1],
      [10, 3, true, 3, 3],
      [10, 5, false, 2, 5],
      [10, 5, true, 2, 5],
      [10, 20, true, 0, 0],
      [10, 20, false, 1, 10],
    ] as const) {
      const loader = new D.DataLoader(new D.TensorDataset(nd.zeros([n, 2])), { batchSize: bs, dropLast });
      const batches = [...loader];
      assert.equal(loader.length, count, `length n=${n} bs=${bs} dropLast=${dropLast}`);
      assert.equal(batches.length, count);
      if (count > 0) assert.deepEqual(batches[batches.length - 1]![0]!.shape, [last, 2]);
    }
    assert.equal(new D.DataLoader(ds).length, 10); // batchSize 1 by default
  });

  test('sequential order and default collate of tensors', () => {
    const batches = [...new D.DataLoader(ds, { batchSize: 4 })];
    assert.deepEqual(batches.map(([a]) => a!.shape), [[4, 1], [4, 1], [2, 1]]);
    assert.deepEqual(flat(batches[0]![0]), [0, 1, 2, 3]);
    assert.equal(batches[0]![1]!.dtype, 'int32');
    assert.deepEqual(flat(batches[2]![1]), [18, 19]);
  });

  test('TensorDataset fast path equals collating get(i)', () => {
    const xs = nd.randn([6, 2, 3], { generator: new nd.Generator(3) });
    const t = new D.TensorDataset(xs, nd.arange(6, undefined, 1, { dtype: 'int32' }));
    const fast = [...new D.DataLoader(t, { batchSize: 4, shuffle: true, generator: new nd.Generator(9) })];
    const slow = [...new D.DataLoader(t, { batchSize: 4, shuffle: true, generator: new nd.Generator(9), collateFn: (s) => D.defaultCollate(s) })];
    assert.equal(fast.length, 2);
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < 2; k++) {
        assert.deepEqual(fast[b]![k]!.shape, slow[b]![k]!.shape);
        assert.deepEqual(flat(fast[b]![k]), flat(slow[b]![k]));
        assert.equal(fast[b]![k]!.dtype, slow[b]![k]!.dtype);
      }
    }
    // a Subset of a TensorDataset keeps the fast path and its indices
    const sub = new D.Subset(t, [5, 3]);
    const [[sx]] = [...new D.DataLoader(sub, { batchSize: 2 })];
    assert.deepEqual(flat(sx), [...flat(nd.getItem(xs, 5)), ...flat(nd.getItem(xs, 3))]);
  });

  test('shuffle: a permutation, reproducible per seed, new each epoch', () => {
    const make = (seed: number) => new D.DataLoader(ds, { batchSize: 3, shuffle: true, generator: new nd.Generator(seed) });
    const a = make(7);
    const e1 = firstColumn(a as Iterable<[nd.Tensor, nd.Tensor]>).flat();
    const e2 = firstColumn(a as Iterable<[nd.Tensor, nd.Tensor]>).flat();
    assert.deepEqual([...e1].sort((u, v) => u - v), [...Array(10).keys()]);
    assert.deepEqual([...e2].sort((u, v) => u - v), [...Array(10).keys()]);
    assert.notDeepEqual(e1, e2, 'each epoch draws a fresh permutation');
    const b = make(7);
    assert.deepEqual(firstColumn(b as Iterable<[nd.Tensor, nd.Tensor]>).flat(), e1);
    assert.deepEqual(firstColumn(b as Iterable<[nd.Tensor, nd.Tensor]>).flat(), e2);
    assert.notDeepEqual(firstColumn(make(8) as Iterable<[nd.Tensor, nd.Tensor]>).flat(), e1);
    // the permutation is randperm(n) from the generator
    assert.deepEqual(e1, flat(nd.randperm(10, { generator: new nd.Generator(7) })));
    // without a generator: the global one, so manualSeed fixes the order
    nd.manualSeed(123);
    const g1 = firstColumn(new D.DataLoader(ds, { batchSize: 10, shuffle: true }) as Iterable<[nd.Tensor, nd.Tensor]>);
    nd.manualSeed(123);
    const g2 = firstColumn(new D.DataLoader(ds, { batchSize: 10, shuffle: true }) as Iterable<[nd.Tensor, nd.Tensor]>);
    assert.deepEqual(g1, g2);
  });

  test('sampler, batchSampler and their errors', () => {
    const order = [9, 0, 4, 4, 1];
    const got = [...new D.DataLoader(ds, { batchSize: 2, sampler: order })].map(([a]) => flat(a));
    assert.deepEqual(got, [[9, 0], [4, 4], [1]]);
    assert.equal(new D.DataLoader(ds, { batchSize: 2, sampler: order }).length, 3);
    const sub = new D.SubsetRandomSampler([1, 3, 5], { generator: new nd.Generator(0) });
    const subGot = [...new D.DataLoader(ds, { batchSize: 3, sampler: sub })][0]![0]!;
    assert.deepEqual(flat(subGot).sort(), [1, 3, 5]);
    const bsGot = [...new D.DataLoader(ds, { batchSampler: [[2, 3], [7]] })].map(([a]) => flat(a));
    assert.deepEqual(bsGot, [[2, 3], [7]]);
    assertThrows(() => new D.DataLoader(ds, { sampler: order, shuffle: true }), TypeError, /DataLoader: sampler or shuffle \(they exclude each other\), got both/);
    assertThrows(() => new D.DataLoader(ds, { batchSampler: [[1]], batchSize: 2 }), TypeError, /DataLoader: batchSampler alone/);
    assertThrows(() => new D.DataLoader(ds, { batchSize: 0 }), RangeError, /DataLoader: batchSize a positive integer, got 0/);
    assertThrows(() => [...new D.DataLoader(ds, { sampler: [3, 10] })], RangeError, /DataLoader: sampled indices in \[0, 9\], got 10/);
    function* gen() {
      yield 1;
    }
    assertThrows(() => new D.DataLoader(ds, { sampler: gen() }).length, TypeError, /DataLoader.length|BatchSampler: a sampler with a length/);
    const rs = new D.RandomSampler(ds, { replacement: true, numSamples: 25, generator: new nd.Generator(4) });
    const drawn = [...rs];
    assert.equal(drawn.length, 25);
    assert.ok(drawn.every((i) => i >= 0 && i < 10));
  });

  test('collateFn and default collate of numbers, objects, strings', () => {
    const nums = [...new D.DataLoader(new Numbers(5), { batchSize: 2 })];
    assert.equal(nums.length, 3);
    assert.equal(nums[0]![0].dtype, 'int32');
    assert.deepEqual(flat(nums[1]![1]), [20, 30]);
    const c = D.defaultCollate([{ a: 0.5, s: 'x', v: new Float32Array([1, 2]) }, { a: 1, s: 'y', v: new Float32Array([3, 4]) }]);
    assert.equal(c.a.dtype, 'float32');
    assert.deepEqual(flat(c.a), [0.5, 1]);
    assert.deepEqual(c.s, ['x', 'y']);
    assert.deepEqual(c.v.shape, [2, 2]);
    assert.deepEqual(flat(D.defaultCollate([true, false])), [1, 0]);
    const custom = [...new D.DataLoader(new Numbers(4), { batchSize: 3, collateFn: (s) => s.map(([i]) => i).join(',') })];
    assert.deepEqual(custom, ['0,1,2', '3']);
    assertThrows(() => D.defaultCollate([nd.zeros([2]), nd.zeros([3])]), RangeError, /defaultCollate: samples of one shape to stack \(\[2\] at batch position 0\), got \[3\] at batch position 1/);
    assertThrows(() => D.defaultCollate([1, 'a']), TypeError, /defaultCollate: a number at batch position 1/);
    assertThrows(() => D.defaultCollate([]), TypeError, /defaultCollate: a non-empty array of samples/);
  });

  test('async iteration: sync datasets and datasets whose get is async', async () => {
    const syncBatches: number[][] = [];
    for await (const [a] of new D.DataLoader(ds, { batchSize: 4 })) syncBatches.push(flat(a));
    assert.deepEqual(syncBatches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const loader = new D.DataLoader(new Slow(), { batchSize: 3 });
    const got: nd.Tensor[] = [];
    for await (const b of loader) got.push(b);
    assert.deepEqual(got.map((t) => t.shape), [[3, 2], [3, 2], [1, 2]]);
    assert.deepEqual(flat(got[0]), [0, -0, 1, -1, 2, -2]);
    assert.deepEqual(flat(got[2]), [6, -6]);
    // async collateFn
    const sums: number[] = [];
    for await (const s of new D.DataLoader(new Slow(), { batchSize: 4, collateFn: async (xs) => xs.reduce((p, t) => p + t.sum().item(), 0) })) sums.push(s);
    assert.deepEqual(sums, [0, 0]);
    assertThrows(() => [...new D.DataLoader(new Slow(), { batchSize: 2 })], TypeError, /DataLoader: a synchronous dataset get\(i\) \(use for await for async datasets\), got a Promise for index 0/);
  });

  test('async shuffle matches sync shuffle for the same seed', async () => {
    const s = firstColumn(new D.DataLoader(ds, { batchSize: 4, shuffle: true, generator: new nd.Generator(3) }) as Iterable<[nd.Tensor, nd.Tensor]>);
    const a: number[][] = [];
    for await (const [b] of new D.DataLoader(ds, { batchSize: 4, shuffle: true, generator: new nd.Generator(3) })) a.push(flat(b));
    assert.deepEqual(a, s);
  });
});

// ------------------------------------------------------------------------------------ transforms

describe('transforms', () => {
  test('Normalize: per channel, single value, errors', () => {
    const img = nd.tensor([[[0, 1], [2, 3]], [[4, 5], [6, 7]]]); // [2, 2, 2]
    const out = new T.Normalize([1, 2], [2, 4]).forward(img);
    assert.deepEqual(flat(out), [-0.5, 0, 0.5, 1, 0.5, 0.75, 1, 1.25]);
    assert.equal(out.dtype, 'float32');
    const v = new T.Normalize([0.5], [0.25]).forward(nd.tensor([0, 0.5, 1]));
    assert.deepEqual(flat(v), [-2, 0, 2]);
    const f64 = new T.Normalize(1, 2).forward(nd.tensor([3], { dtype: 'float64' }));
    assert.equal(f64.dtype, 'float64');
    assertThrows(() => new T.Normalize([1, 2, 3], [1, 1, 1]).forward(img), RangeError, /Normalize: an image \[\.\.\., 3, H, W\] for 3 channels, got \[2,2,2\]/);
    assertThrows(() => new T.Normalize([0], [0]), RangeError, /Normalize: std without zeros/);
    assertThrows(() => new T.Normalize([0], [1]).forward(nd.tensor([1], { dtype: 'int32' })), TypeError, /Normalize: a floating-point tensor/);
  });

  test('RandomHorizontalFlip: p = 1 flips the last dim, p = 0 keeps, draws one uniform', () => {
    const img = nd.arange(6).reshape([1, 2, 3]);
    assert.deepEqual(flat(new T.RandomHorizontalFlip(1).forward(img)), [2, 1, 0, 5, 4, 3]);
    assert.deepEqual(flat(new T.RandomHorizontalFlip(0).forward(img)), [0, 1, 2, 3, 4, 5]);
    const g = new nd.Generator(11);
    const ref = g.clone();
    const flip = new T.RandomHorizontalFlip(0.5, { generator: g });
    for (let k = 0; k < 20; k++) {
      const flipped = ref.nextUniform('float32') < 0.5;
      assert.deepEqual(flat(flip.forward(img)), flipped ? [2, 1, 0, 5, 4, 3] : [0, 1, 2, 3, 4, 5]);
    }
    assertThrows(() => new T.RandomHorizontalFlip(2), RangeError, /RandomHorizontalFlip: p in \[0, 1\], got 2/);
  });

  test("RandomCrop: needle's semantics, zero padding then a random crop", () => {
    const C = 2;
    const H = 4;
    const W = 5;
    const p = 2;
    const data = Array.from({ length: C * H * W }, (_, i) => i + 1);
    const img = nd.tensor(Float32Array.from(data), { shape: [C, H, W] });
    const g = new nd.Generator(5);
    const ref = g.clone();
    const crop = new T.RandomCrop([H, W], { padding: p, generator: g });
    const shifts = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const out = crop.forward(img);
      assert.deepEqual(out.shape, [C, H, W]);
      // needle: shift_x, shift_y in [-p, p]; img_pad[p + sx : p + sx + H, p + sy : p + sy + W]
      const sx = ref.nextBelow(2 * p + 1) - p;
      const sy = ref.nextBelow(2 * p + 1) - p;
      shifts.add(`${sx},${sy}`);
      const padded = (c: number, r: number, q: number) => (r >= p && r < p + H && q >= p && q < p + W ? data[c * H * W + (r - p) * W + (q - p)]! : 0);
      const expected: number[] = [];
      for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) expected.push(padded(c, p + sx + r, p + sy + q));
      assert.deepEqual(flat(out), expected, `shift ${sx},${sy}`);
    }
    assert.equal(shifts.size, 25, 'every shift in [-p, p]^2 occurs');
    // a smaller crop without padding stays inside the image
    const small = new T.RandomCrop(2, { generator: new nd.Generator(1) }).forward(img);
    assert.deepEqual(small.shape, [C, 2, 2]);
    assert.ok(flat(small).every((v) => v > 0));
    // fill value and 4-sided padding: [left, top, right, bottom]
    const one = nd.ones([1, 1, 1]);
    const filled = new T.RandomCrop([2, 3], { padding: [1, 0, 1, 1], fill: -1, generator: new nd.Generator(0) }).forward(one);
    assert.deepEqual(filled.shape, [1, 2, 3]);
    assert.deepEqual(flat(filled).sort(), [-1, -1, -1, -1, -1, 1]);
    assertThrows(() => new T.RandomCrop(9).forward(img), RangeError, /RandomCrop: a crop size at most the padded image 4x5, got 9x9/);
  });

  test('ToTensor: uint8 HWC to float32 CHW in [0, 1]', () => {
    const bytes = Uint8Array.from([0, 51, 255, 102, 204, 1]); // H=1, W=2, C=3
    const t = new T.ToTensor().forward({ data: bytes, width: 2, height: 1, channels: 3 });
    assert.deepEqual(t.shape, [3, 1, 2]);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(flat(t), [0, 102, 51, 204, 255, 1].map((v) => Math.fround(v / 255)));
    const fromInt = new T.ToTensor().forward(nd.tensor([[[0, 51, 255], [102, 204, 1]]], { dtype: 'int32' }));
    assert.deepEqual(flat(fromInt), flat(t));
    const gray = new T.ToTensor().forward(nd.tensor([[255, 0]], { dtype: 'int32' }));
    assert.deepEqual(gray.shape, [1, 1, 2]);
    const fl = new T.ToTensor().forward(nd.tensor([[[0.5]]]));
    assert.deepEqual(flat(fl), [0.5]);
    assertThrows(() => new T.ToTensor().forward({ data: bytes, width: 2, height: 2, channels: 3 }), RangeError, /ToTensor: 2x2x3 bytes for a 2x2 image, got 6/);
  });

  test('Compose chains objects and functions', () => {
    const t = new T.Compose([new T.ToTensor(), (x: nd.Tensor) => x.mul(255), new T.Normalize([1], [2])]);
    const out = t.forward({ data: Uint8Array.from([1, 3, 5, 7]), width: 2, height: 2 });
    assert.deepEqual(out.shape, [1, 2, 2]);
    const vals = flat(out);
    [0, 1, 2, 3].forEach((k) => assert.ok(Math.abs(vals[k]! - k) < 1e-5));
  });
});

// ------------------------------------------------------------------------------------ readers

/** IDX bytes: magic 00 00 type ndim, big-endian dims, big-endian data. */
function idx(type: number, shape: number[], values: number[]): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!;
  const out = new Uint8Array(4 + 4 * shape.length + values.length * size);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const off = 4 + 4 * shape.length;
  values.forEach((x, i) => {
    if (type === 0x08) v.setUint8(off + i, x);
    else if (type === 0x09) v.setInt8(off + i, x);
    else if (type === 0x0b) v.setInt16(off + 2 * i, x, false);
    else if (type === 0x0c) v.setInt32(off + 4 * i, x, false);
    else if (type === 0x0d) v.setFloat32(off + 4 * i, x, false);
    else v.setFloat64(off + 8 * i, x, false);
  });
  return out;
}

describe('IDX reader', () => {
  const pixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => (i * 23) % 256);
  const images = idx(0x08, [3, 2, 2], pixels);
  const labels = idx(0x08, [3], [7, 0, 9]);

  test('raw and gzipped files, paths and bytes', async () => {
    const raw = join(tmp, 'images-idx3-ubyte');
    const gz = join(tmp, 'images-idx3-ubyte.gz');
    await writeFile(raw, images);
    await writeFile(gz, gzipSync(images));
    for (const src of [raw, gz, images, gzipSync(images)]) {
      const r = await nd.datasets.readIDX(src);
      assert.equal(r.type, 'uint8');
      assert.deepEqual(r.shape, [3, 2, 2]);
      assert.deepEqual([...r.data], pixels);
    }
    const ints = await nd.datasets.readIDX(idx(0x0c, [2], [-5, 70000]));
    assert.deepEqual([ints.type, [...ints.data]], ['int32', [-5, 70000]]);
    const floats = await nd.datasets.readIDX(idx(0x0d, [1, 2], [1.5, -2]));
    assert.deepEqual([floats.type, floats.shape, [...floats.data]], ['float32', [1, 2], [1.5, -2]]);
    const shorts = await nd.datasets.readIDX(idx(0x0b, [2], [-3, 300]));
    assert.deepEqual([...shorts.data], [-3, 300]);
  });

  test('readMNIST: images scaled to [0, 1], labels int32', async () => {
    const ip = join(tmp, 'mnist-images.gz');
    const lp = join(tmp, 'mnist-labels');
    await writeFile(ip, gzipSync(images));
    await writeFile(lp, labels);
    const s = await nd.datasets.readMNIST(ip, lp);
    assert.equal(s.n, 3);
    assert.deepEqual([...s.labels], [7, 0, 9]);
    assert.deepEqual([...s.images], pixels.map((v) => Math.fround(v / 255)));
    const [x, y] = nd.datasets.toTensors(s);
    assert.deepEqual([x.shape, y.shape, y.dtype], [[3, 4], [3], 'int32']);
  });

  test('bad files: wrong magic, truncated, trailing bytes, bad gzip, bad labels', async () => {
    const bad = join(tmp, 'bad-magic.idx');
    await writeFile(bad, Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 1, 5]));
    await assert.rejects(nd.datasets.readIDX(bad), (e: Error) => e instanceof RangeError && e.message.includes(bad) && /readIDX: IDX magic .* got 0x01020304/.test(e.message));
    const cut = join(tmp, 'truncated.idx');
    await writeFile(cut, images.subarray(0, images.length - 3));
    await assert.rejects(nd.datasets.readIDX(cut), (e: Error) => e.message === `readIDX: 12 bytes of uint8 data for shape [3,2,2] in ${cut}, got 9 (file truncated)`);
    const cutHeader = join(tmp, 'truncated-header.idx');
    await writeFile(cutHeader, images.subarray(0, 9));
    await assert.rejects(nd.datasets.readIDX(cutHeader), (e: Error) => e.message === `readIDX: an IDX header of 16 bytes for 3 dims in ${cutHeader}, got 9 bytes (file truncated)`);
    const long = Uint8Array.from([...images, 0]);
    await assert.rejects(nd.datasets.readIDX(long, { name: 'long.idx' }), /readIDX: 12 bytes of uint8 data for shape \[3,2,2\] in long\.idx, got 13 \(1 trailing bytes\)/);
    const gzCut = join(tmp, 'cut.gz');
    const gz = gzipSync(images);
    await writeFile(gzCut, gz.subarray(0, gz.length - 6));
    await assert.rejects(nd.datasets.readIDX(gzCut), (e: Error) => e.message.startsWith(`readIDX: valid gzip data in ${gzCut}, got`));
    await assert.rejects(nd.datasets.readIDX(join(tmp, 'missing.idx')), /readIDX: a readable file .*missing\.idx, got ENOENT/);
    const badLabels = join(tmp, 'bad-labels');
    await writeFile(badLabels, idx(0x08, [3], [1, 10, 2]));
    await assert.rejects(nd.datasets.readMNIST(images, badLabels), (e: Error) => e.message === `readMNIST: labels in 0..9 in ${badLabels}, got 10 at index 1`);
    const fewLabels = join(tmp, 'few-labels');
    await writeFile(fewLabels, idx(0x08, [2], [1, 2]));
    await assert.rejects(nd.datasets.readMNIST(images, fewLabels), /readMNIST: 3 labels, one per image of <image bytes> in .*few-labels, got 2/);
  });
});

describe('CIFAR-10 reader', () => {
  function records(labels: number[]): Uint8Array {
    const out = new Uint8Array(labels.length * 3073);
    labels.forEach((l, r) => {
      out[r * 3073] = l;
      for (let k = 0; k < 3072; k++) out[r * 3073 + 1 + k] = (r * 7 + k) % 256;
    });
    return out;
  }

  test('records: labels and CHW pixels; toTensors with a shape', async () => {
    const f = join(tmp, 'data_batch_1.bin');
    await writeFile(f, records([3, 9, 0]));
    const b = await nd.datasets.readCIFAR10(f);
    assert.equal(b.n, 3);
    assert.deepEqual([...b.labels], [3, 9, 0]);
    assert.equal(b.images.length, 3 * 3072);
    assert.equal(b.images[3072 + 5], (7 + 5) % 256);
    const [x, y] = nd.datasets.toTensors(b, { shape: [3, 32, 32] });
    assert.deepEqual([x.shape, y.shape], [[3, 3, 32, 32], [3]]);
    assert.equal(flat(x)[3072 + 5], Math.fround(12 / 255));
    const gz = await nd.datasets.readCIFAR10(gzipSync(records([1])));
    assert.deepEqual([...gz.labels], [1]);
  });

  test('bad files: record size, label range, empty', async () => {
    const f = join(tmp, 'short_batch.bin');
    await writeFile(f, records([1, 2]).subarray(0, 3073 + 100));
    await assert.rejects(nd.datasets.readCIFAR10(f), (e: Error) => e instanceof RangeError && e.message.startsWith(`readCIFAR10: a whole number of 3073-byte records (1 label + 3072 pixels) in ${f}, got 3173 bytes (1 records and 100 bytes over`));
    const g = join(tmp, 'bad_label.bin');
    await writeFile(g, records([1, 12]));
    await assert.rejects(nd.datasets.readCIFAR10(g), (e: Error) => e.message === `readCIFAR10: labels in 0..9 in ${g}, got 12 in record 1 (byte 3073)`);
    await assert.rejects(nd.datasets.readCIFAR10(new Uint8Array(0), { name: 'empty.bin' }), /readCIFAR10: records of 3073 bytes in empty\.bin, got an empty file/);
  });
});

describe('PTB text tools', () => {
  test('Corpus.load, Dictionary, maxLines (needle tokenize)', async () => {
    const dir = join(tmp, 'ptb');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'train.txt'), ' the cat sat \n\n the  dog\n');
    await writeFile(join(dir, 'test.txt'), 'a cat\r\nthe end\n');
    const c = await nd.datasets.Corpus.load(dir);
    assert.deepEqual(c.dictionary.idx2word, ['the', 'cat', 'sat', '<eos>', 'dog', 'a', 'end']);
    assert.equal(c.dictionary.length, 7);
    assert.deepEqual(c.train, [0, 1, 2, 3, 3, 0, 4, 3]);
    assert.deepEqual(c.test, [5, 1, 3, 0, 6, 3]);
    const m = await nd.datasets.Corpus.load(dir, { maxLines: 1 });
    assert.deepEqual(m.train, [0, 1, 2, 3]);
    assert.deepEqual(m.test, [4, 1, 3]);
    await writeFile(join(dir, 'test.txt'), '');
    await assert.rejects(nd.datasets.Corpus.load(dir), (e: Error) => e.message === `Corpus.tokenize: a non-empty corpus in ${join(dir, 'test.txt')}, got an empty file`);
  });

  test('batchify and getBatch as needle defines them', () => {
    const src = nd.datasets.batchify([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3); // 11 // 3 = 3 rows, token 9, 10 dropped
    assert.deepEqual(src.shape, [3, 3]);
    assert.equal(src.dtype, 'int32');
    assert.deepEqual(src.toArray(), [[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
    const [x, y] = nd.datasets.getBatch(src, 0, 5); // seqLen = min(5, 3 - 1 - 0) = 2
    assert.deepEqual(x.toArray(), [[0, 3, 6], [1, 4, 7]]);
    assert.deepEqual(y.toArray(), [1, 4, 7, 2, 5, 8]);
    const [x1, y1] = nd.datasets.getBatch(src, 1, 1);
    assert.deepEqual([x1.toArray(), y1.toArray()], [[[1, 4, 7]], [2, 5, 8]]);
    assertThrows(() => nd.datasets.getBatch(src, 2, 1), RangeError, /getBatch: i in \[0, 1\] \(a next row is needed for targets\), got 2/);
    assertThrows(() => nd.datasets.batchify([1, 2], 3), RangeError, /batchify: at least batchSize = 3 tokens, got 2/);
  });
});

describe('browser safety', () => {
  test('src/data compiles to no static Node import (node:* modules are imported lazily in node.ts)', async () => {
    const dir = join(ROOT, 'build', 'src', 'data');
    for (const f of (await readdir(dir)).filter((n) => n.endsWith('.js'))) {
      const text = await readFile(join(dir, f), 'utf8');
      assert.doesNotMatch(text, /^\s*import[^(]*from\s+['"]node:/m, `${f} imports Node statically`);
      assert.doesNotMatch(text, /import\(\s*['"]node:/, `${f} imports a literal node: specifier`);
    }
  });
});
