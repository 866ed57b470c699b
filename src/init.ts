/**
 * `nd.nn.init`: parameter initializers, in two sets.
 *
 * 1. PyTorch's in-place initializers (torch.nn.init), camelCased with a trailing underscore:
 *    {@link calculateGain}, {@link computeFans}, {@link uniform_}, {@link normal_},
 *    {@link truncNormal_}, {@link constant_}, {@link ones_}, {@link zeros_}, {@link eye_},
 *    {@link dirac_}, {@link xavierUniform_}, {@link xavierNormal_}, {@link kaimingUniform_},
 *    {@link kaimingNormal_}, {@link orthogonal_}, {@link sparse_}. Each fills the tensor's values
 *    (its `.array` is replaced by a new array of the same shape, dtype and device; the Tensor object,
 *    and so a module's Parameter, stays the same), runs under noGrad, returns the tensor, and takes
 *    a `generator` option. Fans follow PyTorch's weight layouts: Linear (out, in), Conv (out, in/groups, *kernel).
 * 2. needle's functional initializers, which return new tensors: {@link rand}, {@link randn},
 *    {@link randb}, {@link constant}, {@link ones}, {@link zeros}, {@link oneHot}, {@link zerosLike},
 *    {@link onesLike}, {@link xavierUniform}, {@link xavierNormal}, {@link kaimingUniform},
 *    {@link kaimingNormal}. Shapes are given as dims (`rand(3, 4, { low: -1 })`) or an array
 *    (`rand([3, 4])`); needle's weights are (fanIn, fanOut).
 *
 * The random algorithms (stream layout, uniform and normal construction, the exact truncated
 * normal) are specified in src/random.ts and docs/random.md.
 */
import { Tensor } from './autograd/tensor.js';
import { noGrad } from './autograd/mode.js';
import { NDArray } from './ndarray/ndarray.js';
import { checkShape } from './ndarray/shape.js';
import { isFloating, type DType } from './ndarray/dtype.js';
import { getDefaultDevice } from './ndarray/backend.js';
import { fmt, fmtShape, rangeError, typeError } from './errors.js';
import * as R from './random.js';
import type { FillOptions, Generator } from './random.js';

export type { FillOptions };

// ------------------------------------------------------------------------------------------------
// Gains and fans

const LINEAR_FNS = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'];
const ALIASES: Record<string, string> = {
  convTranspose1d: 'conv_transpose1d',
  convTranspose2d: 'conv_transpose2d',
  convTranspose3d: 'conv_transpose3d',
  leakyRelu: 'leaky_relu',
};

/** Nonlinearity names of {@link calculateGain} (PyTorch's snake_case names or camelCase). */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d'
  | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'convTranspose1d' | 'convTranspose2d' | 'convTranspose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'leakyRelu' | 'selu';

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear, conv*,
 * conv_transpose* and sigmoid; 5/3 for tanh; sqrt(2) for relu; sqrt(2 / (1 + slope^2)) for
 * leaky_relu (`param` is the negative slope, 0.01 when omitted); 3/4 for selu.
 *
 * @example
 * nd.nn.init.calculateGain('leaky_relu', 0.2); // 1.3867504905630728
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const name = typeof nonlinearity === 'string' ? (ALIASES[nonlinearity] ?? nonlinearity) : nonlinearity;
  if (LINEAR_FNS.includes(name as string) || name === 'sigmoid') return 1;
  if (name === 'tanh') return 5.0 / 3;
  if (name === 'relu') return Math.sqrt(2.0);
  if (name === 'leaky_relu') {
    if (param !== undefined && (typeof param !== 'number' || Number.isNaN(param))) {
      throw typeError('calculateGain', 'negative slope a number', fmt(param));
    }
    const slope = param ?? 0.01;
    return Math.sqrt(2.0 / (1 + slope ** 2));
  }
  if (name === 'selu') return 3.0 / 4;
  throw rangeError('calculateGain', `nonlinearity one of ${[...LINEAR_FNS, 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'].join(', ')}`, fmt(nonlinearity));
}

