/**
 * NDArray: a strided view (shape, strides in elements, offset) over backend storage. Views never
 * copy; `compact()` is the one strided gather and `assign`/`fill` on a view the one scatter.
 */
import { fmtShape, rangeError, typeError } from '../errors.js';
import { getBackend, getDefaultDevice, type Backend, type Storage } from './backend.js';
import { type AnyTypedArray, type DType } from './dtype.js';
import { compactStrides, inferShape, normAxis, prod, shapesEqual, type Shape } from './shape.js';

/** One entry of a basic index: start/stop/step slice (PyTorch/NumPy semantics, negatives wrap). */
export interface SliceSpec {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}

/** Nested JavaScript arrays of numbers (or booleans). */
export type NestedArray = number | boolean | NestedArray[];

let allocHook: ((s: Storage) => void) | null = null;
/** @internal set by autograd/scope.ts while `nd.scope` runs: sees every storage allocated here. */
export function setAllocHook(fn: ((s: Storage) => void) | null): void {
  allocHook = fn;
}

export class NDArray {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly storage: Storage;
  readonly backend: Backend;

  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, backend: Backend) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.backend = backend;
  }

  /** A new uninitialized (zeroed on cpu) compact array. */
  static empty(shape: Shape, dtype: DType = 'float32', device: string = getDefaultDevice()): NDArray {
    const backend = getBackend(device);
    const storage = backend.allocate(dtype, prod(shape));
    if (allocHook !== null) allocHook(storage);
    return new NDArray(storage, shape.slice(), compactStrides(shape), 0, backend);
  }

  /** A compact array filled with `value`. */
  static full(shape: Shape, value: number, dtype: DType = 'float32', device?: string): NDArray {
    const a = NDArray.empty(shape, dtype, device);
    if (dtype === 'bool') value = value !== 0 ? 1 : 0; // nonzero (NaN included) is true
    if (value !== 0 || a.backend.name !== 'cpu') a.backend.fill(a, a.size, value);
    return a;
  }

  /** A compact array holding `data` (row-major). */
  static fromData(data: ArrayLike<number>, shape: Shape, dtype: DType = 'float32', device?: string): NDArray {
    const a = NDArray.empty(shape, dtype, device);
    if (data.length !== a.size) {
      throw rangeError('NDArray.fromData', `data of length ${a.size} for shape ${fmtShape(shape)}`, `length ${data.length}`);
    }
    a.backend.write(a.storage, 0, data);
    return a;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): string {
    return this.backend.name;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return prod(this.shape);
  }

  /** True when the elements are contiguous in row-major order (size-1 dims are ignored). */
  isCompact(): boolean {
    let expect = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const d = this.shape[i]!;
      if (d === 1) continue;
      if (this.strides[i] !== expect) return false;
      expect *= d;
    }
    return true;
  }

  /** This array if compact, else a compact copy (the one strided gather). */
  compact(): NDArray {
    if (this.isCompact()) return this;
    const out = NDArray.empty(this.shape, this.dtype, this.device);
    this.backend.compact(this, out);
    return out;
  }

  /** Always a fresh compact copy. */
  clone(): NDArray {
    const out = NDArray.empty(this.shape, this.dtype, this.device);
    this.backend.compact(this, out);
    return out;
  }

  /** A view with new metadata over the same storage. */
  asStrided(shape: readonly number[], strides: readonly number[], offset: number = this.offset): NDArray {
    return new NDArray(this.storage, shape, strides, offset, this.backend);
  }

  /** Reshape of a compact array as a view (`-1` infers one dim); throws for non-compact arrays. */
  view(shape: readonly number[]): NDArray {
    const s = inferShape('view', shape, this.size, this.shape);
    if (!this.isCompact()) {
      throw rangeError('view', 'a compact (contiguous) array; use reshape() to copy', `strides ${fmtShape(this.strides)}`);
    }
    return this.asStrided(s, compactStrides(s));
  }

  /**
   * Reshape: a view when compact or when only size-1 dims are added/removed (squeeze, unsqueeze,
   * integer indexing of any view), otherwise a compact copy first.
   */
  reshape(shape: readonly number[]): NDArray {
    const s = inferShape('reshape', shape, this.size, this.shape);
    if (!this.isCompact()) {
      const keptStrides = this.strides.filter((_, i) => this.shape[i] !== 1);
      if (shapesEqual(this.shape.filter((d) => d !== 1), s.filter((d) => d !== 1))) {
        let k = 0;
        return this.asStrided(s, s.map((d) => (d === 1 ? 0 : keptStrides[k++]!)));
      }
    }
    const c = this.compact();
    return c.asStrided(s, compactStrides(s));
  }

  /** Reorders the dims (a view). */
  permute(axes: readonly number[]): NDArray {
    const nd = this.ndim;
    if (axes.length !== nd) {
      throw rangeError('permute', `dims of length ${nd}`, fmtShape(axes));
    }
    const norm = axes.map((a) => normAxis('permute', a, nd));
    if (new Set(norm).size !== nd) throw rangeError('permute', 'dims to be a permutation', fmtShape(axes));
    return this.asStrided(norm.map((a) => this.shape[a]!), norm.map((a) => this.strides[a]!));
  }

  /** Swaps two dims (a view). */
  transpose(d0: number, d1: number): NDArray {
    const nd = this.ndim;
    const a = normAxis('transpose', d0, nd);
    const b = normAxis('transpose', d1, nd);
    const axes = Array.from({ length: nd }, (_, i) => i);
    axes[a] = b;
    axes[b] = a;
    return this.permute(axes);
  }

  /** Broadcasts to `shape` with stride-0 dims (a view). */
  broadcastTo(shape: readonly number[]): NDArray {
    const nd = shape.length;
    if (nd < this.ndim) {
      throw rangeError('broadcastTo', `a shape of at least ${this.ndim} dims`, `${fmtShape(this.shape)} -> ${fmtShape(shape)}`);
    }
    const strides = new Array<number>(nd).fill(0);
    for (let i = 0; i < this.ndim; i++) {
      const j = nd - this.ndim + i;
      const d = this.shape[i]!;
      if (d === shape[j]) strides[j] = this.strides[i]!;
      else if (d === 1) strides[j] = 0;
      else throw rangeError('broadcastTo', `a shape compatible with ${fmtShape(this.shape)}`, fmtShape(shape));
    }
    return this.asStrided(shape.slice(), strides);
  }

  /** Basic slicing: one spec per leading dim (missing dims are taken whole). A view. */
  slice(specs: readonly SliceSpec[]): NDArray {
    if (specs.length > this.ndim) {
      throw rangeError('slice', `at most ${this.ndim} slices`, String(specs.length));
    }
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    let offset = this.offset;
    specs.forEach((sp, i) => {
      const r = resolveSlice(sp, this.shape[i]!);
      offset += r.start * this.strides[i]!;
      shape[i] = r.length;
      strides[i] = this.strides[i]! * r.step;
    });
    return this.asStrided(shape, strides, offset);
  }

  /** Reverses the given dims (a view with negative strides). */
  flip(axes: readonly number[]): NDArray {
    const strides = this.strides.slice();
    let offset = this.offset;
    const norm = axes.map((a0) => normAxis('flip', a0, this.ndim));
    if (new Set(norm).size !== norm.length) throw rangeError('flip', 'dims must not repeat', fmtShape(axes));
    for (const a of norm) {
      if (this.shape[a]! > 0) offset += (this.shape[a]! - 1) * strides[a]!;
      strides[a] = -strides[a]!;
    }
    return this.asStrided(this.shape, strides, offset);
  }

  /** Selects one index along `dim`, dropping that dim (a view). */
  select(dim: number, index: number): NDArray {
    const d = normAxis('select', dim, this.ndim);
    const n = this.shape[d]!;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw rangeError('select', `index in [${-n}, ${n - 1}] for dim ${d} of size ${n}`, String(index));
    }
    const i = index < 0 ? index + n : index;
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    shape.splice(d, 1);
    strides.splice(d, 1);
    return this.asStrided(shape, strides, this.offset + i * this.strides[d]!);
  }

  /** Inserts a size-1 dim at `dim` (a view). */
  unsqueeze(dim: number): NDArray {
    const d = normAxis('unsqueeze', dim, this.ndim + 1);
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    shape.splice(d, 0, 1);
    strides.splice(d, 0, 0);
    return this.asStrided(shape, strides);
  }

  /** Removes size-1 dims (all, or the ones given; others are left alone as in PyTorch). */
  squeeze(dims?: number | readonly number[]): NDArray {
    const nd = this.ndim;
    const drop = new Set<number>();
    if (dims === undefined) this.shape.forEach((d, i) => d === 1 && drop.add(i));
    else for (const a of typeof dims === 'number' ? [dims] : dims) {
      const d = normAxis('squeeze', a, nd);
      if (this.shape[d] === 1) drop.add(d);
    }
    return this.asStrided(
      this.shape.filter((_, i) => !drop.has(i)),
      this.strides.filter((_, i) => !drop.has(i)),
    );
  }

  /** Writes `value` (an array broadcastable to this view, or a scalar) into this view in place. */
  assign(value: NDArray | number): void {
    if (typeof value === 'number') {
      this.backend.setitemScalar(this, this.dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
      return;
    }
    if (value.device !== this.device) {
      throw typeError('setitem', `a value on device ${this.device}`, value.device);
    }
    let src = value.dtype === this.dtype ? value : value.astype(this.dtype);
    src = src.broadcastTo(this.shape).compact();
    // a source that aliases the destination must be copied first
    if (src.storage === this.storage) src = src.clone();
    this.backend.setitem(this, src);
  }

  /** A compact copy on `device` (this array when it is already there). */
  toDevice(device: string): NDArray {
    if (device === this.device) return this;
    const target = getBackend(device);
    const c = this.compact();
    const storage = target.allocate(this.dtype, c.size);
    if (allocHook !== null) allocHook(storage);
    const out = new NDArray(storage, this.shape.slice(), compactStrides(this.shape), 0, target);
    target.write(out.storage, 0, c.backend.readSync(c.storage, c.offset, c.size));
    return out;
  }

  /** A compact copy converted to `dtype` (this array when the dtype already matches). */
  astype(dtype: DType): NDArray {
    if (dtype === this.dtype) return this;
    const src = this.compact();
    const out = NDArray.empty(this.shape, dtype, this.device);
    this.backend.cast(src, out, src.size);
    return out;
  }

  /** A compact copy of the elements as a typed array (row-major). */
  dataSync(): AnyTypedArray {
    const c = this.compact();
    return this.backend.readSync(c.storage, c.offset, c.size);
  }

  /** The elements as nested JavaScript arrays (booleans for `bool`). */
  toArray(): NestedArray {
    const flat = this.dataSync();
    const isBool = this.dtype === 'bool';
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[off] !== 0 : flat[off]!;
      const stride = prod(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** The single element of a one-element array. */
  item(): number {
    if (this.size !== 1) throw rangeError('item', 'a tensor with one element', `shape ${fmtShape(this.shape)}`);
    return this.dataSync()[0]!;
  }
}

/** Resolves a slice against a dim of size `n` into start/step/length (PyTorch/NumPy rules). */
export function resolveSlice(sp: SliceSpec, n: number): { start: number; step: number; length: number } {
  const step = sp.step ?? 1;
  if (!Number.isInteger(step) || step === 0) throw rangeError('slice', 'step must be a non-zero integer', String(step));
  for (const b of [sp.start, sp.stop]) {
    if (b != null && !Number.isInteger(b)) throw typeError('slice', 'start and stop must be integers or null', String(b));
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let start: number;
  let stop: number;
  if (step > 0) {
    start = sp.start == null ? 0 : sp.start < 0 ? clamp(sp.start + n, 0, n) : clamp(sp.start, 0, n);
    stop = sp.stop == null ? n : sp.stop < 0 ? clamp(sp.stop + n, 0, n) : clamp(sp.stop, 0, n);
    const length = stop > start ? Math.ceil((stop - start) / step) : 0;
    return { start, step, length };
  }
  start = sp.start == null ? n - 1 : sp.start < 0 ? clamp(sp.start + n, -1, n - 1) : clamp(sp.start, -1, n - 1);
  stop = sp.stop == null ? -1 : sp.stop < 0 ? clamp(sp.stop + n, -1, n - 1) : clamp(sp.stop, -1, n - 1);
  const length = start > stop ? Math.ceil((start - stop) / -step) : 0;
  return { start: length > 0 ? start : 0, step, length };
}
