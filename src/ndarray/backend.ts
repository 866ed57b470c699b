/**
 * The Backend contract: a narrow, total set of kernels every device implements. Compute kernels see
 * compact buffers (storage + element offset); the only strided operations are `compact` (gather)
 * and `setitem`/`setitemScalar` (scatter). Op codes are closed unions, and backends type their
 * kernel tables as `{ [K in UnaryOp]: ... }` so that a missing kernel is a compile error.
 */
import { DeviceError } from '../errors.js';
import type { AnyTypedArray, DType } from './dtype.js';

/** Elementwise one-input kernels. */
export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'reciprocal'
  | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'erf' | 'floor' | 'ceil' | 'round' | 'logicalNot'
  | 'isnan';
export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal',
  'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isnan',
];

/** Elementwise two-input kernels. Comparisons and logical ops write `bool` outputs. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr';
export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr',
];
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>([
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr',
]);

/** Reductions over the last axis of a compact (outer, size) array. arg* write int32. */
export type ReduceOp = 'sum' | 'max' | 'min' | 'prod' | 'argmax' | 'argmin';
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'prod', 'argmax', 'argmin'];

/** Device storage: an opaque handle owned by one backend. */
export interface Storage {
  readonly device: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
}

/** A compact operand: `size` contiguous elements of `storage` starting at `offset`. */
export interface Dense {
  readonly storage: Storage;
  readonly offset: number;
}