/** Fan-in and fan-out of a weight. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/**
 * Fan-in and fan-out of a weight tensor or shape, PyTorch's way: dims 0 and 1 are (out, in) and
 * the rest is the receptive field, so fanIn = size(1) * receptive and fanOut = size(0) * receptive.
 * Linear [out, in] gives (in, out); Conv2d [out, in/groups, kH, kW] gives (in/groups*kH*kW,
 * out*kH*kW). Fewer than 2 dims is a RangeError naming `op`.
 */
export function computeFans(t: Tensor | readonly number[], op = 'computeFans'): Fans {
  const shape = t instanceof Tensor ? t.shape : checkShape(op, t);
  if (shape.length < 2) throw rangeError(op, 'a tensor with at least 2 dims', fmtShape(shape));
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i]!;
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Which fan kaiming initializers scale by. `fanIn` keeps forward variances, `fanOut` backward ones. */
export type FanMode = 'fanIn' | 'fanOut' | 'fan_in' | 'fan_out';

function correctFan(op: string, t: Tensor, mode: FanMode): number {
  const m = mode === 'fan_in' ? 'fanIn' : mode === 'fan_out' ? 'fanOut' : mode;
  if (m !== 'fanIn' && m !== 'fanOut') throw rangeError(op, "mode 'fanIn' or 'fanOut'", fmt(mode));
  const fans = computeFans(t, op);
  return m === 'fanIn' ? fans.fanIn : fans.fanOut;
}

// ------------------------------------------------------------------------------------------------
// PyTorch's in-place initializers

function checkTensor(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw typeError(op, 'a Tensor', fmt(t));
  return t;
}

function checkFloat(op: string, t: unknown): Tensor {
  checkTensor(op, t);
  if (!isFloating((t as Tensor).dtype)) throw typeError(op, 'a floating-point tensor', (t as Tensor).dtype);
  return t as Tensor;
}

/** Fills `t` with U(a, b) (torch.nn.init.uniform_). */
export function uniform_(t: Tensor, a = 0, b = 1, opts: FillOptions = {}): Tensor {
  return noGrad(() => R.uniform_(t, a, b, opts));
}

/** Fills `t` with N(mean, std^2) (torch.nn.init.normal_). */
export function normal_(t: Tensor, mean = 0, std = 1, opts: FillOptions = {}): Tensor {
  return noGrad(() => R.normal_(t, mean, std, opts));
}

/**
 * Fills `t` with N(mean, std^2) truncated to [a, b] (torch.nn.init.trunc_normal_; defaults 0, 1,
 * -2, 2). Exact: the inverse CDF computed in log space (see random.ts), so every value lies in
 * [a, b] and far-tail intervals keep the right distribution.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: FillOptions = {}): Tensor {
  return noGrad(() => R.truncNormal_(t, mean, std, a, b, opts));
}

/** Fills `t` with `value` (torch.nn.init.constant_). Any dtype. */
export function constant_(t: Tensor, value: number): Tensor {
  checkTensor('constant_', t);
  if (typeof value !== 'number') throw typeError('constant_', 'a number value', fmt(value));
  t.array = NDArray.full(t.shape, value, t.dtype, t.device);
  return t;
}

/** Fills `t` with ones (torch.nn.init.ones_). */
export function ones_(t: Tensor): Tensor {
  checkTensor('ones_', t);
  return constant_(t, 1);
}

/** Fills `t` with zeros (torch.nn.init.zeros_). */
export function zeros_(t: Tensor): Tensor {
  checkTensor('zeros_', t);
  return constant_(t, 0);
}

/** Fills a 2-D `t` with the identity matrix (torch.nn.init.eye_); non-square gets ones on the diagonal. */
export function eye_(t: Tensor): Tensor {
  checkTensor('eye_', t);
  if (t.ndim !== 2) throw rangeError('eye_', 'a tensor with 2 dims', fmtShape(t.shape));
  const [n, m] = t.shape as [number, number];
  const data = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  t.array = NDArray.fromData(data, t.shape, t.dtype, t.device);
  return t;
}

