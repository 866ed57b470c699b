/** DataLoader (torch.utils.data.DataLoader): batches of a dataset, sync or async. Browser-safe. */
import { fmt, rangeError, typeError } from '../errors.js';
import { Generator } from '../random.js';
import { defaultCollate, type Collated } from './collate.js';
import type { Dataset } from './dataset.js';
import { BatchSampler, RandomSampler, SequentialSampler, samplerLength, type Sampler } from './sampler.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is short (default false). */
  dropLast?: boolean;
  /** The indices to visit, in order (excludes `shuffle`). Any iterable of numbers. */
  sampler?: Sampler;
  /** Batches of indices (excludes batchSize, shuffle, sampler, dropLast). */
  batchSampler?: Iterable<number[]> & { readonly length?: number };
  /** Makes a batch from a list of samples (default {@link defaultCollate}). May return a Promise under `for await`. */
  collateFn?: (samples: T[]) => B;
  /** Generator for `shuffle` (default: the global generator, so `nd.manualSeed` fixes the order). */
  generator?: Generator;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';
}

/**
 * Iterates over a dataset in batches (torch DataLoader). Each pass (`for ... of`) is one epoch;
 * with `shuffle` every epoch draws a fresh permutation from `generator`, so a seeded generator
 * makes the whole run reproducible. Batches are made by `collateFn` (default: stack tensors along
 * a new dim 0, numbers into a tensor; see {@link defaultCollate}).
 *
 * Iterate with `for (const b of loader)` when the dataset's `get` is synchronous, or with
 * `for await (const b of loader)` for any dataset: samples whose `get` returns a Promise (read
 * from disk or the network) are awaited, all samples of a batch concurrently.
 *
 * @example
 * const loader = new nd.utils.data.DataLoader(new nd.utils.data.TensorDataset(x, y), {
 *   batchSize: 128, shuffle: true, generator: new nd.Generator(0),
 * });
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const [xb, yb] of loader) { ... } // loader.length batches
 * }
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B>, AsyncIterable<Awaited<B>> {
  readonly dataset: Dataset<T>;
  /** Samples per batch (null with a batchSampler). */
  readonly batchSize: number | null;
  readonly dropLast: boolean;
  /** The index sampler (null with a batchSampler). */
  readonly sampler: Sampler | null;
  /** The batch sampler that yields each batch's indices. */
  readonly batchSampler: Iterable<number[]> & { readonly length?: number };
  readonly collateFn: ((samples: T[]) => B) | null;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B> = {}) {
    const fn = 'DataLoader';
    const ok = dataset !== null && typeof dataset === 'object' && typeof dataset.get === 'function' && Number.isInteger(dataset.length);
    if (!ok) throw typeError(fn, 'a dataset (an object with length and get(i))', fmt(dataset));
    if (opts === null || typeof opts !== 'object') throw typeError(fn, 'an options object', fmt(opts));
    this.dataset = dataset;
    const shuffle = opts.shuffle ?? false;
    if (typeof shuffle !== 'boolean') throw typeError(fn, 'shuffle a boolean', fmt(shuffle));
    if (opts.generator !== undefined && !(opts.generator instanceof Generator)) throw typeError(fn, 'generator an nd.Generator', fmt(opts.generator));
    if (opts.collateFn !== undefined && typeof opts.collateFn !== 'function') throw typeError(fn, 'collateFn a function', fmt(opts.collateFn));
    this.collateFn = opts.collateFn ?? null;
    if (opts.batchSampler !== undefined) {
      if (opts.batchSize !== undefined || shuffle || opts.sampler !== undefined || opts.dropLast) {
        throw typeError(fn, 'batchSampler alone (it excludes batchSize, shuffle, sampler and dropLast)', 'some of them too');
      }
      if (opts.batchSampler === null || typeof opts.batchSampler[Symbol.iterator] !== 'function') throw typeError(fn, 'batchSampler an iterable of index arrays', fmt(opts.batchSampler));
      this.batchSize = null;
      this.dropLast = false;
      this.sampler = null;
      this.batchSampler = opts.batchSampler;
      return;
    }
    const bs = opts.batchSize ?? 1;
    if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1) throw rangeError(fn, 'batchSize a positive integer', fmt(bs));
    this.batchSize = bs;
    this.dropLast = opts.dropLast ?? false;
    if (opts.sampler !== undefined) {
      if (shuffle) throw typeError(fn, 'sampler or shuffle (they exclude each other)', 'both');
      if (opts.sampler === null || typeof (opts.sampler as Partial<Sampler>)[Symbol.iterator] !== 'function') throw typeError(fn, 'sampler an iterable of indices', fmt(opts.sampler));
      this.sampler = opts.sampler;
    } else if (shuffle) {
      this.sampler = new RandomSampler(dataset, opts.generator !== undefined ? { generator: opts.generator } : {});
    } else {
      this.sampler = new SequentialSampler(dataset);
    }
    this.batchSampler = new BatchSampler(this.sampler, bs, this.dropLast);
  }

  /** Number of batches per epoch: ceil(n / batchSize), or floor with dropLast. */
  get length(): number {
    if (this.batchSampler instanceof BatchSampler) return this.batchSampler.length;
    return samplerLength('DataLoader.length', this.batchSampler);
  }

  private indexList(indices: number[]): number[] {
    const n = this.dataset.length;
    for (const i of indices) {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) throw rangeError('DataLoader', `sampled indices in [0, ${n - 1}]`, fmt(i));
    }
    return indices;
  }

  private fastPath(): ((indices: readonly number[]) => unknown) | null {
    if (this.collateFn !== null) return null;
    const gb = this.dataset.getBatch;
    return typeof gb === 'function' ? (idx) => gb.call(this.dataset, idx) : null;
  }

  /** One epoch of batches; the dataset's get must be synchronous. */
  *[Symbol.iterator](): Iterator<B> {
    const fast = this.fastPath();
    for (const raw of this.batchSampler) {
      const idx = this.indexList(raw);
      if (idx.length === 0) continue;
      if (fast !== null) {
        const b = fast(idx);
        if (isThenable(b)) throw typeError('DataLoader', 'a synchronous getBatch (use for await for async datasets)', 'a Promise');
        yield b as B;
        continue;
      }
      const samples = idx.map((i) => {
        const s = this.dataset.get(i);
        if (isThenable(s)) throw typeError('DataLoader', `a synchronous dataset get(i) (use for await for async datasets)`, `a Promise for index ${i}`);
        return s;
      });
      const b = this.collateFn !== null ? this.collateFn(samples) : (defaultCollate(samples) as B);
      if (isThenable(b)) throw typeError('DataLoader', 'a synchronous collateFn (use for await for an async one)', 'a Promise');
      yield b;
    }
  }

  /** One epoch of batches; samples (and collate results) that are Promises are awaited. */
  async *[Symbol.asyncIterator](): AsyncIterator<Awaited<B>> {
    const fast = this.fastPath();
    for (const raw of this.batchSampler) {
      const idx = this.indexList(raw);
      if (idx.length === 0) continue;
      if (fast !== null) {
        yield (await fast(idx)) as Awaited<B>;
        continue;
      }
      const samples = await Promise.all(idx.map((i) => this.dataset.get(i)));
      yield this.collateFn !== null ? await this.collateFn(samples) : (defaultCollate(samples) as Awaited<B>);
    }
  }
}
