/**
 * Synthetic sequence tasks of the model zoo, generated from a seeded {@link Generator}: the adding
 * problem (TCN), digit-string reversal (Seq2Seq) and occurrence tagging (BiLSTM tagger).
 * Browser-safe. The same generator state always gives the same data, and the random numbers are
 * drawn sample by sample, so the first k samples of a call for n > k are those of a call for k.
 */
import type { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { fmt, rangeError, typeError } from '../errors.js';
import { defaultGenerator, Generator } from '../random.js';

function checkCount(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw rangeError(fn, `${name} to be an integer >= ${min}`, fmt(v));
  }
  return v;
}

function checkGenerator(fn: string, g: unknown): Generator {
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw typeError(fn, 'generator an nd.Generator', fmt(g));
  return g;
}

/** The adding problem: inputs and targets. */
export interface AddingProblem {
  /** (N, 2, T) float32: channel 0 the values, channel 1 the two markers. */
  x: Tensor;
  /** (N) float32: the sum of the two marked values. */
  y: Tensor;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997; the TCN paper's first benchmark): each
 * input is a (2, T) sequence whose channel 0 holds T values drawn U(0, 1) and whose channel 1 is
 * zero except for a 1 at two distinct random positions; the target is the sum of the two marked
 * values (mean 1, variance 1/6, so always predicting 1 has MSE 1/6).
 *
 * Per sequence it draws T uniforms (`nextUniform('float64')`), then the first marked position
 * (`nextBelow(T)`) and the second (`nextBelow(T - 1)`, skipping the first).
 *
 * Shape: x (n, 2, length) float32, y (n) float32.
 *
 * @example
 * const { x, y } = nd.datasets.addingProblem(32, 100, new nd.Generator(1));
 * x.shape; // [32, 2, 100]
 */
export function addingProblem(n: number, length: number, generator?: Generator): AddingProblem {
  const fn = 'addingProblem';
  const N = checkCount(fn, 'n', n, 0);
  const T = checkCount(fn, 'length', length, 2);
  const g = checkGenerator(fn, generator);
  const x = new Float32Array(N * 2 * T);
  const y = new Float32Array(N);
  for (let s = 0; s < N; s++) {
    const o = s * 2 * T;
    for (let t = 0; t < T; t++) x[o + t] = g.nextUniform('float64');
    const i = g.nextBelow(T);
    let j = g.nextBelow(T - 1);
    if (j >= i) j++;
    x[o + T + i] = 1;
    x[o + T + j] = 1;
    y[s] = x[o + i]! + x[o + j]!;
  }
  return { x: tensor(x, { shape: [N, 2, T] }), y: tensor(y, { shape: [N] }) };
}

/**
 * `n` random strings of `length` symbols, each uniform on [0, symbols) (`nextBelow(symbols)`,
 * string by string, left to right).
 *
 * @example
 * nd.datasets.randomStrings(2, 5, 10, new nd.Generator(0)); // e.g. [[3, 9, 1, 0, 7], [5, 5, 2, 8, 4]]
 */
export function randomStrings(n: number, length: number, symbols: number, generator?: Generator): number[][] {
  const fn = 'randomStrings';
  const N = checkCount(fn, 'n', n, 0);
  const L = checkCount(fn, 'length', length, 1);
  const K = checkCount(fn, 'symbols', symbols, 1);
  const g = checkGenerator(fn, generator);
  return Array.from({ length: N }, () => Array.from({ length: L }, () => g.nextBelow(K)));
}

/**
 * `n` random digit strings for the reversal task, each of its own length: per string, the length
 * is drawn uniform on [minLen, maxLen] (`minLen + nextBelow(maxLen - minLen + 1)`), then its
 * digits uniform on 0..9.
 *
 * @example
 * const strings = nd.datasets.reversalStrings(2000, 5, 10, new nd.Generator(1000));
 */
export function reversalStrings(n: number, minLen: number, maxLen: number, generator?: Generator): number[][] {
  const fn = 'reversalStrings';
  const N = checkCount(fn, 'n', n, 0);
  const lo = checkCount(fn, 'minLen', minLen, 1);
  const hi = checkCount(fn, 'maxLen', maxLen, lo);
  const g = checkGenerator(fn, generator);
  return Array.from({ length: N }, () => {
    const L = lo + g.nextBelow(hi - lo + 1);
    return Array.from({ length: L }, () => g.nextBelow(10));
  });
}

/** Options of {@link reversalBatch} and {@link occurrenceTagging}. */
export interface SequenceLayoutOptions {
  /** (N, L) tensors instead of the sequence-first (L, N) the recurrent models take. Default false. */
  batchFirst?: boolean;
}

/** Options of {@link reversalBatch}. */
export interface ReversalBatchOptions extends SequenceLayoutOptions {
  /** The start token of the decoder input. Default 10 ({@link REVERSAL_BOS}). */
  bos?: number;
  /** The end token closing the target. Default 11 ({@link REVERSAL_EOS}). */
  eos?: number;
}

/** The reversal task's start token (after the digits 0..9). */
export const REVERSAL_BOS = 10;
/** The reversal task's end token. */
export const REVERSAL_EOS = 11;

/** Tensors of one reversal batch. */
export interface ReversalBatch {
  /** The strings, (L, N) int32 (batchFirst: (N, L)). */
  src: Tensor;
  /** The decoder input: bos then the reversed string, (L + 1, N) int32. */
  tgtIn: Tensor;
  /** The target: the reversed string then eos, (L + 1, N) int32. */
  tgtOut: Tensor;
}

/** Int32 tensor of equal-length rows, (L, N) or with batchFirst (N, L). */
function idsTensor(fn: string, rows: readonly (readonly number[])[], batchFirst: boolean): Tensor {
  const N = rows.length;
  const L = rows[0]?.length ?? 0;
  const flat = new Int32Array(L * N);
  for (let n = 0; n < N; n++) {
    const r = rows[n]!;
    if (r.length !== L) throw rangeError(fn, `strings of one length ${L}`, `length ${r.length} at index ${n}`);
    for (let t = 0; t < L; t++) flat[batchFirst ? n * L + t : t * N + n] = r[t]!;
  }
  return tensor(flat, { dtype: 'int32', shape: batchFirst ? [N, L] : [L, N] });
}

/**
 * A teacher-forcing batch of the reversal task from strings that share one length L: the source,
 * the decoder input [bos, reversed string] and the target [reversed string, eos].
 *
 * Shape: seqs N x L -> src (L, N), tgtIn (L + 1, N), tgtOut (L + 1, N) int32 (with
 * `batchFirst`: (N, L), (N, L + 1), (N, L + 1)).
 *
 * @example
 * const { src, tgtIn, tgtOut } = nd.datasets.reversalBatch([[1, 2, 3], [4, 5, 6]]);
 * tgtOut.toArray(); // [[3, 6], [2, 5], [1, 4], [11, 11]]
 */
export function reversalBatch(seqs: readonly (readonly number[])[], opts: ReversalBatchOptions = {}): ReversalBatch {
  const fn = 'reversalBatch';
  if (!Array.isArray(seqs) || seqs.length === 0) throw rangeError(fn, 'a non-empty array of strings', fmt(seqs));
  const bos = opts.bos ?? REVERSAL_BOS;
  const eos = opts.eos ?? REVERSAL_EOS;
  const bf = opts.batchFirst ?? false;
  const rev = seqs.map((s) => [...s].reverse());
  return {
    src: idsTensor(fn, seqs, bf),
    tgtIn: idsTensor(fn, rev.map((r) => [bos, ...r]), bf),
    tgtOut: idsTensor(fn, rev.map((r) => [...r, eos]), bf),
  };
}

/**
 * The occurrence tags of one string: tag(t) = 2 [s_t occurs in s_0..s_{t-1}] + [s_t occurs in
 * s_{t+1}..s_{L-1}], in 0..3. The second bit needs the right context, so a left-to-right model
 * can only guess it.
 *
 * @example
 * nd.datasets.occurrenceTags([1, 2, 1, 3, 1]); // [1, 0, 3, 0, 2]
 */
export function occurrenceTags(s: readonly number[]): number[] {
  return s.map((v, t) => 2 * Number(s.slice(0, t).includes(v)) + Number(s.slice(t + 1).includes(v)));
}

/** An occurrence-tagging data set. */
export interface OccurrenceTagging {
  /** The strings, (L, N) int32 (batchFirst: (N, L)). */
  x: Tensor;
  /** Their tags in 0..3, the same shape, int32. */
  y: Tensor;
  /** The strings as arrays. */
  seqs: number[][];
}

/**
 * `n` strings of `length` symbols uniform on [0, symbols) (drawn as {@link randomStrings}) and
 * their {@link occurrenceTags}.
 *
 * Shape: x (length, n), y (length, n) int32; with `batchFirst` (n, length).
 *
 * @example
 * const { x, y } = nd.datasets.occurrenceTagging(64, 12, 10, new nd.Generator(1));
 * x.shape; // [12, 64]
 */
export function occurrenceTagging(n: number, length: number, symbols: number, generator?: Generator, opts: SequenceLayoutOptions = {}): OccurrenceTagging {
  const seqs = randomStrings(n, length, symbols, generator);
  const bf = opts.batchFirst ?? false;
  if (seqs.length === 0) {
    const shape = bf ? [0, length] : [length, 0];
    return { x: tensor(new Int32Array(0), { dtype: 'int32', shape }), y: tensor(new Int32Array(0), { dtype: 'int32', shape }), seqs };
  }
  return { x: idsTensor('occurrenceTagging', seqs, bf), y: idsTensor('occurrenceTagging', seqs.map(occurrenceTags), bf), seqs };
}