/**
 * Fills a 3-, 4- or 5-D convolution weight with the Dirac delta (torch.nn.init.dirac_): the
 * convolution then preserves its input channels. With `groups`, each group of out/groups output
 * channels keeps min(out/groups, in) inputs.
 */
export function dirac_(t: Tensor, groups = 1): Tensor {
  checkTensor('dirac_', t);
  if (t.ndim < 3 || t.ndim > 5) throw rangeError('dirac_', 'a tensor with 3, 4 or 5 dims', fmtShape(t.shape));
  if (!Number.isInteger(groups) || groups < 1 || t.shape[0]! % groups !== 0) {
    throw rangeError('dirac_', `groups dividing dim 0 (${t.shape[0]})`, String(groups));
  }
  const shape = t.shape;
  const perGroup = shape[0]! / groups;
  const minDim = Math.min(perGroup, shape[1]!);
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  let centre = 0;
  for (let i = 2; i < shape.length; i++) centre += Math.floor(shape[i]! / 2) * strides[i]!;
  const data = new Float64Array(s);
  for (let g = 0; g < groups; g++) {
    for (let d = 0; d < minDim; d++) data[(g * perGroup + d) * strides[0]! + d * strides[1]! + centre] = 1;
  }
  t.array = NDArray.fromData(data, shape, t.dtype, t.device);
  return t;
}

/** Options of xavier initializers: the gain and a generator. */
export interface XavierOptions extends FillOptions {
  gain?: number;
}

function xavierArgs(gain: number | XavierOptions, opts: FillOptions): [number, FillOptions] {
  if (typeof gain === 'object' && gain !== null) return [gain.gain ?? 1, gain];
  if (typeof gain !== 'number') throw typeError('xavier', 'a number gain', fmt(gain));
  return [gain, opts];
}

/**
 * Xavier/Glorot uniform (torch.nn.init.xavier_uniform_): U(-b, b) with
 * b = gain * sqrt(6 / (fanIn + fanOut)) (= sqrt(3) * gain * sqrt(2 / (fanIn + fanOut))).
 * `gain` may be given in the options object instead.
 */
export function xavierUniform_(t: Tensor, gain: number | XavierOptions = 1, opts: FillOptions = {}): Tensor {
  checkFloat('xavierUniform_', t);
  const [g, o] = xavierArgs(gain, opts);
  const { fanIn, fanOut } = computeFans(t, 'xavierUniform_');
  if (t.size === 0) return t;
  const std = g * Math.sqrt(2.0 / (fanIn + fanOut));
  const bound = Math.sqrt(3.0) * std;
  return noGrad(() => R.uniform_(t, -bound, bound, o));
}

