/**
 * Map-style datasets (torch.utils.data): Dataset, TensorDataset, Subset, ConcatDataset,
 * TransformDataset and randomSplit. Browser-safe.
 */
import { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { getItem } from '../ops/indexing.js';
import { indexSelect } from '../ops/index_ops.js';
import { allocTyped } from '../ndarray/dtype.js';
import { defaultGenerator, randperm, type Generator } from '../random.js';

/**
 * A map-style dataset (torch.utils.data.Dataset): `length` samples, sample `i` from `get(i)`.
 * `get` may return a Promise (a dataset that reads from disk); such datasets are iterated with
 * `for await` over a {@link DataLoader}.
 *
 * A subclass may also define `getBatch(indices)`, returning what the default collate would make
 * of `indices.map(i => get(i))` (a fast path; {@link TensorDataset} has one). The DataLoader uses
 * it when no `collateFn` is given.
 *
 * @example
 * class Squares extends nd.utils.data.Dataset<[number, number]> {
 *   get length() { return 10; }
 *   get(i: number): [number, number] { return [i, i * i]; }
 * }
 */
export abstract class Dataset<T = unknown> {
  /** Number of samples. */
  abstract get length(): number;
  /** Sample `i`, for 0 <= i < length (or a Promise of it). */
  abstract get(i: number): T | Promise<T>;
  /** Optional fast path: the collated batch of `indices` (see the class doc). */
  getBatch?(indices: readonly number[]): unknown;
}

/** Checks that `i` is an integer index into a dataset of `n` samples (negative counts from the end). */
export function checkIndex(fn: string, i: unknown, n: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw typeError(fn, 'an integer index', fmt(i));
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw rangeError(fn, `an index in [${-n}, ${n - 1}]`, String(i));
  return j;
}

function checkDataset(fn: string, what: string, d: unknown): Dataset<unknown> {
  const ok = d !== null && typeof d === 'object' && typeof (d as Dataset).get === 'function' && Number.isInteger((d as Dataset).length);
  if (!ok) throw typeError(fn, `${what} a dataset (an object with length and get(i))`, fmt(d));
  return d as Dataset<unknown>;
}

/**
 * Samples are the rows of tensors that share their first dimension (torch TensorDataset):
 * `get(i)` is `[t0[i], t1[i], ...]` (views, no copy).
 *
 * @example
 * const ds = new nd.utils.data.TensorDataset(x, y); // x: [N, 784], y: [N]
 * const [xi, yi] = ds.get(0);                        // [784], []
 */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw typeError('TensorDataset', 'at least one tensor', 'none');
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw typeError('TensorDataset', `tensors[${k}] a Tensor`, fmt(t));
      if (t.ndim === 0) throw rangeError('TensorDataset', `tensors[${k}] with at least one dimension`, 'a 0-d tensor');
    });
    const n = tensors[0]!.shape[0]!;
    tensors.forEach((t, k) => {
      if (t.shape[0] !== n) throw rangeError('TensorDataset', `tensors of one first dimension (${n}, from ${fmtShape(tensors[0]!.shape)})`, `${fmtShape(t.shape)} at tensors[${k}]`);
    });
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  get(i: number): Tensor[] {
    const j = checkIndex('TensorDataset.get', i, this.length);
    return this.tensors.map((t) => getItem(t, j));
  }

  /**
   * The rows `indices` of every tensor, stacked (what the default collate makes of them). Host
   * tensors outside autograd are gathered row by row from their storage; others use indexSelect.
   */
  override getBatch(indices: readonly number[]): Tensor[] {
    const n = this.length;
    const idx = Int32Array.from(indices, (i) => checkIndex('TensorDataset.getBatch', i, n));
    return this.tensors.map((t) => {
      if ((t.device !== 'cpu' && t.device !== 'wasm') || t.requiresGrad) return indexSelect(t, 0, tensor(idx, { dtype: 'int32', device: t.device }));
      const a = t.array.compact();
      const row = n === 0 ? 0 : a.size / n;
      const out = allocTyped(a.dtype, idx.length * row);
      for (let k = 0; k < idx.length; k++) out.set(a.backend.readSync(a.storage, a.offset + idx[k]! * row, row), k * row);
      return tensor(out, { shape: [idx.length, ...t.shape.slice(1)], dtype: t.dtype, device: t.device });
    });
  }
}

