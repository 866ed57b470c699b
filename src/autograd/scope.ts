/**
 * `nd.scope(fn)` and `nd.keep(t)`: frees, when `fn` returns, the memory of every tensor made while
 * it ran, except what it returns, what it kept, and what long-lived state took (DESIGN.md §6).
 *
 * What a scope tracks are storages (the memory; views and `detach()` share their base's), not
 * Tensor objects: every storage allocated while it runs (NDArray.empty, toDevice). At exit a
 * tracked storage survives when it is reachable from a root:
 *
 * - the caller's roots: the returned value (a Tensor, or Tensors in an array or plain object, two
 *   levels deep) and `nd.keep`'s tensors;
 * - state roots: tensors made before the scope whose `array` or `grad` was written inside it (an
 *   optimizer step, a gradient stored by backward, BatchNorm's running statistics, gradient
 *   clipping: Tensor's setters report the writes), and optimizer state (Optimizer.step reports it).
 *
 * Reachable means: a root's storage, its `.grad`, and the graph behind it (op inputs and what ops
 * saved in their params) up to nodes a backward has released. Tensors made before the scope and
 * not written inside it are not walked (nothing of theirs can be new).
 *
 * Replaced values: a storage that comes out of a scope held by exactly one tensor is "owned" by
 * it. When a later scope gives that tensor a new array (or its `.grad` a new gradient), the old
 * storage joins that scope's tracked set and is freed at its exit unless still reachable: last
 * step's weights, gradients, running statistics and optimizer moments go back at once and memory
 * stays flat without a garbage collection. Ownership is dropped, conservatively, when a second
 * holder appears: another tensor reaching the storage at a scope's exit, a tensor made outside
 * scopes on it (a view, `detach()`, a state dict), or a write of it outside scopes. A raw NDArray
 * taken from `t.array` is not a holder anyone sees.
 */
import type { Storage } from '../ndarray/backend.js';
import { getBackend } from '../ndarray/backend.js';
import { NDArray, setAllocHook } from '../ndarray/ndarray.js';
import { fmt, typeError } from '../errors.js';
import { Tensor, nextTensorId, setTensorHooks } from './tensor.js';

/** One running scope. */
interface Frame {
  /** Tensors with a smaller id were made before the scope. */
  readonly startId: number;
  /** Storages allocated while it ran, passed up by inner scopes, or replaced owned state. */
  readonly tracked: Set<Storage>;
  /** Tensors made before the scope whose array or grad was written inside it (state roots). */
  readonly touched: Set<Tensor>;
  /** Tensors that library state took (optimizer state): state roots. */
  readonly held: Set<Tensor>;
  /** `nd.keep`: caller's roots. */
  readonly kept: Set<Tensor>;
}

const frames: Frame[] = [];

/** Storages held by exactly one tensor since a scope's exit: that tensor (see the file comment). */
const owned = new WeakMap<Storage, Tensor>();
let anyOwned = false;

function disown(s: Storage | undefined): void {
  if (s !== undefined) owned.delete(s);
}

/** The storage a slot value holds, and the tensor that holds it directly. */
function slotStorage(t: Tensor, v: NDArray | Tensor | null): [Storage, Tensor] | null {
  if (v === null) return null;
  return v instanceof Tensor ? [v.array.storage, v] : [v.storage, t];
}

let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  setTensorHooks({
    created(t) {
      // outside scopes, a second tensor on an owned storage (a view, detach(), a state dict)
      if (anyOwned && frames.length === 0) disown(t.array.storage);
    },
    wrote(t, slot, old) {
      const top = frames[frames.length - 1];
      const now = slotStorage(t, slot === 'array' ? t.array : t.grad);
      if (now !== null && anyOwned) {
        const o = owned.get(now[0]);
        // outside scopes the new holder is unseen later; inside, a second holder of the storage
        if (o !== undefined && (top === undefined || o !== now[1])) owned.delete(now[0]);
      }
      if (top === undefined) {
        const prev = slotStorage(t, old);
        if (prev !== null && anyOwned) disown(prev[0]);
        return;
      }
      if (t.id < top.startId) top.touched.add(t);
      const prev = slotStorage(t, old);
      if (prev !== null && owned.get(prev[0]) === prev[1]) {
        owned.delete(prev[0]);
        top.tracked.add(prev[0]);
      }
    },
  });
}