/** A strided operand: the only layout `compact`/`setitem` accept. */
export interface Strided extends Dense {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** Shape of a batched matrix product C[b] = op(A[b]) @ op(B[b]) (m x k times k x n). */
export interface MatmulSpec {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored k x m (its transpose). */
  transA: boolean;
  /** B is stored n x k (its transpose). */
  transB: boolean;
  /** Element distance between consecutive batches of A (0 broadcasts A). */
  strideA: number;
  strideB: number;
}

/** Gather/scatter along one axis of arrays viewed as (outer, dim, inner). */
export interface AxisSpec {
  outer: number;
  inner: number;
  /** Extent of the indexed axis in the source (gather) or destination (scatterAdd). */
  dim: number;
  /** Extent of the axis in the index / result. */
  idxDim: number;
}

/** Hyperparameters of one fused Adam/AdamW step ({@link Backend.adamStep}); PyTorch's math. */
export interface AdamStepSpec {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /**
   * AdamW's decoupled decay: p *= 1 - lr * weightDecay before the update. Otherwise (Adam) the
   * decay is an L2 term: g += weightDecay * p.
   */
  decoupled: boolean;
  /** Ascend: the gradient is negated first. */
  maximize: boolean;
  /** This update's step number (1 for the first): bias corrections 1 - beta_i^step. */
  step: number;
}

/**
 * Operands of {@link Backend.adamStep}: the parameter, its gradient and both moment estimates
 * (compact, one dtype), and where the new values go. An output may alias its input (in place).
 */
export interface AdamStepOperands {
  param: Dense;
  grad: Dense;
  expAvg: Dense;
  expAvgSq: Dense;
  paramOut: Dense;
  expAvgOut: Dense;
  expAvgSqOut: Dense;
}

/**
 * Geometry of {@link Backend.im2col} / {@link Backend.col2im}: `planes` independent images of
 * h x w elements (the flattened leading dims) and their windows of kh x kw elements, stride
 * (sh, sw), dilation (dh, dw), implicit zero padding (ph, pw) before the first row / column (the
 * padding after is whatever the window counts oh x ow imply). Layouts, compact:
 * image (planes, h, w), columns (planes, kh, kw, oh, ow) with
 * cols[p, i, j, y, x] = img[p, y * sh + i * dh - ph, x * sw + j * dw - pw], 0 in the padding.
 */
/**
 * Geometry of the Winograd F(4x4, 3x3) tile transforms ({@link Backend.winogradInput} and the
 * other winograd* members): `batch` images of `channels` planes of h x w elements (compact
 * (batch, channels, h, w)), cut into th x tw4 tiles (tile (ti, tj) covers rows 4 ti - ph .. + 5
 * and columns 4 tj - pw .. + 5 of the image for the input transforms, rows 4 ti .. + 3 and columns
 * 4 tj .. + 3 for the output transforms; ph = pw = 0 there). tw4 is a multiple of 4. Transformed
 * tiles are (36, channels, batch, th, tw4), entry 6 k + l of a tile first, the 36 planes
 * `planeStride` elements apart, each compact. See
 * src/ops/winograd.ts for the algorithm and src/ndarray/cpu/winograd.ts for the reference.
 */
export interface WinogradSpec {
  batch: number;
  channels: number;
  h: number;
  w: number;
  ph: number;
  pw: number;
  th: number;
  tw4: number;
  /** Elements between the 36 planes of the tiles (at least channels * batch * th * tw4). */
  planeStride: number;
}

export interface Im2colSpec {
  planes: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  ph: number;
  pw: number;
}

/** Shape of a fused batch normalization ({@link Backend.batchNorm}): x viewed as (n, c, inner). */
export interface BatchNormSpec {
  /** Batch size (the leading dim). */
  n: number;
  /** Channels (dim 1): one mean / variance per channel. */
  c: number;
  /** Elements per (sample, channel): the product of the dims after 1 (1 for (N, C) inputs). */
  inner: number;
  eps: number;
}

/**
 * The running-statistics update of a training batch normalization ({@link Backend.batchNorm}), in
 * the dtype's arithmetic with the scalars given already rounded to it by the caller:
 * meanOut = mean * keep + batchMean * momentum;
 * varOut = var * keep + (batchVar * unbias) * momentum (keep = 1 - momentum, unbias = m / (m - 1)).
 */
export interface BatchNormRunning {
  mean: Dense;
  var: Dense;
  meanOut: Dense;
  varOut: Dense;
  keep: number;
  momentum: number;
  unbias: number;
}

/**
 * Where a Philox4x32-10 stream starts for {@link Backend.philoxBernoulli} (see src/random.ts for the
 * stream): block `counter` (an integer below 2^53) under key (key0, key1), its first `phase`
 * (0..3) words skipped.
 */
export interface PhiloxSpec {
  key0: number;
  key1: number;
  counter: number;
  phase: number;
}

/** The backend contract. See DESIGN.md §2. */
export interface Backend {
  readonly name: string;
  allocate(dtype: DType, length: number): Storage;
  free(storage: Storage): void;
  /** Copies `length` elements from `offset` into a new host typed array. */
  readSync(storage: Storage, offset: number, length: number): AnyTypedArray;
  read(storage: Storage, offset: number, length: number): Promise<AnyTypedArray>;
  write(storage: Storage, offset: number, data: ArrayLike<number>): void;
  fill(out: Dense, size: number, value: number): void;
  /** Strided gather into a compact output of the same dtype. */
  compact(src: Strided, out: Dense): void;
  /** Strided scatter of a compact source into `dst` (same dtype). */
  setitem(dst: Strided, src: Dense): void;
  setitemScalar(dst: Strided, value: number): void;
  /** Dtype conversion of `size` elements (bool: nonzero -> 1; float -> int truncates). */
  cast(src: Dense, out: Dense, size: number): void;
  unary(op: UnaryOp, a: Dense, out: Dense, size: number): void;
  binary(op: BinaryOp, a: Dense, b: Dense, out: Dense, size: number): void;
  /** `op(a[i], s)`, or `op(s, a[i])` when `reversed`. */
  binaryScalar(op: BinaryOp, a: Dense, s: number, out: Dense, size: number, reversed: boolean): void;
  /** out[i] = cond[i] ? a[i] : b[i]; cond is bool. */
  where(cond: Dense, a: Dense, b: Dense, out: Dense, size: number): void;
  /** Reduces each of `outer` rows of length `size`. */
  reduce(op: ReduceOp, a: Dense, out: Dense, outer: number, size: number): void;
  matmul(a: Dense, b: Dense, out: Dense, spec: MatmulSpec): void;
  /** out[o, j, i] = src[o, index[o, j, i], i]; index is int32 shaped like out. */
  gather(src: Dense, index: Dense, out: Dense, spec: AxisSpec): void;
  /** out[o, index[o, j, i], i] += src[o, j, i]. */
  scatterAdd(out: Dense, index: Dense, src: Dense, spec: AxisSpec): void;