/** Xavier/Glorot normal (torch.nn.init.xavier_normal_): N(0, std^2), std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain: number | XavierOptions = 1, opts: FillOptions = {}): Tensor {
  checkFloat('xavierNormal_', t);
  const [g, o] = xavierArgs(gain, opts);
  const { fanIn, fanOut } = computeFans(t, 'xavierNormal_');
  if (t.size === 0) return t;
  const std = g * Math.sqrt(2.0 / (fanIn + fanOut));
  return noGrad(() => R.normal_(t, 0, std, o));
}

/** Options of kaiming initializers (torch's a, mode, nonlinearity). */
export interface KaimingOptions extends FillOptions {
  /** Negative slope of the leaky ReLU that follows (used when nonlinearity is leaky_relu). Default 0. */
  a?: number;
  /** 'fanIn' (default) or 'fanOut' (PyTorch's 'fan_in' / 'fan_out' also accepted). */
  mode?: FanMode;
  /** Default 'leaky_relu' (as PyTorch), which with a = 0 is relu's gain sqrt(2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOptions): number {
  const fan = correctFan(op, t, opts.mode ?? 'fanIn');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/**
 * Kaiming/He uniform (torch.nn.init.kaiming_uniform_): U(-b, b), b = sqrt(3) * gain / sqrt(fan),
 * gain = calculateGain(nonlinearity, a), fan by `mode`. A zero-element tensor is left as is.
 * nn.Linear's default is kaimingUniform_(w, { a: sqrt(5) }), i.e. b = 1/sqrt(fanIn).
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloat('kaimingUniform_', t);
  const std = kaimingStd('kaimingUniform_', t, opts);
  if (t.size === 0) return t;
  const bound = Math.sqrt(3.0) * std;
  return noGrad(() => R.uniform_(t, -bound, bound, opts));
}

/** Kaiming/He normal (torch.nn.init.kaiming_normal_): N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloat('kaimingNormal_', t);
  const std = kaimingStd('kaimingNormal_', t, opts);
  if (t.size === 0) return t;
  return noGrad(() => R.normal_(t, 0, std, opts));
}

/**
 * A (semi-)orthogonal matrix (torch.nn.init.orthogonal_), scaled by `gain`: t viewed as
 * (rows, numel/rows) gets Q of the QR factorization of a standard normal matrix (transposed when
 * rows < cols), with R's diagonal made positive, as PyTorch does. QR is Gram-Schmidt applied twice
 * in float64. The normal matrix is drawn as randn of (rows, cols), or (cols, rows) when transposed.
 */
export function orthogonal_(t: Tensor, gain = 1, opts: FillOptions = {}): Tensor {
  checkFloat('orthogonal_', t);
  if (t.ndim < 2) throw rangeError('orthogonal_', 'a tensor with at least 2 dims', fmtShape(t.shape));
  if (t.size === 0) return t;
  const rows = t.shape[0]!;
  const cols = t.size / rows;
  const tall = rows >= cols;
  const [m, n] = tall ? [rows, cols] : [cols, rows]; // factor an m x n matrix, m >= n
  const a = new Float64Array(m * n);
  (opts.generator ?? R.defaultGenerator).fillNormal(a, t.dtype);
  // column j of the m x n row-major matrix: a[i * n + j]; orthonormalize columns in order
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += a[i * n + k]! * a[i * n + j]!;
        for (let i = 0; i < m; i++) a[i * n + j] = a[i * n + j]! - dot * a[i * n + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) a[i * n + j] = a[i * n + j]! / norm;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = gain * a[i * n + j]!;
      if (tall) out[i * cols + j] = v;
      else out[j * cols + i] = v;
    }
  }
  t.array = NDArray.fromData(out, t.shape, t.dtype, t.device);
  return t;
}

/**
 * A sparse 2-D matrix (torch.nn.init.sparse_): N(0, std^2) values, then in every column
 * ceil(sparsity * rows) entries set to zero (the first of a randperm of the rows, column by column).
 */
export function sparse_(t: Tensor, sparsity: number, std = 0.01, opts: FillOptions = {}): Tensor {
  checkFloat('sparse_', t);
  if (t.ndim !== 2) throw rangeError('sparse_', 'a tensor with 2 dims', fmtShape(t.shape));
  if (!(sparsity >= 0 && sparsity <= 1)) throw rangeError('sparse_', 'sparsity in [0, 1]', String(sparsity));
  const [rows, cols] = t.shape as [number, number];
  const numZeros = Math.ceil(sparsity * rows);
  noGrad(() => R.normal_(t, 0, std, opts));
  const data = Float64Array.from(t.dataSync());
  for (let c = 0; c < cols; c++) {
    const perm = R.randperm(rows, { generator: opts.generator }).dataSync();
    for (let k = 0; k < numZeros; k++) data[perm[k]! * cols + c] = 0;
  }
  t.array = NDArray.fromData(data, t.shape, t.dtype, t.device);
  return t;
}

// ------------------------------------------------------------------------------------------------
// needle's functional initializers

/** Options of needle's functional initializers. */
export interface InitOptions {
  device?: string;
  dtype?: DType;
  requiresGrad?: boolean;
  generator?: Generator;
}

