/** Data types and PyTorch's type-promotion rules for them. */
import { typeError } from '../errors.js';

/** The dtypes needle-ts supports. `bool` is stored one byte per element. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** Storage array for each dtype. */
export interface TypedArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

type Ctor = { new (n: number): AnyTypedArray; new (a: ArrayLike<number>): AnyTypedArray };
const CTORS: { [K in DType]: Ctor } = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/** Allocates a zeroed typed array for `dtype`. */
export function allocTyped<D extends DType>(dtype: D, n: number): TypedArrayMap[D] {
  return new CTORS[dtype](n) as TypedArrayMap[D];
}

/** Copies `values` into a new typed array of `dtype` (booleans become 0/1, floats truncate to int). */
export function toTyped(dtype: DType, values: ArrayLike<number>): AnyTypedArray {
  if (dtype === 'bool') {
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]) !== 0 ? 1 : 0;
    return out;
  }
  return new CTORS[dtype](values);
}

/** True for float32/float64. */
export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** Bytes per element. */
export function itemsize(d: DType): number {
  return d === 'float64' ? 8 : d === 'bool' ? 1 : 4;
}

const RANK: { [K in DType]: number } = { bool: 0, int32: 1, float32: 2, float64: 3 };
const CATEGORY: { [K in DType]: number } = { bool: 0, int32: 1, float32: 2, float64: 2 };

/** The smallest dtype both `a` and `b` convert to without losing category (torch.promote_types). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** An operand of type promotion: a dimensioned tensor, a 0-d tensor, or a JavaScript scalar. */
export type PromotionOperand =
  | { kind: 'tensor'; dtype: DType; ndim: number }
  | { kind: 'scalar'; value: number | boolean };

function scalarDtype(v: number | boolean): DType {
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int32' : 'float32';
}

/**
 * torch.result_type for our dtypes: dimensioned tensors take priority over 0-d tensors, which
 * take priority over scalars, unless a lower-priority operand is of a higher category
 * (bool < integer < floating), in which case that category's type is used.
 * JavaScript integers count as int scalars, other numbers as float scalars (default float32).
 */
export function resultType(...ops: PromotionOperand[]): DType {
  let dim: DType | null = null;
  let zero: DType | null = null;
  let scal: DType | null = null;
  for (const o of ops) {
    if (o.kind === 'tensor') {
      if (o.ndim > 0) dim = dim === null ? o.dtype : promoteTypes(dim, o.dtype);
      else zero = zero === null ? o.dtype : promoteTypes(zero, o.dtype);
    } else {
      const d = scalarDtype(o.value);
      scal = scal === null ? d : promoteTypes(scal, d);
    }
  }
  let out: DType | null = dim;
  for (const tier of [zero, scal]) {
    if (tier === null) continue;
    if (out === null) out = tier;
    else if (CATEGORY[tier] > CATEGORY[out]) {
      // a higher category from a lower tier: the default type of that category (torch's rule)
      out = tier === scal ? (CATEGORY[tier] === 2 ? 'float32' : 'int32') : tier;
    }
  }
  return out ?? 'float32';
}

/** Checks that `d` is a dtype name, naming `op` otherwise. */
export function checkDType(op: string, d: unknown): DType {
  if (typeof d === 'string' && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw typeError(op, `dtype must be one of ${DTYPES.join(', ')}`, String(d));
}
