/**
 * Error classes and the one message grammar of needle-ts:
 * `<op>: <argument> <expected>, got <actual>`.
 *
 * TypeError is thrown for the wrong kind of value (dtype, type), RangeError for wrong sizes,
 * shapes and indices, {@link GraphError} for autograd lifetime problems, {@link DeviceError} for
 * backend problems, and errors starting with `internal:` are needle-ts bugs.
 */

/** Autograd lifetime problems: a graph used twice, backward on a tensor without a graph. */
export class GraphError extends Error {
  override name = 'GraphError';
}

/** Backend and device problems: unknown device, mixing devices, missing libraries. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** Formats a shape as `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Formats any value compactly for messages. */
export function fmt(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(fmt).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') {
    const maybe = v as { shape?: unknown; dtype?: unknown };
    if (Array.isArray(maybe.shape) && typeof maybe.dtype === 'string') {
      return `Tensor(shape=${fmtShape(maybe.shape as number[])}, dtype=${maybe.dtype})`;
    }
    return Object.prototype.toString.call(v);
  }
  return String(v);
}

/** `RangeError` in the project grammar. */
export function rangeError(op: string, expected: string, actual: string): RangeError {
  return new RangeError(`${op}: ${expected}, got ${actual}`);
}

/** `TypeError` in the project grammar. */
export function typeError(op: string, expected: string, actual: string): TypeError {
  return new TypeError(`${op}: ${expected}, got ${actual}`);
}

/** An `internal:` error: a bug in needle-ts itself. */
/** Use of a tensor whose memory was freed ({@link Tensor.dispose}, nd.cuda.dispose, or a view of one). */
export function disposedError(device: string, length: number, dtype: string): DeviceError {
  return new DeviceError(`${device}: expected a live tensor, got one whose memory was freed by dispose() (${length} x ${dtype})`);
}

export function internal(msg: string): Error {
  return new Error(`internal: ${msg}`);
}
