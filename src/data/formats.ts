/**
 * Readers for the standard data-set file formats: MNIST / Fashion-MNIST IDX (raw or gzipped)
 * and CIFAR-10 binary batches.
 *
 * Every reader takes a file path (Node: the file is read with a lazily imported `node:fs`) or
 * the file's bytes (anywhere; gzip is inflated with `node:zlib` in Node and `DecompressionStream`
 * in browsers). Bad data is an error that names the file and the problem, never a silently wrong
 * array: wrong magic, truncated or oversized files, record sizes that do not divide the file,
 * out-of-range labels.
 */
import { fmt, typeError } from '../errors.js';
import { nodeModules } from './node.js';
import type { ImageSplit } from './real.js';

/** A file path, or its contents. */
export type PathOrBytes = string | Uint8Array | ArrayBuffer;

/** The element types of IDX files. */
export type IDXType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The contents of an IDX file. */
export interface IDXArray {
  type: IDXType;
  shape: number[];
  /** The elements in row-major order, host-endian. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const IDX_TYPES: Record<number, { type: IDXType; size: number }> = {
  0x08: { type: 'uint8', size: 1 },
  0x09: { type: 'int8', size: 1 },
  0x0b: { type: 'int16', size: 2 },
  0x0c: { type: 'int32', size: 4 },
  0x0d: { type: 'float32', size: 4 },
  0x0e: { type: 'float64', size: 8 },
};

function hex(bytes: Uint8Array): string {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A data-format error: `<fn>: <expected> in <file>, got <actual>`. */
function bad(fn: string, file: string, expected: string, actual: string): RangeError {
  return new RangeError(`${fn}: ${expected} in ${file}, got ${actual}`);
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

async function gunzip(fn: string, file: string, bytes: Uint8Array): Promise<Uint8Array> {
  let zlib: typeof import('node:zlib') | null = null;
  try {
    zlib = (await nodeModules(fn)).zlib;
  } catch {
    zlib = null;
  }
  try {
    if (zlib !== null) return new Uint8Array(zlib.gunzipSync(bytes));
    const DS = (globalThis as { DecompressionStream?: new (f: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
    if (DS === undefined) throw typeError(fn, 'node:zlib or DecompressionStream to read gzip', 'neither');
    const stream = new Blob([bytes.slice()]).stream().pipeThrough(new DS('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    if (e instanceof TypeError && e.message.startsWith(fn)) throw e;
    throw bad(fn, file, 'valid gzip data', `${(e as Error).message} (corrupt or truncated gzip)`);
  }
}

/** Reads a path or takes bytes; returns the bytes (gunzipped when gzip) and a name for errors. */
async function input(fn: string, src: PathOrBytes, name?: string): Promise<{ bytes: Uint8Array; file: string }> {
  let bytes: Uint8Array;
  let file: string;
  if (typeof src === 'string') {
    if (src.length === 0) throw typeError(fn, 'a file path or bytes', '""');
    const { fs } = await nodeModules(fn);
    try {
      bytes = await fs.readFile(src);
    } catch (e) {
      throw new Error(`${fn}: a readable file ${src}, got ${(e as Error).message}`);
    }
    file = src;
  } else if (src instanceof Uint8Array) {
    bytes = src;
    file = name ?? '<bytes>';
  } else if (src instanceof ArrayBuffer) {
    bytes = new Uint8Array(src);
    file = name ?? '<bytes>';
  } else {
    throw typeError(fn, 'a file path, Uint8Array or ArrayBuffer', fmt(src));
  }
  if (isGzip(bytes)) bytes = await gunzip(fn, file, bytes);
  return { bytes, file };
}

/**
 * Parses IDX bytes (not gzipped): the magic `00 00 type ndim`, `ndim` big-endian uint32 sizes,
 * then the big-endian elements. `file` names the source in errors.
 */
export function parseIDX(bytes: Uint8Array, file = '<bytes>'): IDXArray {
  const fn = 'readIDX';
  if (bytes.length < 4) throw bad(fn, file, 'an IDX header of at least 4 bytes', `${bytes.length} bytes (file truncated)`);
  const spec = IDX_TYPES[bytes[2]!];
  if (bytes[0] !== 0 || bytes[1] !== 0 || spec === undefined) {
    throw bad(fn, file, 'IDX magic 00 00 <type 08/09/0b/0c/0d/0e> <ndim>', `${hex(bytes.subarray(0, 4))} (not an IDX file, or gzip data that was cut)`);
  }
  const ndim = bytes[3]!;
  if (ndim === 0) throw bad(fn, file, 'at least one dimension in the IDX header', '0');
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw bad(fn, file, `an IDX header of ${headerBytes} bytes for ${ndim} dims`, `${bytes.length} bytes (file truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const need = headerBytes + count * spec.size;
  if (bytes.length < need) {
    throw bad(fn, file, `${count * spec.size} bytes of ${spec.type} data for shape [${shape.join(',')}]`, `${bytes.length - headerBytes} (file truncated)`);
  }
  if (bytes.length > need) {
    throw bad(fn, file, `${count * spec.size} bytes of ${spec.type} data for shape [${shape.join(',')}]`, `${bytes.length - headerBytes} (${bytes.length - need} trailing bytes)`);
  }
  const off = headerBytes;
  let data: IDXArray['data'];
  switch (spec.type) {
    case 'uint8':
      data = bytes.slice(off, need);
      break;
    case 'int8':
      data = new Int8Array(bytes.slice(off, need).buffer);
      break;
    case 'int16':
      data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(off + 2 * i, false);
      break;
    case 'int32':
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(off + 4 * i, false);
      break;
    case 'float32':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(off + 4 * i, false);
      break;
    case 'float64':
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(off + 8 * i, false);
      break;
  }
  return { type: spec.type, shape, data };
}

/**
 * Reads an IDX file (MNIST / Fashion-MNIST format), raw or gzipped, from a path (Node) or bytes.
 *
 * @example
 * const { shape, data } = await nd.datasets.readIDX('train-images-idx3-ubyte.gz'); // [60000, 28, 28], Uint8Array
 */
export async function readIDX(src: PathOrBytes, opts: { name?: string } = {}): Promise<IDXArray> {
  const { bytes, file } = await input('readIDX', src, opts.name);
  return parseIDX(bytes, file);
}

/**
 * Reads an MNIST-style pair of IDX files (needle's `parse_mnist`): images `[N, rows, cols]`
 * uint8 scaled to float32 in [0, 1] (flattened, `N * rows * cols`), labels `[N]` uint8 checked
 * against `numClasses` (default 10).
 *
 * @example
 * const train = await nd.datasets.readMNIST('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
 * const [x, y] = nd.datasets.toTensors(train);
 */
export async function readMNIST(images: PathOrBytes, labels: PathOrBytes, opts: { numClasses?: number } = {}): Promise<ImageSplit> {
  const fn = 'readMNIST';
  const numClasses = opts.numClasses ?? 10;
  const im = await readIDX(images);
  const lb = await readIDX(labels);
  const imFile = typeof images === 'string' ? images : '<image bytes>';
  const lbFile = typeof labels === 'string' ? labels : '<label bytes>';
  if (im.type !== 'uint8' || im.shape.length !== 3) throw bad(fn, imFile, 'uint8 images [N, rows, cols]', `${im.type} [${im.shape.join(',')}]`);
  if (lb.type !== 'uint8' || lb.shape.length !== 1) throw bad(fn, lbFile, 'uint8 labels [N]', `${lb.type} [${lb.shape.join(',')}]`);
  const n = im.shape[0]!;
  if (lb.shape[0] !== n) throw bad(fn, lbFile, `${n} labels, one per image of ${imFile}`, String(lb.shape[0]));
  const labelsOut = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lb.data[i]!;
    if (v >= numClasses) throw bad(fn, lbFile, `labels in 0..${numClasses - 1}`, `${v} at index ${i}`);
    labelsOut[i] = v;
  }
  const src = im.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! / 255;
  return { images: out, labels: labelsOut, n };
}

/** A CIFAR-10 batch: `n` images of 3x32x32 bytes (channel planes R, G, B, each row-major). */
export interface CIFARSplit {
  /** `n * 3072` bytes, image after image, each `[3, 32, 32]`. */
  images: Uint8Array;
  /** `n` labels in 0..9. */
  labels: Int32Array;
  n: number;
}

/** The size of one CIFAR-10 binary record: a label byte and 3 * 32 * 32 pixel bytes. */
export const CIFAR10_RECORD = 3073;

/** Parses CIFAR-10 binary-batch bytes (`file` names the source in errors). */
export function parseCIFAR10(bytes: Uint8Array, file = '<bytes>'): CIFARSplit {
  const fn = 'readCIFAR10';
  if (bytes.length === 0) throw bad(fn, file, `records of ${CIFAR10_RECORD} bytes`, 'an empty file');
  if (bytes.length % CIFAR10_RECORD !== 0) {
    throw bad(fn, file, `a whole number of ${CIFAR10_RECORD}-byte records (1 label + 3072 pixels)`, `${bytes.length} bytes (${Math.floor(bytes.length / CIFAR10_RECORD)} records and ${bytes.length % CIFAR10_RECORD} bytes over: truncated, or not CIFAR-10 binary)`);
  }
  const n = bytes.length / CIFAR10_RECORD;
  const images = new Uint8Array(n * 3072);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const at = r * CIFAR10_RECORD;
    const label = bytes[at]!;
    if (label > 9) throw bad(fn, file, 'labels in 0..9', `${label} in record ${r} (byte ${at})`);
    labels[r] = label;
    images.set(bytes.subarray(at + 1, at + CIFAR10_RECORD), r * 3072);
  }
  return { images, labels, n };
}

/**
 * Reads a CIFAR-10 binary batch (`data_batch_1.bin` ... `test_batch.bin`; gzip accepted) from a
 * path (Node) or bytes. `nd.datasets.toTensors(split, { shape: [3, 32, 32] })` makes tensors.
 *
 * @example
 * const batch = await nd.datasets.readCIFAR10('cifar-10-batches-bin/data_batch_1.bin'); // n = 10000
 */
export async function readCIFAR10(src: PathOrBytes, opts: { name?: string } = {}): Promise<CIFARSplit> {
  const { bytes, file } = await input('readCIFAR10', src, opts.name);
  return parseCIFAR10(bytes, file);
}

/**
 * Reads the CIFAR-10 training batches (`data_batch_1.bin` to `data_batch_5.bin`, 50,000 images)
 * or the test batch (`test_batch.bin`, 10,000) from the `cifar-10-batches-bin` folder (Node).
 */
export async function loadCIFAR10(dir: string, opts: { train?: boolean } = {}): Promise<CIFARSplit> {
  const { path } = await nodeModules('loadCIFAR10');
  const names = opts.train ?? true ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
  const parts = [];
  for (const name of names) parts.push(await readCIFAR10(path.join(dir, name)));
  const n = parts.reduce((a, p) => a + p.n, 0);
  const images = new Uint8Array(n * 3072);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3072);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { images, labels, n };
}
