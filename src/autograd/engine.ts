/**
 * The reverse-mode engine: iterative topological sort, the vjp sweep, broadcast reduction and the
 * checks on every rule's result. Both `Tensor.backward` and `autograd.grad` run through here.
 */
import { fmtShape, GraphError, internal, rangeError, typeError } from '../errors.js';
import { shapesEqual } from '../ndarray/shape.js';
import { NDArray } from '../ndarray/ndarray.js';
import { withGradMode } from './mode.js';
import { setBackwardImpl, Tensor, type BackwardOptions } from './tensor.js';
import { add, sumToShape } from '../ops/primitives.js';

/** Options of {@link runBackward}. */
interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** Accumulate into leaves' (and retainGrad tensors') `.grad`. */
  accumulate: boolean;
}

/** Reverse topological order (outputs first) of the tensors that need a gradient. Iterative DFS. */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<Tensor, 1 | 2>();
  const stack: [Tensor, number][] = [];
  for (const r of roots) {
    if (state.has(r)) continue;
    stack.push([r, 0]);
    state.set(r, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      const inputs = t.node ? t.node.inputs : [];
      if (i < inputs.length) {
        top[1] = i + 1;
        const c = inputs[i]!;
        if (c.requiresGrad && !state.has(c)) {
          state.set(c, 1);
          stack.push([c, 0]);
        }
      } else {
        stack.pop();
        state.set(t, 2);
        order.push(t);
      }
    }
  }
  return order.reverse();
}

/** Runs the backward sweep; returns the gradient of every reached tensor. */
export function runBackward(roots: readonly Tensor[], rootGrads: readonly Tensor[], opts: RunOptions): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  return withGradMode(opts.createGraph, () => {
    roots.forEach((r, i) => {
      const g = rootGrads[i]!;
      const prev = grads.get(r);
      grads.set(r, prev ? add(prev, g) : g);
    });
    for (const t of topoOrder(roots)) {
      const g = grads.get(t);
      if (g === undefined) continue;
      const node = t.node;
      if (node === null || t.retainsGrad) {
        if (opts.accumulate && t.requiresGrad) {
          const gv = opts.createGraph ? g : g.detach();
          // a first gradient gets its own storage: g may be the caller's seed or shared with
          // another input's gradient (add's vjp passes g through), and .grad may be written in place
          t.grad = t.grad
            ? (opts.createGraph ? add(t.grad, gv) : add(t.grad, gv).detach())
            : opts.createGraph ? gv : new Tensor(gv.array.clone());
        }
        if (node === null) continue;
      }
      if (node.released) {
        throw new GraphError(
          `backward: the graph through ${node.op.name} was already freed; ` +
            'pass { retainGraph: true } to the first backward to run backward twice',
        );
      }
      const res = node.op.vjp(g, { inputs: node.inputs, out: t, params: node.params });
      if (res.length !== node.inputs.length) {
        throw internal(`${node.op.name} vjp returned ${res.length} gradients for ${node.inputs.length} inputs`);
      }
      if (!opts.retainGraph) node.released = true;
      node.inputs.forEach((inp, i) => {
        if (!inp.requiresGrad) return;
        let gi = res[i];
        if (gi === null || gi === undefined) {
          throw internal(`${node.op.name} vjp returned no gradient for input ${i}, which requires grad`);
        }
        if (!shapesEqual(gi.shape, inp.shape)) {
          try {
            gi = sumToShape(gi, inp.shape);
          } catch {
            throw internal(
              `${node.op.name} vjp returned a gradient of shape ${fmtShape(gi.shape)} for input ${i} of shape ${fmtShape(inp.shape)}`,
            );
          }
        }
        if (gi.dtype !== inp.dtype) {
          throw internal(`${node.op.name} vjp returned dtype ${gi.dtype} for input ${i} of dtype ${inp.dtype}`);
        }
        const prev = grads.get(inp);
        grads.set(inp, prev ? add(prev, gi) : gi);
      });
    }
    return grads;
  });
}

/** Checks `grad` against `t` for the public entry points, defaulting to ones for scalars. */
export function seedGrad(op: string, t: Tensor, grad: Tensor | undefined): Tensor {
  if (!t.requiresGrad) {
    throw new GraphError(`${op}: a tensor that requires grad, got one that does not (it has no graph)`);
  }
  if (grad === undefined) {
    if (t.size !== 1) {
      throw rangeError(op, 'an explicit gradient for a non-scalar output (grad can be implicitly created only for scalars)', `shape ${fmtShape(t.shape)}`);
    }
    return new Tensor(NDArray.full(t.shape, 1, t.dtype, t.device));
  }
  if (!(grad instanceof Tensor)) throw typeError(op, 'grad to be a Tensor', String(grad));
  if (!shapesEqual(grad.shape, t.shape)) {
    throw rangeError(op, `grad of the output's shape ${fmtShape(t.shape)}`, fmtShape(grad.shape));
  }
  if (grad.dtype !== t.dtype) throw typeError(op, `grad of the output's dtype ${t.dtype}`, grad.dtype);
  return grad;
}

setBackwardImpl((t: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => {
  const g = seedGrad('backward', t, grad);
  const createGraph = opts.createGraph ?? false;
  runBackward([t], [g], { retainGraph: opts.retainGraph ?? createGraph, createGraph, accumulate: true });
});