/** A shape as dims (`3, 4`), dims then options, or an array then options. */
export type ShapeArgs<O> = [shape: readonly number[], opts?: O] | [...dims: number[], opts: O] | number[];

function parseShape<O extends object>(op: string, args: readonly unknown[]): [number[], O] {
  if (args.length > 0 && Array.isArray(args[0])) {
    if (args.length > 2) throw typeError(op, 'a shape array and an options object', `${args.length} arguments`);
    return [checkShape(op, args[0]), (args[1] ?? {}) as O];
  }
  const last = args[args.length - 1];
  const hasOpts = typeof last === 'object' && last !== null;
  const dims = hasOpts ? args.slice(0, -1) : args.slice();
  return [checkShape(op, dims), (hasOpts ? last : {}) as O];
}

function randomOpts(o: InitOptions, dtype: DType = 'float32'): R.RandomOptions {
  return { dtype: o.dtype ?? dtype, device: o.device ?? getDefaultDevice(), requiresGrad: o.requiresGrad ?? false, generator: o.generator };
}

/** Uniform on [low, high) (needle's init.rand; low 0, high 1 by default). */
export function rand(...args: ShapeArgs<InitOptions & { low?: number; high?: number }>): Tensor {
  const [shape, o] = parseShape<InitOptions & { low?: number; high?: number }>('rand', args);
  return R.uniformTensor(shape, o.low ?? 0, o.high ?? 1, randomOpts(o));
}

/** Normal N(mean, std^2) (needle's init.randn; mean 0, std 1 by default). */
export function randn(...args: ShapeArgs<InitOptions & { mean?: number; std?: number }>): Tensor {
  const [shape, o] = parseShape<InitOptions & { mean?: number; std?: number }>('randn', args);
  return R.normal(o.mean ?? 0, o.std ?? 1, shape, randomOpts(o));
}

/** Constant `c` (needle's init.constant; c = 1 by default). */
export function constant(...args: ShapeArgs<InitOptions & { c?: number }>): Tensor {
  const [shape, o] = parseShape<InitOptions & { c?: number }>('constant', args);
  const a = NDArray.full(shape, o.c ?? 1, o.dtype ?? 'float32', o.device ?? getDefaultDevice());
  return new Tensor(a, { requiresGrad: o.requiresGrad ?? false });
}

/** Ones (needle's init.ones). */
export function ones(...args: ShapeArgs<InitOptions>): Tensor {
  const [shape, o] = parseShape<InitOptions>('ones', args);
  return constant(shape, { ...o, c: 1 });
}

/** Zeros (needle's init.zeros). */
export function zeros(...args: ShapeArgs<InitOptions>): Tensor {
  const [shape, o] = parseShape<InitOptions>('zeros', args);
  return constant(shape, { ...o, c: 0 });
}

/** Bernoulli(p) booleans (needle's init.randb; p = 0.5, dtype bool by default): true where a float64 uniform < p. */
export function randb(...args: ShapeArgs<InitOptions & { p?: number }>): Tensor {
  const [shape, o] = parseShape<InitOptions & { p?: number }>('randb', args);
  const p = o.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw rangeError('randb', 'p a probability in [0, 1]', String(p));
  return R.bernoulliMask(shape, p, randomOpts(o, 'bool'));
}

/**
 * One-hot rows (needle's init.one_hot(n, i)): shape (*i.shape, n), row k has a 1 at column i[k].
 * `i` is an integer, an array of integers or an integer tensor.
 */
