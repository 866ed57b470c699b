/**
 * Penn-Treebank-style language-model data, as needle defines it (`ptb_dataset.py`):
 * a word {@link Dictionary}, a {@link Corpus} of `train.txt` / `test.txt` token ids (each line's
 * whitespace-separated words followed by `<eos>`), {@link batchify} into columns and
 * {@link getBatch} windows of `bptt` steps. Browser-safe except `Corpus.load` (Node).
 */
import type { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { fmt, rangeError, typeError } from '../errors.js';
import { getItem } from '../ops/indexing.js';
import { reshape } from '../ops/shape.js';
import { nodeModules } from './node.js';

/** Word <-> id maps, ids assigned in order of first appearance (needle Dictionary). */
export class Dictionary {
  readonly word2idx = new Map<string, number>();
  readonly idx2word: string[] = [];

  /** The id of `word`, adding it when new. */
  addWord(word: string): number {
    let id = this.word2idx.get(word);
    if (id === undefined) {
      id = this.idx2word.length;
      this.word2idx.set(word, id);
      this.idx2word.push(word);
    }
    return id;
  }

  /** Number of words. */
  get length(): number {
    return this.idx2word.length;
  }
}

/** Options of {@link Corpus.load}. */
export interface CorpusOptions {
  /** Read at most this many lines of each file (needle's `max_lines`). */
  maxLines?: number;
}

/**
 * Token ids of a training and a test text over one shared {@link Dictionary} (needle Corpus).
 *
 * @example
 * const corpus = await nd.datasets.Corpus.load('data/ptb', { maxLines: 1000 }); // train.txt, test.txt
 * const train = nd.datasets.batchify(corpus.train, 16);                         // [nbatch, 16] int32
 * const [x, y] = nd.datasets.getBatch(train, 0, 35);                             // [35, 16], [560]
 */
export class Corpus {
  readonly dictionary = new Dictionary();
  train: number[] = [];
  test: number[] = [];

  /** Reads `baseDir/train.txt` and `baseDir/test.txt` (Node). */
  static async load(baseDir: string, opts: CorpusOptions = {}): Promise<Corpus> {
    const fn = 'Corpus.load';
    if (typeof baseDir !== 'string' || baseDir === '') throw typeError(fn, 'a folder path', fmt(baseDir));
    const { fs, path } = await nodeModules(fn);
    const c = new Corpus();
    for (const split of ['train', 'test'] as const) {
      const file = path.join(baseDir, `${split}.txt`);
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        throw new Error(`${fn}: a readable file ${file}, got ${(e as Error).message}`);
      }
      c[split] = c.tokenize(text, { ...opts, file });
    }
    return c;
  }

  /**
   * Token ids of `text` (needle's `tokenize`): for each line (up to `maxLines`), its
   * whitespace-separated words and then `<eos>`, added to the dictionary. A text with no line
   * is an error naming `file`.
   */
  tokenize(text: string, opts: CorpusOptions & { file?: string } = {}): number[] {
    const fn = 'Corpus.tokenize';
    const file = opts.file ?? '<text>';
    if (typeof text !== 'string') throw typeError(fn, 'a string', fmt(text));
    const max = opts.maxLines;
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw rangeError(fn, 'maxLines a non-negative integer', fmt(max));
    if (text.length === 0) throw new RangeError(`${fn}: a non-empty corpus in ${file}, got an empty file`);
    // Lines as Python's file iteration yields them: a final newline does not start another line.
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const ids: number[] = [];
    const n = max === undefined ? lines.length : Math.min(max, lines.length);
    for (let i = 0; i < n; i++) {
      for (const w of lines[i]!.split(/\s+/)) if (w !== '') ids.push(this.dictionary.addWord(w));
      ids.push(this.dictionary.addWord('<eos>'));
    }
    if (ids.length === 0) throw new RangeError(`${fn}: a corpus with at least one line in ${file}, got none (maxLines ${max})`);
    return ids;
  }
}

/**
 * Arranges a token sequence into `batchSize` columns (needle / PyTorch word_language_model
 * batchify): the tokens that do not fill a whole row are dropped, and column `j` holds the j-th
 * contiguous chunk, so `out[r][j] = data[j * nbatch + r]`. Returns an int32 tensor
 * `[nbatch, batchSize]`.
 *
 * @example
 * nd.datasets.batchify([0, 1, 2, 3, 4, 5, 6], 2).toArray(); // [[0, 3], [1, 4], [2, 5]]
 */
export function batchify(data: ArrayLike<number>, batchSize: number, opts: { device?: string } = {}): Tensor {
  const fn = 'batchify';
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') throw typeError(fn, 'data an array of token ids', fmt(data));
  if (!Number.isInteger(batchSize) || batchSize < 1) throw rangeError(fn, 'batchSize a positive integer', fmt(batchSize));
  const nbatch = Math.floor(data.length / batchSize);
  if (nbatch === 0) throw rangeError(fn, `at least batchSize = ${batchSize} tokens`, String(data.length));
  const out = new Int32Array(nbatch * batchSize);
  for (let r = 0; r < nbatch; r++) {
    for (let j = 0; j < batchSize; j++) {
      const v = data[j * nbatch + r]!;
      if (!Number.isInteger(v)) throw typeError(fn, 'integer token ids', `${fmt(v)} at index ${j * nbatch + r}`);
      out[r * batchSize + j] = v;
    }
  }
  return tensor(out, { shape: [nbatch, batchSize], dtype: 'int32', ...(opts.device !== undefined ? { device: opts.device } : {}) });
}

/**
 * The window of rows `i .. i + seqLen - 1` of a batchified source and its next-token targets
 * (needle get_batch): `seqLen = min(bptt, nbatch - 1 - i)`; data `[seqLen, batchSize]`, target
 * the rows `i + 1 .. i + seqLen` flattened to `[seqLen * batchSize]`.
 *
 * @example
 * for (let i = 0; i < source.shape[0] - 1; i += bptt) {
 *   const [x, y] = nd.datasets.getBatch(source, i, bptt);
 * }
 */
export function getBatch(source: Tensor, i: number, bptt: number): [Tensor, Tensor] {
  const fn = 'getBatch';
  if (source === null || typeof source !== 'object' || !Array.isArray(source.shape) || source.ndim !== 2) {
    throw typeError(fn, 'source a batchified [nbatch, batchSize] tensor', fmt(source));
  }
  const nbatch = source.shape[0]!;
  if (!Number.isInteger(bptt) || bptt < 1) throw rangeError(fn, 'bptt a positive integer', fmt(bptt));
  if (!Number.isInteger(i) || i < 0 || i >= nbatch - 1) throw rangeError(fn, `i in [0, ${nbatch - 2}] (a next row is needed for targets)`, fmt(i));
  const seqLen = Math.min(bptt, nbatch - 1 - i);
  const data = getItem(source, { start: i, stop: i + seqLen });
  const target = reshape(getItem(source, { start: i + 1, stop: i + 1 + seqLen }), [-1]);
  return [data, target];
}
