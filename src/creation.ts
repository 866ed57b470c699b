/** Tensor constructors: tensor, zeros, ones, full, arange, linspace, eye and the *Like forms. */
import { Tensor } from './autograd/tensor.js';
import { NDArray, type NestedArray } from './ndarray/ndarray.js';
import { checkDType, type AnyTypedArray, type DType } from './ndarray/dtype.js';
import { checkShape } from './ndarray/shape.js';
import { getDefaultDevice } from './ndarray/backend.js';
import { fmtShape, rangeError, typeError } from './errors.js';

/** Options accepted by every constructor. */
export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function finish(a: NDArray, opts: TensorOptions): Tensor {
  return new Tensor(a, { requiresGrad: opts.requiresGrad ?? false });
}

function flatten(op: string, data: NestedArray, shape: number[], out: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (depth === shape.length) {
      // a new innermost dim after scalars were seen at a shallower depth: ragged
      if (out.length > 0) throw rangeError(op, 'a rectangular nested array', `an array at depth ${depth} where a number was seen before`);
      shape.push(data.length);
    } else if (shape[depth] !== data.length) {
      throw rangeError(op, `a rectangular nested array (length ${shape[depth]} at depth ${depth})`, `length ${data.length}`);
    }
    for (const d of data) flatten(op, d, shape, out, depth + 1);
    return;
  }
  if (depth !== shape.length) throw rangeError(op, 'a rectangular nested array', `a scalar at depth ${depth}`);
  if (typeof data === 'boolean') out.push(data ? 1 : 0);
  else if (typeof data === 'number') out.push(data);
  else throw typeError(op, 'numbers or booleans', typeof data);
}

function inferDType(data: NestedArray | AnyTypedArray): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  if (data instanceof Float32Array) return 'float32';
  let sample: NestedArray = data;
  while (Array.isArray(sample)) {
    if (sample.length === 0) return 'float32';
    sample = sample[0]!;
  }
  return typeof sample === 'boolean' ? 'bool' : 'float32';
}

/**
 * Creates a tensor from nested arrays, a number, or a typed array (with `shape` for typed
 * arrays; 1-D otherwise). Numbers default to float32 (as torch.tensor with floats; pass
 * `{ dtype: 'int32' }` for integers), booleans to bool, typed arrays to their own dtype.
 *
 * @example
 * const x = nd.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 */
export function tensor(data: NestedArray | AnyTypedArray, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  const dtype = opts.dtype === undefined ? inferDType(data) : checkDType('tensor', opts.dtype);
  if (ArrayBuffer.isView(data)) {
    const shape = checkShape('tensor', opts.shape ?? [data.length]);
    const n = shape.reduce((p, d) => p * d, 1);
    if (n !== data.length) throw rangeError('tensor', `data of length ${n} for shape ${fmtShape(shape)}`, `length ${data.length}`);
    return finish(NDArray.fromData(data, shape, dtype, opts.device), opts);
  }
  const shape: number[] = [];
  const flat: number[] = [];
  flatten('tensor', data, shape, flat, 0);
  return finish(NDArray.fromData(flat, shape, dtype, opts.device), opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype === undefined ? 'float32' : checkDType('full', opts.dtype);
  return finish(NDArray.full(checkShape('full', shape), value, dtype, opts.device ?? getDefaultDevice()), opts);
}

/** Zeros of `shape`. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** Ones of `shape`. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A tensor of `shape` (zero-filled on cpu; do not rely on the values). */
export function empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

function likeOpts(x: Tensor, opts: TensorOptions): TensorOptions {
  return { dtype: opts.dtype ?? x.dtype, device: opts.device ?? x.device, requiresGrad: opts.requiresGrad ?? false };
}

export function fullLike(x: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return full(x.shape, value, likeOpts(x, opts));
}
export function zerosLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 0, likeOpts(x, opts));
}
export function onesLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 1, likeOpts(x, opts));
}

/**
 * Values from `start` to `end` (exclusive) by `step`; `arange(n)` counts 0..n-1. The dtype is
 * int32 when all arguments are integers, else float32 (torch.arange).
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw rangeError('arange', 'step must be a non-zero finite number', String(step));
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw rangeError('arange', 'start and end must be finite', `${start} and ${end}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (allInt ? 'int32' : 'float32');
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return finish(NDArray.fromData(vals, [n], dtype, opts.device), opts);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw rangeError('linspace', 'steps must be a non-negative integer', String(steps));
  const vals = new Array<number>(steps);
  const d = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) vals[i] = i < steps / 2 ? start + i * d : end - (steps - 1 - i) * d;
  return finish(NDArray.fromData(vals, [steps], opts.dtype ?? 'float32', opts.device), opts);
}

/** The n x m identity matrix. */
export function eye(n: number, m: number = n, opts: TensorOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const vals = new Array<number>(n * m).fill(0);
  for (let i = 0; i < Math.min(n, m); i++) vals[i * m + i] = 1;
  return finish(NDArray.fromData(vals, [n, m], opts.dtype ?? 'float32', opts.device), opts);
}

/** Wraps an NDArray as a (leaf) tensor. */
export function fromNDArray(a: NDArray, opts: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(a, opts);
}

export { fmtShape };
