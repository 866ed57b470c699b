/**
 * Tensor: an NDArray plus, when it requires grad, the op and inputs that made it. Method sugar
 * (x.add(y), x.sum(), ...) is attached in `tensor_methods.ts`, delegating to functions in ops/.
 */
import type { NDArray, NestedArray } from '../ndarray/ndarray.js';
import type { DType, AnyTypedArray } from '../ndarray/dtype.js';
import { isFloating } from '../ndarray/dtype.js';
import { typeError } from '../errors.js';
import type { OpDef } from './op.js';

/** A recorded application of an op: the edge from an output back to its inputs. */
export interface GraphNode {
  readonly op: OpDef<unknown>;
  readonly inputs: readonly import('./tensor.js').Tensor[];
  readonly params: unknown;
  /** Set once backward ran through this node without retainGraph. */
  released: boolean;
}

/** Backward options. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. Defaults to `createGraph`. */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order derivatives. */
  createGraph?: boolean;
}

let backwardImpl: ((t: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => void) | null = null;
/** @internal wired by engine.ts to break the import cycle. */
export function setBackwardImpl(fn: typeof backwardImpl): void {
  backwardImpl = fn;
}

let nextId = 0;

/** The next tensor id (scopes tell tensors made before them from those made inside). */
export function nextTensorId(): number {
  return nextId;
}

/**
 * What `nd.scope` (scope.ts) observes of tensors: every tensor made, and every write of a
 * tensor's `array` or `grad` with the value it replaces. Null while no scope has run.
 */
export interface TensorHooks {
  created(t: Tensor): void;
  wrote(t: Tensor, slot: 'array' | 'grad', old: NDArray | Tensor | null): void;
}
let hooks: TensorHooks | null = null;
/** @internal installed by scope.ts. */
export function setTensorHooks(h: TensorHooks | null): void {
  hooks = h;
}

export class Tensor {
  #array: NDArray;
  #grad: Tensor | null = null;
  /** Whether gradients flow to (leaf) or through this tensor. */
  requiresGrad = false;
  /** The op that made this tensor, when recorded. Leaves have none. */
  node: GraphNode | null = null;
  /** Non-leaf tensors keep `.grad` only after `retainGrad()`. */
  retainsGrad = false;
  /** Unique id (debugging, stable ordering). */
  readonly id = nextId++;

  constructor(array: NDArray, opts: { requiresGrad?: boolean } = {}) {
    this.#array = array;
    if (hooks !== null) hooks.created(this);
    if (opts.requiresGrad) this.requiresGrad_(true);
  }

  /**
   * The values. Replaced (never mutated in place) by in-place ops and optimizers; inside
   * `nd.scope` the write is seen, so a new array given to a tensor made before the scope outlives
   * it (docs/autograd.md, "Scopes").
   */
  get array(): NDArray {
    return this.#array;
  }
  set array(a: NDArray) {
    const old = this.#array;
    this.#array = a;
    if (hooks !== null) hooks.wrote(this, 'array', old);
  }

  /** Accumulated gradient of a leaf after `backward()` (inside `nd.scope`: seen like {@link array}). */
  get grad(): Tensor | null {
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    const old = this.#grad;
    this.#grad = g;
    if (hooks !== null) hooks.wrote(this, 'grad', old);
  }

  get shape(): readonly number[] {
    return this.array.shape;
  }
  get dtype(): DType {
    return this.array.dtype;
  }
  get device(): string {
    return this.array.device;
  }
  get ndim(): number {
    return this.array.ndim;
  }
  get size(): number {
    return this.array.size;
  }
  /** True for tensors not made by a recorded op. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /**
   * Frees this tensor's memory now instead of at garbage collection: a `cuda` tensor's device
   * memory, a `wasm` tensor's heap block (reused by the next allocation of its size). Tensors
   * sharing the storage (views, `detach()`, reshapes) lose it too, and any later use of any of them
   * throws a DeviceError ("expected a live tensor, got one whose memory was freed by dispose()").
   * A second call does nothing. The gradient is a tensor of its own: dispose `t.grad` separately.
   * `nd.scope(fn)` disposes every tensor `fn` made except what it returns and what state took.
   *
   * @example
   * const x = nd.randn([4096, 4096]).to('cuda');
   * const s = x.matmul(x).sum();
   * x.dispose();              // the 64 MiB are back now
   * {
   *   using t = nd.ones([1024]); // TypeScript 5.2+ `using`: disposed at the end of the block
   * }
   */
  dispose(): void {
    this.array.backend.free(this.array.storage);
  }

  /** `using` support (explicit resource management): {@link dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Sets requiresGrad on a leaf (floating dtypes only, as in PyTorch). */
  requiresGrad_(on = true): this {
    if (on && !isFloating(this.dtype)) {
      throw typeError('requiresGrad_', 'a floating-point tensor (only they can require gradients)', this.dtype);
    }
    if (!on && this.node) {
      throw typeError('requiresGrad_', 'a leaf tensor (use detach() on a non-leaf)', 'a tensor made by ' + this.node.op.name);
    }
    this.requiresGrad = on;
    return this;
  }

  /** A new leaf sharing storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.array);
  }

  /** Keep `.grad` on this non-leaf tensor during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Reverse-mode: accumulates d(this)/d(leaf) into each leaf's `.grad`. A non-scalar tensor needs
   * an explicit `grad` of its shape.
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    if (!backwardImpl) throw new Error('internal: autograd engine not loaded');
    backwardImpl(this, grad, opts);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    return this.array.item();
  }
  /** Values as nested arrays. */
  toArray(): NestedArray {
    return this.array.toArray();
  }
  /** A compact typed-array copy of the values. */
  dataSync(): AnyTypedArray {
    return this.array.dataSync();
  }
  /** Asynchronous read (for GPU and browser backends). */
  async data(): Promise<AnyTypedArray> {
    const c = this.array.compact();
    return c.backend.read(c.storage, c.offset, c.size);
  }

  toString(): string {
    const body = this.size <= 1000 ? JSON.stringify(this.toArray()) : `[... ${this.size} elements]`;
    const grad = this.requiresGrad ? ', requiresGrad=true' : '';
    return `tensor(${body}, dtype=${this.dtype}${grad})`;
  }
}
