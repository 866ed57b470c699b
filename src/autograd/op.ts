/**
 * One place per op: an {@link OpDef} holds an op's name, its forward on NDArrays, its reverse-mode
 * rule (vjp) and its forward-mode rule (jvp), both written with Tensor ops so that they are
 * themselves differentiable. {@link apply} is the single dispatcher that runs the forward and
 * records the graph and tangents.
 */
import type { NDArray } from '../ndarray/ndarray.js';
import { isFloating } from '../ndarray/dtype.js';
import { fmtShape, internal } from '../errors.js';
import { shapesEqual } from '../ndarray/shape.js';
import { isGradEnabled, withGradMode } from './mode.js';
import { Tensor, type GraphNode } from './tensor.js';
import { activeLevels, type DualLevel } from './dual.js';

/** What a rule sees of the call it differentiates. */
export interface OpContext<P> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly params: P;
}

/** An op definition. Every field is required: an op cannot be half-defined. */
export interface OpDef<P = undefined> {
  readonly name: string;
  /** Forward on arrays. */
  forward(inputs: NDArray[], params: P): NDArray;
  /**
   * Vector-Jacobian product: one gradient per input, in the output's (broadcast) shape or the
   * input's shape; `null` for inputs that take no gradient (indices, masks). The engine sums over
   * broadcast dims and checks shapes and dtypes.
   */
  vjp(g: Tensor, ctx: OpContext<P>): (Tensor | null)[];
  /** Jacobian-vector product given one tangent per input (`null` = zero). Returns null for a zero tangent. */
  jvp(tangents: (Tensor | null)[], ctx: OpContext<P>): Tensor | null;
  /** False for ops whose output carries no gradient (comparisons, argmax). */
  readonly differentiable: boolean;
}

/** Declares an op (identity helper that fixes the params type). */
export function defineOp<P = undefined>(def: OpDef<P>): OpDef<P> {
  return def;
}

/** Runs `op` on tensors: forward, graph recording and forward-mode tangents. */
export function apply<P>(op: OpDef<P>, inputs: Tensor[], params: P): Tensor {
  const out = new Tensor(op.forward(inputs.map((t) => t.array), params));
  const floatOut = isFloating(out.dtype);
  if (op.differentiable && floatOut && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    const node: GraphNode = { op: op as OpDef<unknown>, inputs, params, released: false };
    out.node = node;
  }
  const levels = activeLevels();
  if (levels.length > 0 && op.differentiable && floatOut) propagateTangents(op, inputs, params, out, levels);
  return out;
}

function propagateTangents<P>(op: OpDef<P>, inputs: Tensor[], params: P, out: Tensor, levels: DualLevel[]): void {
  for (const level of levels) {
    const tans = inputs.map((t) => level.tangents.get(t) ?? null);
    if (tans.every((t) => t === null)) continue;
    const t = level.suspend(() => withGradMode(isGradEnabled(), () => op.jvp(tans, { inputs, out, params })));
    if (t === null) continue;
    level.tangents.set(out, fitTangent(op.name, t, out));
  }
}

/** Expands a broadcast-shaped tangent to the output's shape and checks it. */
function fitTangent(name: string, t: Tensor, out: Tensor): Tensor {
  if (!shapesEqual(t.shape, out.shape)) {
    try {
      t = t.expand(out.shape);
    } catch {
      throw internal(`${name} jvp returned a tangent of shape ${fmtShape(t.shape)} for an output of shape ${fmtShape(out.shape)}`);
    }
  }
  if (t.dtype !== out.dtype) {
    throw internal(`${name} jvp returned dtype ${t.dtype} for an output of dtype ${out.dtype}`);
  }
  return t;
}