/**
 * The samples of `dataset` at `indices`, in that order (torch Subset).
 *
 * @example
 * const firstHundred = new nd.utils.data.Subset(ds, [...Array(100).keys()]);
 */
export class Subset<T = unknown> extends Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: readonly number[];

  constructor(dataset: Dataset<T>, indices: ArrayLike<number>) {
    super();
    const d = checkDataset('Subset', 'dataset', dataset);
    if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') throw typeError('Subset', 'indices an array of integers', fmt(indices));
    const n = d.length;
    this.dataset = dataset;
    this.indices = Array.from(indices, (i, k) => {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < -n || i >= n) throw rangeError('Subset', `indices in [${-n}, ${n - 1}]`, `${fmt(i)} at position ${k}`);
      return i < 0 ? i + n : i;
    });
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T | Promise<T> {
    return this.dataset.get(this.indices[checkIndex('Subset.get', i, this.indices.length)]!);
  }
}

// Subset forwards the batch fast path only when its dataset has one.
Object.defineProperty(Subset.prototype, 'getBatch', {
  get(this: Subset) {
    const inner = this.dataset.getBatch;
    if (inner === undefined) return undefined;
    return (indices: readonly number[]) =>
      inner.call(this.dataset, indices.map((i) => this.indices[checkIndex('Subset.getBatch', i, this.indices.length)]!));
  },
  configurable: true,
});

/**
 * The samples of several datasets one after the other (torch ConcatDataset).
 *
 * @example
 * const all = new nd.utils.data.ConcatDataset([trainSet, extraSet]);
 */
export class ConcatDataset<T = unknown> extends Dataset<T> {
  readonly datasets: readonly Dataset<T>[];
  /** cumulativeSizes[k]: samples in datasets 0..k. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: readonly Dataset<T>[]) {
    super();
    if (!Array.isArray(datasets) || datasets.length === 0) throw typeError('ConcatDataset', 'a non-empty array of datasets', fmt(datasets));
    datasets.forEach((d, k) => checkDataset('ConcatDataset', `datasets[${k}]`, d));
    this.datasets = [...datasets];
    let s = 0;
    this.cumulativeSizes = this.datasets.map((d) => (s += d.length));
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1]!;
  }

  get(i: number): T | Promise<T> {
    let j = checkIndex('ConcatDataset.get', i, this.length);
    let k = 0;
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid]! > j) hi = mid;
      else lo = mid + 1;
    }
    k = lo;
    if (k > 0) j -= this.cumulativeSizes[k - 1]!;
    return this.datasets[k]!.get(j);
  }
}

/** A transform: an object with `forward(x)` (as the classes of `nd.transforms`) or a function. */
export type TransformLike<I = unknown, O = unknown> = { forward(x: I): O } | ((x: I) => O);

/** Applies a transform (object with forward, or function). */
export function applyTransform<I, O>(fn: string, t: TransformLike<I, O>, x: I): O {
  if (typeof t === 'function') return t(x);
  if (t !== null && typeof t === 'object' && typeof t.forward === 'function') return t.forward(x);
  throw typeError(fn, 'a transform (a function or an object with forward(x))', fmt(t));
}

/** Options of {@link TransformDataset}. */
export interface TransformDatasetOptions {
  /** Applied to the sample's first element (an array sample) or to the whole sample. */
  transform?: TransformLike<any, unknown>;
  /** Applied to an array sample's second element (the label). */
  targetTransform?: TransformLike<any, unknown>;
}

/**
 * A dataset whose samples pass through transforms on the way out (torchvision's `transform` and
 * `target_transform` arguments, for any dataset). Random transforms draw new numbers at every
 * access, so each epoch sees new augmentations.
 *
 * @example
 * const aug = new nd.transforms.Compose([
 *   new nd.transforms.RandomCrop(28, { padding: 2 }),
 *   new nd.transforms.RandomHorizontalFlip(0.5),
 * ]);
 * const ds = new nd.utils.data.TransformDataset(new nd.utils.data.TensorDataset(x, y), { transform: aug });
 */
export class TransformDataset<T = unknown> extends Dataset<T> {
  readonly dataset: Dataset<unknown>;
  readonly transform: TransformLike<any, unknown> | undefined;
  readonly targetTransform: TransformLike<any, unknown> | undefined;