function track(s: Storage): void {
  frames[frames.length - 1]?.tracked.add(s);
}

/** True while a scope runs (library code skips its bookkeeping otherwise). */
export function inScope(): boolean {
  return frames.length > 0;
}

/**
 * Library state took `t` (an optimizer's moment estimate): it outlives the running scopes like a
 * tensor made before them. Does nothing outside scopes.
 */
export function holdState(t: Tensor): void {
  frames[frames.length - 1]?.held.add(t);
}

/** Library state let go of `old` (replaced by a new tensor): freed at the scope's exit if owned and unreachable. */
export function dropState(old: Tensor): void {
  const top = frames[frames.length - 1];
  const s = old.array.storage;
  if (owned.get(s) !== old) return;
  owned.delete(s);
  top?.tracked.add(s);
}

/** Reports a state record's change (`before` is a shallow copy taken before the update). */
export function stateChanged(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): void {
  for (const v of Object.values(after)) if (v instanceof Tensor) holdState(v);
  for (const [k, v] of Object.entries(before)) if (v instanceof Tensor && after[k] !== v) dropState(v);
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Tensors (and NDArrays) in a returned value: itself, or inside arrays / plain objects, two levels deep. */
function returned(v: unknown, out: unknown[], depth: number): void {
  if (v instanceof Tensor || v instanceof NDArray) out.push(v);
  else if (depth < 2 && v !== null && typeof v === 'object') {
    if (Array.isArray(v)) for (const x of v) returned(x, out, depth + 1);
    else if (isPlain(v)) for (const x of Object.values(v)) returned(x, out, depth + 1);
  }
}

/** Tensors and NDArrays an op saved in its params. */
function saved(p: unknown, out: unknown[], depth: number): void {
  if (p instanceof Tensor || p instanceof NDArray) out.push(p);
  else if (depth < 3 && p !== null && typeof p === 'object') {
    if (Array.isArray(p)) for (const x of p) saved(x, out, depth + 1);
    else if (isPlain(p)) for (const x of Object.values(p)) saved(x, out, depth + 1);
  }
}

/**
 * Marks in `reached` every storage that `roots` reach, with the one tensor holding it, or null
 * when it has several holders (two tensors on it, two paths to its tensor, a raw NDArray).
 */
function reach(roots: readonly unknown[], f: Frame, reached: Map<Storage, Tensor | null>): void {
  const seen = new Set<Tensor>();
  const mark = (s: Storage, holder: Tensor | null) => {
    if (!reached.has(s)) reached.set(s, holder);
    else if (reached.get(s) !== holder) reached.set(s, null);
  };
  const stack = [...roots];
  while (stack.length > 0) {
    const x = stack.pop();
    if (x instanceof NDArray) {
      mark(x.storage, null);
      continue;
    }
    if (!(x instanceof Tensor)) continue;
    // unchanged since before the scope: nothing of it is tracked
    if (x.id < f.startId && !f.touched.has(x)) continue;
    if (seen.has(x)) {
      mark(x.array.storage, null);
      continue;
    }
    seen.add(x);
    mark(x.array.storage, x);
    if (x.grad !== null) stack.push(x.grad);
    const node = x.node;
    if (node !== null && !node.released) {
      stack.push(...node.inputs);
      saved(node.params, stack, 0);
    }
  }
}

/** Ends `f`: frees what is unreachable, passes the rest (and the state roots) to the enclosing scope. */
function close(f: Frame, result: unknown, hasResult: boolean): void {
  const roots: unknown[] = [...f.kept, ...f.touched, ...f.held];
  if (hasResult) returned(result, roots, 0);
  const reached = new Map<Storage, Tensor | null>();
  reach(roots, f, reached);
  const parent = frames[frames.length - 1];
  for (const s of f.tracked) {
    if (!reached.has(s)) getBackend(s.device).free(s);
    else parent?.tracked.add(s);
  }
  for (const [s, holder] of reached) {
    if (holder === null) owned.delete(s);
    else if (f.tracked.has(s)) {
      owned.set(s, holder);
      anyOwned = true;
    } else if (owned.has(s) && owned.get(s) !== holder) owned.delete(s);
  }
  if (parent) {
    for (const t of f.touched) if (t.id < parent.startId) parent.touched.add(t);
    for (const t of f.held) parent.held.add(t);
  }
}

function describe(v: unknown): string {
  if (v instanceof Promise) return 'a Promise';
  if (typeof v === 'function') return 'a function';
  return fmt(v);
}

/**
 * Runs `fn` synchronously and frees, when it returns, the memory of every tensor made while it
 * ran, except:
 *
 * - what it returns: a Tensor, or Tensors in an array or plain object (two levels deep, e.g.
 *   `{ loss, outs: [a, b] }`), with the graph behind them (op inputs and saved tensors, so
 *   `nd.scope(() => model(x).sum()).backward()` works after the scope; a graph a backward inside
 *   the scope already released is not kept);
 * - what {@link keep} marked;
 * - what long-lived state took: a new `array` or `grad` given to a tensor made before the scope
 *   (optimizer steps, gradients from backward, BatchNorm's running statistics, gradient clipping,
 *   in-place ops), and optimizer state (Adam's moments).
 *
 * Memory is storage: a returned view keeps its base's storage, and a view made inside of a tensor
 * made before shares that tensor's memory and does not free it. When a scope gives a new array or
 * gradient to long-lived state, the one it replaces is freed at the exit if it came out of an
 * earlier scope held by that tensor alone (last step's weights, gradients, statistics, moments)
 * and nothing the scope keeps reaches it: a training step in a scope keeps memory flat without a
 * collection. Snapshot an old value with `clone()` if it must outlive the next step.
 *
 * Freeing is `dispose()`: memory goes back on `wasm` and `cuda`, the array is dropped on `cpu`,
 * and any later use of a freed tensor throws a DeviceError. Scopes nest: what an inner scope
 * returns is the outer scope's to free. If `fn` throws, what it made is freed (state kept) and
 * the error propagates. Tensors that leave by other paths (a closure variable, a property of your
 * own object, a module built inside) are not seen: return them or keep them. Async functions are
 * refused (TypeError): tracking across `await` would catch other tasks' tensors. TF.js calls this
 * `tf.tidy`; there is no alias here.
 *
 * @example
 * for (let i = 0; i < steps; i++) {
 *   const loss = nd.scope(() => {
 *     opt.zeroGrad();
 *     const l = lossFn(model.forward(x), y);
 *     l.backward();
 *     opt.step();
 *     return l; // its graph was released by backward: only the scalar survives
 *   });
 *   console.log(loss.item());
 * }
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw typeError('scope', 'fn to be a function', describe(fn));
  installHooks();
  const f: Frame = { startId: nextTensorId(), tracked: new Set(), touched: new Set(), held: new Set(), kept: new Set() };
  frames.push(f);
  if (frames.length === 1) setAllocHook(track);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frames.pop();
    if (frames.length === 0) setAllocHook(null);
    close(f, undefined, false);
    throw e;
  }
  frames.pop();
  if (frames.length === 0) setAllocHook(null);
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    // nothing is freed: the function's continuation may still use what it made
    (result as unknown as PromiseLike<unknown>).then(undefined, () => {});
    throw typeError(
      'scope',
      'fn to return synchronously (a Tensor, an array or object of Tensors, or nothing); an async function cannot be scoped, ' +
        'since tracking across await would free or keep the tensors of other tasks',
      describe(result),
    );
  }
  close(f, result, true);
  return result;
}

/**
 * Marks `t` (and the graph behind it) to survive every scope running now; outside scopes it does
 * nothing. Returns `t`. Free it yourself (`dispose()`) or let it be garbage collected.
 *
 * @example
 * let best: nd.Tensor | null = null;
 * nd.scope(() => {
 *   const out = model.forward(x);
 *   best = nd.keep(out.argmax(1));
 * });
 */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw typeError('keep', 'a Tensor', describe(t));
  for (const f of frames) f.kept.add(t);
  return t;
}
