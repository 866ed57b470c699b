/**
 * `nd.transforms`: image transforms (torchvision.transforms and needle's data transforms).
 * Browser-safe.
 *
 * Every transform is an object with `forward(x)`. Images are tensors whose last two dims are
 * height and width, `[..., H, W]` (`[C, H, W]` for one image, as in PyTorch; a leading batch dim
 * gets the same random parameters for every image, as in torchvision). `ToTensor` turns
 * height-width-channel bytes (needle's and PIL's layout) into that form. Random transforms take a
 * `generator` (default: the global generator, so `nd.manualSeed` makes them reproducible).
 */
import { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import type { AnyTypedArray } from '../ndarray/dtype.js';
import { flip } from '../ops/shape.js';
import { defaultGenerator, Generator } from '../random.js';
import { applyTransform, type TransformLike } from './dataset.js';

export type { TransformLike } from './dataset.js';

/** A transform from `I` to `O`. */
export interface Transform<I = Tensor, O = Tensor> {
  forward(x: I): O;
}

function checkGenerator(fn: string, g: unknown): Generator {
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw typeError(fn, 'generator an nd.Generator', fmt(g));
  return g;
}

function checkImage(fn: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw typeError(fn, 'a Tensor image [..., H, W]', fmt(x));
  if (x.ndim < 2) throw rangeError(fn, 'an image with at least 2 dims [..., H, W]', fmtShape(x.shape));
  return x;
}

/**
 * Applies transforms in order (torchvision Compose). Entries may be transform objects or plain
 * functions.
 *
 * @example
 * const t = new nd.transforms.Compose([new nd.transforms.ToTensor(), new nd.transforms.Normalize([0.5], [0.5])]);
 * const x = t.forward(img);
 */
export class Compose<I = any, O = any> implements Transform<I, O> {
  readonly transforms: readonly TransformLike<any, any>[];
  constructor(transforms: readonly TransformLike<any, any>[]) {
    if (!Array.isArray(transforms)) throw typeError('Compose', 'an array of transforms', fmt(transforms));
    transforms.forEach((t, k) => {
      const ok = typeof t === 'function' || (t !== null && typeof t === 'object' && typeof (t as Transform<unknown, unknown>).forward === 'function');
      if (!ok) throw typeError('Compose', `transforms[${k}] a function or an object with forward(x)`, fmt(t));
    });
    this.transforms = [...transforms];
  }
  forward(x: I): O {
    let y: unknown = x;
    for (const t of this.transforms) y = applyTransform('Compose', t, y);
    return y as O;
  }
}

/** Wraps a function as a transform (torchvision Lambda). */
export class Lambda<I = any, O = any> implements Transform<I, O> {
  constructor(readonly fn: (x: I) => O) {
    if (typeof fn !== 'function') throw typeError('Lambda', 'a function', fmt(fn));
  }
  forward(x: I): O {
    return this.fn(x);
  }
}

/**
 * Per-channel `(x - mean[c]) / std[c]` (torchvision Normalize). The channel dim is -3
 * (`[..., C, H, W]`); with one mean and one std the input may have any shape (e.g. flat
 * `[784]` vectors). The input must be floating point; the output has its dtype.
 *
 * @example
 * new nd.transforms.Normalize([0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]).forward(img); // img [3, 32, 32]
 */
export class Normalize implements Transform {
  readonly mean: readonly number[];
  readonly std: readonly number[];
  constructor(mean: readonly number[] | number, std: readonly number[] | number) {
    const fn = 'Normalize';
    const m = typeof mean === 'number' ? [mean] : mean;
    const s = typeof std === 'number' ? [std] : std;
    if (!Array.isArray(m) || m.length === 0 || m.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw typeError(fn, 'mean finite numbers', fmt(mean));
    if (!Array.isArray(s) || s.length === 0 || s.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw typeError(fn, 'std finite numbers', fmt(std));
    if (s.some((v) => v === 0)) throw rangeError(fn, 'std without zeros', fmt(std));
    if (m.length !== s.length) throw rangeError(fn, `mean and std of one length`, `${m.length} and ${s.length}`);
    this.mean = [...m];
    this.std = [...s];
  }
  forward(x: Tensor): Tensor {
    const fn = 'Normalize';
    if (!(x instanceof Tensor)) throw typeError(fn, 'a Tensor', fmt(x));
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw typeError(fn, 'a floating-point tensor (use ToTensor first)', x.dtype);
    const C = this.mean.length;
    let inner = 1;
    if (C > 1) {
      if (x.ndim < 3 || x.shape[x.ndim - 3] !== C) throw rangeError(fn, `an image [..., ${C}, H, W] for ${C} channels`, fmtShape(x.shape));
      inner = x.shape[x.ndim - 1]! * x.shape[x.ndim - 2]!;
    }
    const src = x.dataSync();
    const out = x.dtype === 'float64' ? new Float64Array(src.length) : new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const c = C === 1 ? 0 : Math.floor(i / inner) % C;
      out[i] = (src[i]! - this.mean[c]!) / this.std[c]!;
    }
    return tensor(out, { shape: [...x.shape], dtype: x.dtype, device: x.device });
  }
}

/**
 * Flips the image left-right (the last dim) with probability `p` (torchvision
 * RandomHorizontalFlip; needle's RandomFlipHorizontal). One uniform draw per call: flip when
 * it is below `p`.
 */
export class RandomHorizontalFlip implements Transform {
  readonly p: number;
  readonly generator: Generator;
  constructor(p = 0.5, opts: { generator?: Generator } = {}) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw rangeError('RandomHorizontalFlip', 'p in [0, 1]', fmt(p));
    this.p = p;
    this.generator = checkGenerator('RandomHorizontalFlip', opts.generator);
  }
  forward(x: Tensor): Tensor {
    checkImage('RandomHorizontalFlip', x);
    return this.generator.nextUniform('float32') < this.p ? flip(x, -1) : x;
  }
}

/** Options of {@link RandomCrop}. */
export interface RandomCropOptions {
  /** Zero padding before the crop: all sides, `[leftRight, topBottom]` or `[left, top, right, bottom]` (torchvision's order). */
  padding?: number | readonly number[];
  /** Padding value (default 0). */
  fill?: number;
  generator?: Generator;
}

/**
 * Pads the image (zeros by default), then crops a random `size` window (torchvision RandomCrop).
 * With `size` equal to the image size this is needle's RandomCrop(padding): the image shifted by
 * a uniform offset in [-padding, padding] in each direction, zeros filling the gap. Offsets are
 * drawn top first, then left: `top = nextBelow(Hpadded - h + 1)`, `left = nextBelow(Wpadded - w + 1)`.
 *
 * @example
 * new nd.transforms.RandomCrop(32, { padding: 4 }).forward(img); // img [3, 32, 32] -> [3, 32, 32]
 */
export class RandomCrop implements Transform {
  readonly size: readonly [number, number];
  /** [left, top, right, bottom]. */
  readonly padding: readonly [number, number, number, number];
  readonly fill: number;
  readonly generator: Generator;

  constructor(size: number | readonly [number, number], opts: RandomCropOptions = {}) {
    const fn = 'RandomCrop';
    const sz = typeof size === 'number' ? [size, size] : size;
    if (!Array.isArray(sz) || sz.length !== 2 || sz.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
      throw rangeError(fn, 'size a positive integer or [height, width]', fmt(size));
    }
    const p = opts.padding ?? 0;
    const pl = typeof p === 'number' ? [p] : p;
    if (!Array.isArray(pl) || ![1, 2, 4].includes(pl.length) || pl.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw rangeError(fn, 'padding a non-negative integer or a list of 2 or 4 of them', fmt(p));
    }
    this.size = [sz[0]!, sz[1]!];
    this.padding = pl.length === 1 ? [pl[0]!, pl[0]!, pl[0]!, pl[0]!] : pl.length === 2 ? [pl[0]!, pl[1]!, pl[0]!, pl[1]!] : [pl[0]!, pl[1]!, pl[2]!, pl[3]!];
    this.fill = opts.fill ?? 0;
    if (typeof this.fill !== 'number') throw typeError(fn, 'fill a number', fmt(this.fill));
    this.generator = checkGenerator(fn, opts.generator);
  }

  forward(x: Tensor): Tensor {
    const fn = 'RandomCrop';
    checkImage(fn, x);
    const H = x.shape[x.ndim - 2]!;
    const W = x.shape[x.ndim - 1]!;
    const [pl, pt, pr, pb] = this.padding;
    const [h, w] = this.size;
    const Hp = H + pt + pb;
    const Wp = W + pl + pr;
    if (h > Hp || w > Wp) throw rangeError(fn, `a crop size at most the padded image ${Hp}x${Wp}`, `${h}x${w} for ${fmtShape(x.shape)}`);
    const top = this.generator.nextBelow(Hp - h + 1);
    const left = this.generator.nextBelow(Wp - w + 1);
    return crop(x, top - pt, left - pl, h, w, this.fill);
  }
}

/** The `h` x `w` window of `x` whose top-left corner is at (y0, x0), `fill` outside the image. */
function crop(x: Tensor, y0: number, x0: number, h: number, w: number, fill: number): Tensor {
  const H = x.shape[x.ndim - 2]!;
  const W = x.shape[x.ndim - 1]!;
  const planes = x.size / (H * W);
  const src = x.dataSync();
  const out = new (src.constructor as new (n: number) => AnyTypedArray)(planes * h * w);
  if (fill !== 0) out.fill(fill);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < h; y++) {
      const sy = y + y0;
      if (sy < 0 || sy >= H) continue;
      const xs = Math.max(0, -x0);
      const xe = Math.min(w, W - x0);
      if (xe <= xs) continue;
      const s = p * H * W + sy * W + x0;
      out.set(src.subarray(s + xs, s + xe), p * h * w + y * w + xs);
    }
  }
  return tensor(out, { shape: [...x.shape.slice(0, -2), h, w], dtype: x.dtype, device: x.device });
}