  constructor(dataset: Dataset<unknown>, opts: TransformDatasetOptions = {}) {
    super();
    this.dataset = checkDataset('TransformDataset', 'dataset', dataset);
    this.transform = opts.transform;
    this.targetTransform = opts.targetTransform;
  }

  get length(): number {
    return this.dataset.length;
  }

  private apply(s: unknown): T {
    const fn = 'TransformDataset.get';
    if (Array.isArray(s)) {
      const out = [...s];
      if (this.transform !== undefined) out[0] = applyTransform(fn, this.transform, out[0]);
      if (this.targetTransform !== undefined) {
        if (out.length < 2) throw rangeError(fn, 'a sample [input, target, ...] for targetTransform', `an array of length ${out.length}`);
        out[1] = applyTransform(fn, this.targetTransform, out[1]);
      }
      return out as T;
    }
    if (this.targetTransform !== undefined) throw typeError(fn, 'a sample [input, target, ...] for targetTransform', fmt(s));
    return (this.transform !== undefined ? applyTransform(fn, this.transform, s) : s) as T;
  }

  get(i: number): T | Promise<T> {
    const s = this.dataset.get(i);
    return s instanceof Promise ? s.then((v) => this.apply(v)) : this.apply(s);
  }
}

/**
 * Splits a dataset into non-overlapping random subsets of the given lengths (torch
 * random_split). `lengths` are counts summing to `dataset.length`, or fractions summing to 1
 * (counts are then floor(f * n), with the remainder handed out one each, round-robin, as PyTorch
 * does; as in PyTorch, lengths summing to 1 are always read as fractions). The permutation comes from `generator` (default: the global generator).
 *
 * @example
 * const [train, val] = nd.utils.data.randomSplit(ds, [0.9, 0.1], { generator: new nd.Generator(0) }); // typed as a pair
 */
export function randomSplit<T, const L extends readonly number[]>(
  dataset: Dataset<T>,
  lengths: L,
  opts: { generator?: Generator } = {},
): { -readonly [K in keyof L]: Subset<T> } {
  const fn = 'randomSplit';
  const n = checkDataset(fn, 'dataset', dataset).length;
  if (!Array.isArray(lengths) || lengths.length === 0 || lengths.some((l) => typeof l !== 'number' || !(l >= 0))) {
    throw typeError(fn, 'lengths a non-empty array of non-negative numbers', fmt(lengths));
  }
  let counts: number[];
  const total = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) < 1e-9) {
    if (lengths.some((l) => l > 1)) throw rangeError(fn, 'fractions in [0, 1]', fmt(lengths));
    counts = lengths.map((f) => Math.floor(n * f));
    const rest = n - counts.reduce((a, b) => a + b, 0);
    for (let k = 0; k < rest; k++) counts[k % counts.length]!++;
  } else {
    if (lengths.some((l) => !Number.isInteger(l))) throw typeError(fn, 'lengths integers (counts) or fractions summing to 1', fmt(lengths));
    if (total !== n) throw rangeError(fn, `lengths summing to the dataset's length ${n}`, `${fmt(lengths)} (sum ${total})`);
    counts = [...lengths];
  }
  const perm = randperm(n, { generator: opts.generator ?? defaultGenerator }).dataSync();
  const out: Subset<T>[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(at, at + c)));
    at += c;
  }
  return out as { -readonly [K in keyof L]: Subset<T> };
}
