/** Shape, stride and broadcasting helpers, with errors in the project grammar. */
import { fmtShape, rangeError, typeError } from '../errors.js';

export type Shape = readonly number[];

/** Product of the dimensions (1 for a 0-d shape). */
export function prod(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides in elements. */
export function compactStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Checks a shape: an array of non-negative integers. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw typeError(op, 'shape must be an array of integers', String(shape));
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw rangeError(op, 'shape must contain non-negative integers', fmtShape(shape as number[]));
    }
  }
  return shape.slice() as number[];
}

/** Normalizes a possibly negative dim into [0, ndim). */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw typeError(op, 'dim must be an integer', String(axis));
  }
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (axis < lo || axis > hi) {
    throw rangeError(op, `dim must be in the range [${lo}, ${hi}]`, String(axis));
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/** Normalizes a list of dims (undefined/null means all), sorted and unique-checked. */
export function normAxes(op: string, axes: number | readonly number[] | null | undefined, ndim: number): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normAxis(op, a, ndim));
  if (ndim === 0) return [];
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw rangeError(op, 'dims must not repeat', fmtShape(list as number[]));
    seen.add(a);
  }
  return out.sort((a, b) => a - b);
}

/** The broadcast of two shapes (NumPy/PyTorch rules), or a RangeError naming `op`. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = nd - s.length + i;
      const d = s[i]!;
      if (d === out[j]) continue;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1) {
        throw rangeError(op, 'shapes must be broadcastable', shapes.map(fmtShape).join(' and '));
      }
    }
  }
  return out;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resolves one `-1` in a reshape target against `size`. */
export function inferShape(op: string, shape: readonly number[], size: number, from: Shape): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === -1) {
      if (infer >= 0) throw rangeError(op, 'only one dimension can be -1', fmtShape(shape));
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw rangeError(op, 'shape must contain non-negative integers or one -1', fmtShape(shape));
    } else known *= d;
  }
  const out = shape.slice();
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw rangeError(op, `shape ${fmtShape(shape)} is invalid for input of size ${size}`, fmtShape(from));
    }
    out[infer] = size / known;
  } else if (known !== size) {
    throw rangeError(op, `shape ${fmtShape(shape)} is invalid for input of size ${size}`, fmtShape(from));
  }
  return out;
}
