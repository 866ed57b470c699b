/**
 * The reverse-mode engine: iterative topological sort, the vjp sweep, broadcast reduction and the
 * checks on every rule's result. Both `Tensor.backward` and `autograd.grad` run through here.
 */
import { fmtShape, GraphError, internal, rangeError, typeError } from '../errors.js';
import { shapesEqual } from '../ndarray/shape.js';
import { NDArray } from '../ndarray/ndarray.js';
import { withGradMode } from './mode.js';
import { activeLevels } from './dual.js';
import type { Storage } from '../ndarray/backend.js';
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

/** Marks the storages an op's params hold (saved statistics, running buffers) as not ours. */
function keepParams(p: unknown, keep: Set<Storage>, depth: number): void {
  if (p instanceof NDArray) keep.add(p.storage);
  else if (p instanceof Tensor) keep.add(p.array.storage);
  else if (depth < 2 && p !== null && typeof p === 'object') for (const v of Object.values(p)) keepParams(v, keep, depth + 1);
}

/**
 * Gradient storage in a plain backward into `.grad` (Tensor.backward without createGraph, no
 * forward-mode level): the gradients the vjps make belong to the engine, so a storage that no
 * pending gradient references any more is freed at once (the backend reuses its memory without
 * waiting for a garbage collection), and a leaf's first gradient keeps its storage instead of a
 * copy when nothing else references it. Storages of the graph's tensors, of the seeds and of what
 * ops saved in their params are never freed or handed out.
 */
class GradStore {
  /** Pending gradients (grads entries) referencing each storage. */
  private readonly refs = new Map<Storage, number>();
  /** Storages that are not ours (or no longer: handed out as .grad, or freed). */
  private readonly keep = new Set<Storage>();

  constructor(order: readonly Tensor[], seeds: readonly Tensor[]) {
    for (const g of seeds) this.keep.add(g.array.storage);
    for (const t of order) {
      this.keep.add(t.array.storage);
      const node = t.node;
      if (node === null) continue;
      for (const inp of node.inputs) this.keep.add(inp.array.storage);
      keepParams(node.params, this.keep, 0);
    }
  }

  /** A pending gradient now references `t`'s storage. */
  hold(t: Tensor): void {
    const s = t.array.storage;
    if (!this.keep.has(s)) this.refs.set(s, (this.refs.get(s) ?? 0) + 1);
  }

  /** A pending gradient no longer references `t`'s storage. */
  drop(t: Tensor): void {
    const s = t.array.storage;
    const n = this.refs.get(s);
    if (n === undefined) return;
    if (n > 1) this.refs.set(s, n - 1);
    else this.refs.delete(s);
  }

  /** Whether `t` (a pending gradient) is the only reference to its whole, compact storage. */
  sole(t: Tensor): boolean {
    const a = t.array;
    return this.refs.get(a.storage) === 1 && a.offset === 0 && a.size === a.storage.length && a.isCompact();
  }

  /** `t`'s storage leaves the engine (a .grad): never freed here. */
  handOut(t: Tensor): void {
    this.refs.delete(t.array.storage);
    this.keep.add(t.array.storage);
  }

  /** Frees the storages of `ts` that are ours and that no pending gradient references. */
  sweep(ts: readonly (Tensor | null | undefined)[]): void {
    for (const t of ts) {
      if (!t) continue;
      const s = t.array.storage;
      if (this.keep.has(s) || this.refs.has(s)) continue;
      this.keep.add(s); // (once)
      t.array.backend.free(s);
    }
  }
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
    const order = topoOrder(roots);
    // only Tensor.backward's map is dropped at the end (autograd.grad returns entries of it)
    const store = opts.accumulate && !opts.createGraph && activeLevels().length === 0 ? new GradStore(order, rootGrads) : null;
    if (store) for (const g of grads.values()) store.hold(g);
    for (const t of order) {
      const g = grads.get(t);
      if (g === undefined) continue;
      const node = t.node;
      if (node === null || t.retainsGrad) {
        if (opts.accumulate && t.requiresGrad) {
          const gv = opts.createGraph ? g : g.detach();
          // a first gradient gets its own storage: g may be the caller's seed or shared with
          // another input's gradient (add's vjp passes g through), and .grad may be written in
          // place; a plain backward hands over a storage that nothing else references
          if (t.grad) t.grad = opts.createGraph ? add(t.grad, gv) : add(t.grad, gv).detach();
          else if (opts.createGraph) t.grad = gv;
          else if (store?.sole(g)) {
            t.grad = gv;
            store.handOut(g);
          } else t.grad = new Tensor(gv.array.clone());
        }
        if (node === null) {
          if (store) {
            store.drop(g);
            store.sweep([g]);
          }
          continue;
        }
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
      const done: (Tensor | null | undefined)[] = store ? [g, ...res] : [];
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
        const next = prev ? add(prev, gi) : gi;
        grads.set(inp, next);
        if (store) {
          store.hold(next);
          if (prev) {
            store.drop(prev);
            done.push(prev, gi);
          } else if (gi !== res[i]) done.push(gi);
        }
      });
      if (store) {
        store.drop(g);
        store.sweep(done);
      }
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