export function oneHot(n: number, i: number | readonly number[] | Tensor, opts: InitOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw rangeError('oneHot', 'n a non-negative integer', String(n));
  let idx: ArrayLike<number>;
  let shape: readonly number[];
  if (i instanceof Tensor) {
    if (isFloating(i.dtype)) throw typeError('oneHot', 'an integer index tensor', i.dtype);
    idx = i.dataSync();
    shape = i.shape;
  } else if (typeof i === 'number') {
    idx = [i];
    shape = [];
  } else if (Array.isArray(i)) {
    idx = i;
    shape = [i.length];
  } else {
    throw typeError('oneHot', 'indices as a number, an array or a Tensor', fmt(i));
  }
  const out = new Float64Array(idx.length * n);
  for (let k = 0; k < idx.length; k++) {
    const v = idx[k]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) throw rangeError('oneHot', `indices in [0, ${n})`, String(v));
    out[k * n + v] = 1;
  }
  const a = NDArray.fromData(out, [...shape, n], opts.dtype ?? 'float32', opts.device ?? getDefaultDevice());
  return new Tensor(a, { requiresGrad: opts.requiresGrad ?? false });
}

/** Zeros with x's shape and dtype (needle's init.zeros_like; device and requiresGrad options). */
export function zerosLike(x: Tensor, opts: { device?: string; requiresGrad?: boolean } = {}): Tensor {
  checkTensor('zerosLike', x);
  return zeros(x.shape, { dtype: x.dtype, device: opts.device ?? x.device, requiresGrad: opts.requiresGrad ?? false });
}

/** Ones with x's shape and dtype (needle's init.ones_like). */
export function onesLike(x: Tensor, opts: { device?: string; requiresGrad?: boolean } = {}): Tensor {
  checkTensor('onesLike', x);
  return ones(x.shape, { dtype: x.dtype, device: opts.device ?? x.device, requiresGrad: opts.requiresGrad ?? false });
}

function checkFans(op: string, fanIn: number, fanOut: number): void {
  for (const [k, v] of [['fanIn', fanIn], ['fanOut', fanOut]] as const) {
    if (!Number.isInteger(v) || v < 1) throw rangeError(op, `${k} a positive integer`, String(v));
  }
}

/** needle's init.xavier_uniform: a (fanIn, fanOut) tensor U(-b, b), b = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(fanIn: number, fanOut: number, gain = 1, opts: InitOptions = {}): Tensor {
  checkFans('xavierUniform', fanIn, fanOut);
  const b = gain * Math.sqrt(6 / (fanIn + fanOut));
  return rand([fanIn, fanOut], { ...opts, low: -b, high: b });
}

/** needle's init.xavier_normal: a (fanIn, fanOut) tensor N(0, std^2), std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal(fanIn: number, fanOut: number, gain = 1, opts: InitOptions = {}): Tensor {
  checkFans('xavierNormal', fanIn, fanOut);
  return randn([fanIn, fanOut], { ...opts, std: gain * Math.sqrt(2 / (fanIn + fanOut)) });
}

/** Options of needle's kaiming initializers. */
export interface NeedleKaimingOptions extends InitOptions {
  /** The result's shape (default (fanIn, fanOut); needle passes conv kernels' shapes here). */
  shape?: readonly number[];
  /** Default 'relu' (needle's only choice): gain sqrt(2). */
  nonlinearity?: Nonlinearity;
}

/** needle's init.kaiming_uniform: U(-b, b), b = gain * sqrt(3 / fanIn), gain sqrt(2) for relu. */
export function kaimingUniform(fanIn: number, fanOut: number, opts: NeedleKaimingOptions = {}): Tensor {
  checkFans('kaimingUniform', fanIn, fanOut);
  const b = calculateGain(opts.nonlinearity ?? 'relu') * Math.sqrt(3 / fanIn);
  return rand(opts.shape ?? [fanIn, fanOut], { ...opts, low: -b, high: b });
}

/** needle's init.kaiming_normal: N(0, std^2), std = gain / sqrt(fanIn), gain sqrt(2) for relu. */
export function kaimingNormal(fanIn: number, fanOut: number, opts: NeedleKaimingOptions = {}): Tensor {
  checkFans('kaimingNormal', fanIn, fanOut);
  const std = calculateGain(opts.nonlinearity ?? 'relu') / Math.sqrt(fanIn);
  return randn(opts.shape ?? [fanIn, fanOut], { ...opts, std });
}