  // ------------------------------------------------------------------ optional fused fast paths
  // A backend may add these; the op layer uses them when present (float32/float64 operands) and
  // falls back to compositions of the members above otherwise, with the same results to rounding.

  /**
   * Softmax of each of `outer` rows of length `size` of a compact float array:
   * out = exp(x - max) / sum(exp(x - max)); with `log`, out = (x - s) - log(sum(exp(x - s))) where
   * s is the row's max, or 0 when that max is infinite (PyTorch's results for rows holding
   * infinities or NaN). `out` does not alias `a`.
   */
  softmax?(a: Dense, out: Dense, outer: number, size: number, log: boolean): void;
  /**
   * The vector-Jacobian product of {@link softmax} per row, from its output `y` and the output
   * gradient `g`: out = y * (g - sum(g * y)); with `log` (y = log-softmax), out = g - exp(y) * sum(g).
   * Used for plain (not differentiable) backward passes; `out` does not alias the inputs.
   */
  softmaxBackward?(y: Dense, g: Dense, out: Dense, outer: number, size: number, log: boolean): void;
  /**
   * Layer normalization of each of `outer` rows of length `size`: mean[r] = mean of the row,
   * rstd[r] = 1 / sqrt(biased variance + eps), out = (x - mean) * rstd * weight + bias, where
   * `weight` and `bias` (length `size`, may be null) are shared by every row. All one float dtype.
   */
  layerNorm?(
    x: Dense, weight: Dense | null, bias: Dense | null, out: Dense, mean: Dense, rstd: Dense,
    outer: number, size: number, eps: number,
  ): void;
  /**
   * The vector-Jacobian product of {@link layerNorm} from its saved `mean` and `rstd` and the output
   * gradient `g`, with xhat = (x - mean) * rstd and gh = g * weight (g without weight):
   * gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) per row; gw = sum over rows of g * xhat;
   * gb = sum over rows of g. Outputs given as null are not computed. Used for plain (not
   * differentiable) backward passes.
   */
  layerNormBackward?(
    g: Dense, x: Dense, weight: Dense | null, mean: Dense, rstd: Dense,
    gx: Dense | null, gw: Dense | null, gb: Dense | null, outer: number, size: number,
  ): void;
  /**
   * `op` of two strided operands (views of the output's shape: broadcast dims have stride 0, so
   * no compact copy is needed) into a compact `out` of `size` elements; dtypes as
   * {@link binary}. Results equal compacting both operands and calling {@link binary}. Returns
   * false, having written nothing, for layouts the backend has no kernel for (the caller then
   * compacts).
   */
  binaryStrided?(op: BinaryOp, a: Strided, b: Strided, out: Dense, size: number): boolean;
  /**
   * Reduces the middle axis of a compact (outer, size, inner) array:
   * out[o, i] = op over r of a[o, r, i], with the same per-element semantics (NaN rules, float64
   * accumulation of sums, first index on ties) as {@link reduce} in the order r = 0, 1, ...;
   * `out` is compact (outer, inner).
   */
  reduceAxis?(op: ReduceOp, a: Dense, out: Dense, outer: number, size: number, inner: number): void;
  /**
   * Training batch normalization of a compact (n, c, inner) float array over all but the channel
   * axis, in the dtype's arithmetic as the composite computes it: with m = n * inner,
   * mean = sum(x) / m, d = x - mean, var = sum(d * d) / m (biased; sums accumulate in float64 in
   * the order n, then inner), rstd = rsqrt(var + eps), out = (d * rstd) * weight + bias (weight,
   * bias of length c, may be null). `mean`, `var`, `rstd` get c values; `running` (may be null)
   * also updates the running statistics into new arrays.
   */
  batchNorm?(
    x: Dense, weight: Dense | null, bias: Dense | null, out: Dense, mean: Dense, variance: Dense, rstd: Dense,
    spec: BatchNormSpec, running: BatchNormRunning | null,
  ): void;
  /**
   * The vector-Jacobian product of {@link batchNorm} from its saved `mean` and `rstd`, with
   * xhat = (x - mean) * rstd, gh = g * weight and per-channel means over the m = n * inner
   * elements: gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)); gw = sum of g * xhat;
   * gb = sum of g. Outputs given as null are not computed. Used for plain backward passes.
   */
  batchNormBackward?(
    g: Dense, x: Dense, weight: Dense | null, mean: Dense, rstd: Dense,
    gx: Dense | null, gw: Dense | null, gb: Dense | null, spec: BatchNormSpec,
  ): void;
  /**
   * Bernoulli draws from a Philox stream: element i takes the two words phase + 2i and
   * phase + 2i + 1 of the stream starting at block `spec.counter`, makes the float64 uniform
   * u = ((w1 >>> 5) * 2^26 + (w2 >>> 6)) / 2^53 and stores `value` where u < p, else 0. The
   * numbers equal src/random.ts's on every backend.
   */
  philoxBernoulli?(out: Dense, size: number, spec: PhiloxSpec, p: number, value: number): void;
  /**
   * One Adam/AdamW update of `size` elements, torch.optim's math with every operation in the
   * operands' dtype: g = grad (negated when maximize); AdamW: p *= 1 - lr * wd; Adam: g += wd * p;
   * m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g;
   * p += -(lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
   */
  adamStep?(ops: AdamStepOperands, size: number, spec: AdamStepSpec): void;
  /**
   * The window gather of 2-D convolution ({@link Im2colSpec}): writes every window of the compact
   * image `img` into the compact columns `out`, zeros where a window covers padding. Any dtype
   * (it copies elements).
   */
  im2col?(img: Dense, out: Dense, spec: Im2colSpec): void;
  /**
   * The adjoint of {@link im2col} (float32 / float64): out[p, r, c] is the sum of the column
   * entries that im2col would have read from (r, c), added in ascending (i, j) order to an initial
   * +0; entries that fall in the padding are dropped. `out` does not alias `cols`.
   */
  col2im?(cols: Dense, out: Dense, spec: Im2colSpec): void;
  /**
   * Winograd F(4x4, 3x3) input transform (float32, {@link WinogradSpec}): tiles = B^T d B for
   * every 6x6 input tile d (zeros in the padding and past the image).
   */
  winogradInput?(img: Dense, tiles: Dense, spec: WinogradSpec): void;
  /** The adjoint of {@link winogradInput}: img (overwritten) = the tiles' B t B^T summed into place. */
  winogradInputAdjoint?(tiles: Dense, img: Dense, spec: WinogradSpec): void;
  /** Winograd output transform: img (overwritten) = A^T t A per tile, cropped to h x w. */
  winogradOutput?(tiles: Dense, img: Dense, spec: WinogradSpec): void;
  /** The adjoint of {@link winogradOutput}: tiles = A y A^T, zeros for entries past the image. */
  winogradOutputAdjoint?(img: Dense, tiles: Dense, spec: WinogradSpec): void;
}

const registry = new Map<string, Backend>();
let defaultDevice = 'cpu';

/** Registers a backend under its name. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** The backend for `device`, or a DeviceError listing the available ones. */
export function getBackend(device: string): Backend {
  const b = registry.get(device);
  if (!b) {
    throw new DeviceError(
      `device: expected one of ${[...registry.keys()].join(', ')}, got ${JSON.stringify(device)}`,
    );
  }
  return b;
}

/** Names of the registered backends. */
export function listDevices(): string[] {
  return [...registry.keys()];
}

export function getDefaultDevice(): string {
  return defaultDevice;
}

/** Sets the device new tensors are created on when none is given. */
export function setDefaultDevice(device: string): void {
  getBackend(device);
  defaultDevice = device;
}
