/**
 * Samplers (torch.utils.data samplers): iterables of dataset indices. Browser-safe.
 *
 * Any `Iterable<number>` works as a sampler; a `length` property (or an array's length) lets the
 * DataLoader report its number of batches. Each iteration of a random sampler draws a fresh
 * permutation from its generator, so every epoch has a new order while a seeded generator makes
 * the whole sequence of epochs reproducible.
 */
import { fmt, rangeError, typeError } from '../errors.js';
import { defaultGenerator, randperm, Generator } from '../random.js';

/** An iterable of indices, optionally with its length. */
export type Sampler = Iterable<number> & { readonly length?: number };

function checkCount(fn: string, what: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw rangeError(fn, `${what} a non-negative integer`, fmt(n));
  return n;
}

function checkGenerator(fn: string, g: unknown): Generator {
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw typeError(fn, 'generator an nd.Generator', fmt(g));
  return g;
}

/** 0, 1, ..., n-1 in order (torch SequentialSampler). */
export class SequentialSampler implements Sampler {
  readonly length: number;
  constructor(dataSource: { readonly length: number }) {
    this.length = checkCount('SequentialSampler', 'dataSource.length', dataSource?.length);
  }
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }
}

/** Options of {@link RandomSampler}. */
export interface RandomSamplerOptions {
  /** Draw with replacement (then `numSamples` indices, each uniform in [0, n)). */
  replacement?: boolean;
  /** Number of indices per iteration (default n; more than n only with replacement). */
  numSamples?: number;
  /** Source of randomness (default: the global generator). */
  generator?: Generator;
}

/**
 * A random order of 0..n-1, drawn anew at each iteration (torch RandomSampler). The permutation
 * is `nd.randperm(n, { generator })`, drawn when the iteration starts.
 */
export class RandomSampler implements Sampler {
  readonly n: number;
  readonly replacement: boolean;
  readonly length: number;
  readonly generator: Generator;

  constructor(dataSource: { readonly length: number }, opts: RandomSamplerOptions = {}) {
    const fn = 'RandomSampler';
    this.n = checkCount(fn, 'dataSource.length', dataSource?.length);
    this.replacement = opts.replacement ?? false;
    this.length = opts.numSamples === undefined ? this.n : checkCount(fn, 'numSamples', opts.numSamples);
    if (!this.replacement && this.length > this.n) throw rangeError(fn, `numSamples at most ${this.n} without replacement`, String(this.length));
    if (this.replacement && this.n === 0 && this.length > 0) throw rangeError(fn, 'a non-empty data source to draw with replacement', 'length 0');
    this.generator = checkGenerator(fn, opts.generator);
  }

  [Symbol.iterator](): Iterator<number> {
    let idx: ArrayLike<number>;
    if (this.replacement) {
      const a = new Int32Array(this.length);
      for (let i = 0; i < a.length; i++) a[i] = this.generator.nextBelow(this.n);
      idx = a;
    } else {
      idx = (randperm(this.n, { generator: this.generator }).dataSync() as Int32Array).subarray(0, this.length);
    }
    return Array.prototype[Symbol.iterator].call(idx) as Iterator<number>;
  }
}

/** The given indices in a random order, drawn anew at each iteration (torch SubsetRandomSampler). */
export class SubsetRandomSampler implements Sampler {
  readonly indices: readonly number[];
  readonly generator: Generator;
  constructor(indices: ArrayLike<number>, opts: { generator?: Generator } = {}) {
    this.indices = Array.from(indices ?? [], (i, k) => {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0) throw rangeError('SubsetRandomSampler', 'indices non-negative integers', `${fmt(i)} at position ${k}`);
      return i;
    });
    this.generator = checkGenerator('SubsetRandomSampler', opts.generator);
  }
  get length(): number {
    return this.indices.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const perm = randperm(this.indices.length, { generator: this.generator }).dataSync();
    for (const p of perm) yield this.indices[p]!;
  }
}

/**
 * Groups a sampler's indices into batches of `batchSize` (torch BatchSampler); the last, short
 * batch is kept unless `dropLast`.
 */
export class BatchSampler implements Iterable<number[]> {
  readonly sampler: Sampler;
  readonly batchSize: number;
  readonly dropLast: boolean;

  constructor(sampler: Sampler, batchSize: number, dropLast = false) {
    const fn = 'BatchSampler';
    if (sampler === null || typeof (sampler as Partial<Sampler>)?.[Symbol.iterator] !== 'function') throw typeError(fn, 'sampler an iterable of indices', fmt(sampler));
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) throw rangeError(fn, 'batchSize a positive integer', fmt(batchSize));
    this.sampler = sampler;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
  }

  /** Number of batches (needs the sampler's length). */
  get length(): number {
    const n = samplerLength('BatchSampler', this.sampler);
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    const it = this.sampler[Symbol.iterator]();
    for (let r = it.next(); !r.done; r = it.next()) {
      batch.push(r.value);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}

/** A sampler's length, or a TypeError naming `fn` when it has none. */
export function samplerLength(fn: string, s: Iterable<unknown> & { readonly length?: number }): number {
  const n = s.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw typeError(fn, 'a sampler with a length (an array or an object with length)', `${fmt(s)} without one`);
  return n;
}
