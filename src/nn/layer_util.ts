/** Internal helpers of the layer and loss modules (not part of the public surface). */

/**
 * Runs `fn` and re-labels an error of the functional op `op` with the layer's name, so that every
 * error a layer raises starts with `<Layer>:` (the rest of the message is kept).
 */
export function asLayer<T>(layer: string, op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if ((e instanceof RangeError || e instanceof TypeError) && e.message.startsWith(`${op}: `)) {
      const E = e instanceof RangeError ? RangeError : TypeError;
      throw new E(`${layer}: ${e.message.slice(op.length + 2)}`);
    }
    throw e;
  }
}
