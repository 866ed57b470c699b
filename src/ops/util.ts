/** Helpers shared by the op files: scalar operands, dtype promotion and zero tensors. */
import { Tensor } from '../autograd/tensor.js';
import { NDArray } from '../ndarray/ndarray.js';
import { resultType, type DType, type PromotionOperand } from '../ndarray/dtype.js';
import { getDefaultDevice } from '../ndarray/backend.js';
import { typeError } from '../errors.js';

/** A tensor or a JavaScript scalar operand. */
export type TensorLike = Tensor | number | boolean;

/** Checks that `x` is a Tensor, naming the op and argument. */
export function expectTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw typeError(op, `${name} to be a Tensor`, describe(x));
  return x;
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor(shape=[${x.shape.join(',')}], dtype=${x.dtype})`;
  if (Array.isArray(x)) return 'an array';
  return x === null ? 'null' : typeof x === 'object' ? 'an object' : `${typeof x} ${String(x)}`;
}

function operand(x: TensorLike): PromotionOperand {
  if (x instanceof Tensor) return { kind: 'tensor', dtype: x.dtype, ndim: x.ndim };
  return { kind: 'scalar', value: x };
}

/** The promoted dtype of the operands (torch.result_type). */
export function promote(op: string, xs: TensorLike[]): DType {
  for (const x of xs) {
    if (!(x instanceof Tensor) && typeof x !== 'number' && typeof x !== 'boolean') {
      throw typeError(op, 'a Tensor or a number', describe(x));
    }
  }
  return resultType(...xs.map(operand));
}

/** The device of the first tensor operand (the default device when all are scalars). */
export function deviceOf(xs: TensorLike[]): string {
  for (const x of xs) if (x instanceof Tensor) return x.device;
  return getDefaultDevice();
}

/** A 0-d constant tensor. */
export function scalarTensor(v: number | boolean, dtype: DType, device: string): Tensor {
  return new Tensor(NDArray.full([], typeof v === 'boolean' ? (v ? 1 : 0) : v, dtype, device));
}

/** Constant zeros (no grad) of a shape/dtype/device. */
export function zerosOf(shape: readonly number[], dtype: DType, device: string): Tensor {
  return new Tensor(NDArray.full(shape, 0, dtype, device));
}

/** Constant zeros like `x`. */
export function zerosLikeT(x: Tensor): Tensor {
  return zerosOf(x.shape, x.dtype, x.device);
}