/** A raw image: bytes in height-width-channel order (browser `ImageData` fits: RGBA). */
export interface RawImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** Channels per pixel (default `data.length / (width * height)`). */
  channels?: number;
}

/**
 * Height-width-channel bytes to a float32 `[C, H, W]` tensor in [0, 1] (torchvision ToTensor):
 * divides by 255 and moves channels first. Accepts a {@link RawImage} (e.g. a browser
 * `ImageData`), or an integer tensor `[H, W, C]` or `[H, W]` with values in 0..255 (needle-ts has
 * no uint8 dtype, so int32 stands for it). A floating-point tensor is only permuted (not scaled),
 * as torchvision does for non-uint8 arrays.
 *
 * @example
 * new nd.transforms.ToTensor().forward({ data: bytes, width: 32, height: 32, channels: 3 }); // [3, 32, 32]
 */
export class ToTensor implements Transform<Tensor | RawImage, Tensor> {
  forward(img: Tensor | RawImage): Tensor {
    const fn = 'ToTensor';
    let data: ArrayLike<number>;
    let H: number;
    let W: number;
    let C: number;
    let scale = true;
    if (img instanceof Tensor) {
      if (img.ndim !== 2 && img.ndim !== 3) throw rangeError(fn, 'an image tensor [H, W, C] or [H, W]', fmtShape(img.shape));
      [H, W] = [img.shape[0]!, img.shape[1]!];
      C = img.ndim === 3 ? img.shape[2]! : 1;
      data = img.dataSync();
      scale = img.dtype === 'int32' || img.dtype === 'bool';
    } else if (img !== null && typeof img === 'object' && img.data !== undefined && typeof img.data.length === 'number') {
      H = img.height;
      W = img.width;
      if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) throw rangeError(fn, 'positive integer width and height', `${fmt(img.width)}x${fmt(img.height)}`);
      C = img.channels ?? img.data.length / (H * W);
      if (!Number.isInteger(C) || C < 1 || img.data.length !== H * W * C) {
        throw rangeError(fn, `${H}x${W}x${img.channels ?? 'C'} bytes for a ${W}x${H} image`, `${img.data.length}`);
      }
      data = img.data;
    } else {
      throw typeError(fn, 'an image tensor [H, W, C] or { data, width, height, channels }', fmt(img));
    }
    const out = new Float32Array(H * W * C);
    const div = scale ? 255 : 1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const base = (y * W + x) * C;
        for (let c = 0; c < C; c++) out[c * H * W + y * W + x] = data[base + c]! / div;
      }
    }
    return tensor(out, { shape: [C, H, W], ...(img instanceof Tensor ? { device: img.device } : {}) });
  }
}
