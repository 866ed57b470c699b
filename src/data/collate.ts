/** The default collate function of the DataLoader (torch default_collate). Browser-safe. */
import { Tensor } from '../autograd/tensor.js';
import { tensor } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { stack } from '../ops/shape.js';
import type { AnyTypedArray, DType } from '../ndarray/dtype.js';

/**
 * The type `defaultCollate` makes of a batch of samples of type `T`: tensors and numbers become
 * tensors, arrays and objects are collated position by position / key by key, strings become
 * arrays of strings.
 */
export type Collated<T> = unknown extends T
  ? any
  : T extends Tensor | number | boolean | AnyTypedArray
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : unknown;

const FN = 'defaultCollate';

function stackTensors(items: readonly Tensor[]): Tensor {
  const first = items[0]!;
  for (let k = 1; k < items.length; k++) {
    const t = items[k]!;
    if (!(t instanceof Tensor)) throw typeError(FN, `a Tensor at batch position ${k} (position 0 is one)`, fmt(t));
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) {
      throw rangeError(FN, `samples of one shape to stack (${fmtShape(first.shape)} at batch position 0)`, `${fmtShape(t.shape)} at batch position ${k}`);
    }
  }
  // Fast path: host tensors of one dtype outside autograd are copied into one buffer.
  if (items.every((t) => (t.device === 'cpu' || t.device === 'wasm') && t.device === first.device && t.dtype === first.dtype && !t.requiresGrad)) {
    const size = first.size;
    const parts = items.map((t) => t.dataSync());
    const out = new (parts[0]!.constructor as new (n: number) => AnyTypedArray)(size * items.length);
    parts.forEach((p, k) => out.set(p, k * size));
    return tensor(out, { shape: [items.length, ...first.shape], dtype: first.dtype, device: first.device });
  }
  return stack(items, 0);
}

function typedDType(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

/**
 * Collates a list of samples into a batch (torch default_collate):
 *
 * - Tensors are stacked along a new dim 0 (same shape required).
 * - Numbers become a 1-D tensor: int32 when all are integers, else float32 (PyTorch: int64 /
 *   float64; JavaScript numbers carry no int/float distinction). Booleans become a bool tensor.
 * - Typed arrays (one length) become a 2-D tensor: Float32Array float32, Float64Array float64,
 *   Int32Array and Uint8Array int32.
 * - Arrays (tuples) are collated position by position, plain objects key by key.
 * - Strings are gathered into an array.
 *
 * @example
 * nd.utils.data.defaultCollate([[nd.zeros([2]), 1], [nd.ones([2]), 0]]); // [Tensor [2,2], Tensor [2] int32]
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (!Array.isArray(samples) || samples.length === 0) throw typeError(FN, 'a non-empty array of samples', fmt(samples));
  return collate(samples) as Collated<T>;
}

function collate(samples: readonly unknown[]): unknown {
  const first = samples[0];
  const kindAt = (k: number, expected: string) => typeError(FN, `${expected} at batch position ${k} (like position 0)`, fmt(samples[k]));
  if (first instanceof Tensor) return stackTensors(samples as Tensor[]);
  if (typeof first === 'number') {
    samples.forEach((s, k) => {
      if (typeof s !== 'number') throw kindAt(k, 'a number');
    });
    const nums = samples as number[];
    return tensor(nums, { dtype: nums.every(Number.isInteger) ? 'int32' : 'float32' });
  }
  if (typeof first === 'boolean') {
    samples.forEach((s, k) => {
      if (typeof s !== 'boolean') throw kindAt(k, 'a boolean');
    });
    return tensor(samples as boolean[], { dtype: 'bool' });
  }
  if (typeof first === 'string') {
    samples.forEach((s, k) => {
      if (typeof s !== 'string') throw kindAt(k, 'a string');
    });
    return [...(samples as string[])];
  }
  if (ArrayBuffer.isView(first) && !(first instanceof DataView)) {
    const a0 = first as AnyTypedArray;
    const dtype = typedDType(a0);
    const out = dtype === 'float32' ? new Float32Array(a0.length * samples.length) : dtype === 'float64' ? new Float64Array(a0.length * samples.length) : new Int32Array(a0.length * samples.length);
    samples.forEach((s, k) => {
      if (!(s instanceof (a0.constructor as typeof Float32Array))) throw kindAt(k, `a ${a0.constructor.name}`);
      if ((s as AnyTypedArray).length !== a0.length) throw rangeError(FN, `typed arrays of one length (${a0.length} at batch position 0)`, `${(s as AnyTypedArray).length} at batch position ${k}`);
      out.set(s as AnyTypedArray, k * a0.length);
    });
    return tensor(out, { shape: [samples.length, a0.length], dtype });
  }
  if (Array.isArray(first)) {
    samples.forEach((s, k) => {
      if (!Array.isArray(s)) throw kindAt(k, 'an array');
      if (s.length !== first.length) throw rangeError(FN, `samples of one length (${first.length} at batch position 0)`, `${s.length} at batch position ${k}`);
    });
    return first.map((_, j) => collate(samples.map((s) => (s as unknown[])[j])));
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    samples.forEach((s, k) => {
      if (s === null || typeof s !== 'object') throw kindAt(k, 'an object');
    });
    for (const key of keys) {
      out[key] = collate(
        samples.map((s, k) => {
          if (!(key in (s as object))) throw rangeError(FN, `samples with the keys of batch position 0 (${keys.join(', ')})`, `no "${key}" at batch position ${k}`);
          return (s as Record<string, unknown>)[key];
        }),
      );
    }
    return out;
  }
  throw typeError(FN, 'samples that are tensors, numbers, booleans, strings, typed arrays, arrays or plain objects', `${fmt(first)} at batch position 0`);
}
