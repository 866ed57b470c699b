/**
 * The wasm backend's memory: one shared WebAssembly.Memory that the kernels (on every thread) and
 * the host typed-array views of tensors both address. A caching allocator hands out 64-byte
 * aligned blocks in size classes (powers of two and 1.5 times them), reuses freed blocks of the
 * same class without clearing them, and grows the memory when none is free.
 *
 * Lifetime: tensors are garbage collected, so blocks come back through a FinalizationRegistry.
 * Where the platform offers a forced collection and `cleanupSome` (Node, set up by
 * src/platform/node.ts), allocating more than `gcEveryBytes` since the last collection runs one
 * and frees dead blocks synchronously, so a synchronous training loop stays within a flat
 * footprint; elsewhere (browsers) blocks come back when the engine runs the registry's callbacks.
 */
import { DeviceError, disposedError } from '../../errors.js';
import { type AnyTypedArray, type DType } from '../dtype.js';
import type { Storage } from '../backend.js';

/** What the host offers the heap (all optional). */
export interface HeapPlatform {
  /** A forced full garbage collection. */
  gc?: () => void;
  /** A FinalizationRegistry constructor, preferably one with `cleanupSome`. */
  FinalizationRegistry?: typeof FinalizationRegistry;
}

/** Bytes per element of each dtype. */
export const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

const PAGE = 65536;
const ALIGN = 64;
/** What growing into fresh memory costs per byte first written (page faults): 0.36 ms per MiB. */
const FAULT_MS_PER_BYTE = 0.36 / 2 ** 20;
/**
 * Garbage allowed between collections, in blocks of the size being allocated: with big blocks
 * (a loop over 64 MB tensors) the byte allowances below would otherwise collect at every call, for
 * a few ms each (measured: y = a*x + b on 16M floats, two 64 MB results a call, took 9-15 ms a
 * call with a collection each time, 6 ms with one every other call).
 */
const GARBAGE_BLOCKS = 8;
/** The garbage allowed before the first collection at a growth step (see bump). */
const MIN_GROWTH_GC = 8 * 2 ** 20;

/** Blocks from this size get a ballast ArrayBuffer where collections cannot be forced. */
const BALLAST_MIN = 64 * 1024;
/** The first MiB holds the kernels' static data; the heap starts above it. */
export const HEAP_BASE = 1 << 20;

/** The size class of a request: 64, then 2^k and 1.5 * 2^k (at most a third wasted). */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  const mid = (p / 4) * 3;
  return mid >= bytes && mid % ALIGN === 0 ? mid : p;
}

/**
 * What the registry holds for a block: ptr / 64 + (cls / 64) * 2^26, one number (an array held
 * value, or an unregister token, makes each registration several times dearer).
 */
type Held = number;
const HELD_SHIFT = 2 ** 26;
const heldOf = (ptr: number, cls: number): Held => ptr / ALIGN + (cls / ALIGN) * HELD_SHIFT;
interface CleanupRegistry extends FinalizationRegistry<Held> {
  cleanupSome?: () => void;
}

function view(dtype: DType, buffer: ArrayBufferLike, ptr: number, length: number): AnyTypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, ptr, length);
    case 'float64': return new Float64Array(buffer, ptr, length);
    case 'int32': return new Int32Array(buffer, ptr, length);
    case 'bool': return new Uint8Array(buffer, ptr, length);
  }
}

/** Storage of the wasm backend: `length` elements at byte address `ptr` of the heap's memory. */
export class WasmStorage implements Storage {
  readonly device = 'wasm';
  /** Made on first use: most storages are only ever read and written by kernels. */
  private view: AnyTypedArray | null = null;
  /** The size class of the block (a full heap may hand out a larger one than asked); 0 unknown. */
  cls = 0;
  /** Set when the block was freed explicitly ({@link WasmHeap.free}). */
  freed = false;
  constructor(readonly dtype: DType, readonly length: number, readonly ptr: number, private readonly memory: WebAssembly.Memory) {}

  /**
   * A typed-array view of the elements. On shared memory it stays valid when the memory grows
   * (shared buffers never detach); on a plain memory growing detaches it, and it is remade.
   */
  get data(): AnyTypedArray {
    if (this.freed) throw disposedError('wasm', this.length, this.dtype);
    if (this.view === null || (this.view.byteLength === 0 && this.length > 0)) this.view = view(this.dtype, this.memory.buffer, this.ptr, this.length);
    return this.view;
  }
}

/** Options of {@link WasmHeap}. */
export interface HeapOptions {
  /** Maximum memory in 64 KiB pages (default 65536 = 4 GiB). */
  maxPages?: number;
  /** Initial memory in pages (default 256 = 16 MiB). */
  initialPages?: number;
  /** Force a collection after this many bytes were allocated since the last (default 256 MiB). */
  gcEveryBytes?: number;
  /** A shared memory (default true; false where shared memory is not allowed). */
  shared?: boolean;
}

/** The shared memory and its allocator. Only the main thread allocates. */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly maxPages: number;
  private top = HEAP_BASE;
  private readonly freeLists = new Map<number, number[]>();
  private readonly registry: CleanupRegistry | null;
  private readonly gc: (() => void) | undefined;
  private sinceGC = 0;
  private allocations = 0;
  /**
   * Blocks freed explicitly, by held value, whose storages' registry callbacks are still to come:
   * that many callbacks for the value release nothing (each block is released once in all).
   */
  private readonly freedEarly = new Map<Held, number>();
  private readonly gcEveryBytes: number;
  /** Bytes the memory spans (kept here: reading memory.buffer makes a new buffer object). */
  private bytes: number;
  /** Bytes in blocks held by live storages. */
  liveBytes = 0;
  /** Forced collections so far. */
  collections = 0;
  /** What a forced collection has been costing (milliseconds, a moving average; a guess before the first). */
  private gcMs = 4;
  /** Garbage allowed before a collection at a growth step; doubles with each such collection. */
  private growthGcBytes = MIN_GROWTH_GC;

  constructor(platform: HeapPlatform = {}, opts: HeapOptions = {}) {
    this.maxPages = opts.maxPages ?? 65536;
    const initial = Math.max(opts.initialPages ?? 256, HEAP_BASE / PAGE + 1);
    this.memory = new WebAssembly.Memory({ initial, maximum: this.maxPages, shared: opts.shared !== false });
    this.bytes = this.memory.buffer.byteLength;
    const FR = platform.FinalizationRegistry ?? (typeof FinalizationRegistry !== 'undefined' ? FinalizationRegistry : undefined);
    this.registry = FR ? (new FR<Held>((held) => this.finalized(held)) as CleanupRegistry) : null;
    this.gc = platform.gc && this.registry?.cleanupSome ? platform.gc : undefined;
    this.gcEveryBytes = opts.gcEveryBytes ?? 256 * 2 ** 20;
  }

  /** Bytes the memory spans now. */
  get byteLength(): number {
    return this.bytes;
  }

  /** Whether dead blocks are reclaimed synchronously (forced GC + cleanupSome). */
  get syncReclaim(): boolean {
    return this.gc !== undefined;
  }

  /** Runs a collection and frees the blocks of dead storages now (where supported). */
  collect(): void {
    if (!this.gc) return;
    const t0 = performance.now();
    this.gc();
    this.registry!.cleanupSome!();
    const ms = performance.now() - t0;
    this.gcMs = this.collections === 0 ? ms : 0.75 * this.gcMs + 0.25 * ms;
    this.sinceGC = 0;
    this.collections++;
  }

  /** A block of at least `bytes` bytes (contents undefined): [ptr, size class]. */
  allocBytes(bytes: number): [number, number] {
    const cls = sizeClass(bytes);
    this.sinceGC += cls;
    if (this.sinceGC > Math.max(this.gcEveryBytes, this.liveBytes, GARBAGE_BLOCKS * cls)) this.collect();
    // free what ordinary collections found dead since (cleanupSome is cheap when there is none)
    else if ((++this.allocations & 255) === 0) this.registry?.cleanupSome?.();
    // reused blocks are not zeroed: the Backend contract promises no initial contents (callers
    // that need zeros fill), and zeroing a 64 MB block on a SharedArrayBuffer costs tens of ms
    const reused = this.freeLists.get(cls)?.pop();
    const block: [number, number] = reused !== undefined ? [reused, cls] : this.bump(cls);
    this.liveBytes += block[1];
    return block;
  }

  /** A fresh block from the top of the heap (growing the memory), or a larger free one when full. */
  private bump(cls: number): [number, number] {
    if (this.top + cls > this.byteLength) {
      // first try to reuse what the dead storages hold, when enough was allocated since the
      // last collection for that to pay. Growing is not free either: the first write to each
      // new page faults (~1.4 us per 4 KiB measured on one thread, several times that when
      // threads fault together), while reused blocks are warm; a forced collection costs a few
      // ms in a small process, tens of ms with a large JavaScript heap (measured as it runs).
      // So the first collections come early (once the garbage likely there would cost more to
      // replace with fresh pages than a collection costs), and each one at a growth step doubles
      // the garbage allowed before the next, up to half of gcEveryBytes: a short run stays small
      // and warm, a long training loop ends up collecting every 128 MiB allocated. Never before
      // half the live bytes were allocated again (else a collection every few operations)
      if (this.gc && this.sinceGC > Math.max(this.growthGcBytes, this.gcMs / FAULT_MS_PER_BYTE, this.liveBytes / 2, GARBAGE_BLOCKS * cls)) {
        this.growthGcBytes = Math.min(2 * this.growthGcBytes, this.gcEveryBytes / 2);
        this.collect();
        const again = this.freeLists.get(cls)?.pop();
        if (again !== undefined) return [again, cls];
      }
      const cur = this.byteLength / PAGE;
      const need = Math.ceil((this.top + cls) / PAGE);
      if (need > this.maxPages) {
        this.collect();
        const again = this.freeLists.get(cls)?.pop();
        if (again !== undefined) return [again, cls];
        // the memory is at its maximum: hand out the smallest larger free block whole (it
        // returns to its own class when freed)
        const larger = [...this.freeLists.entries()].filter(([c, l]) => c > cls && l.length > 0).sort((a, b) => a[0] - b[0])[0];
        if (larger) return [larger[1].pop()!, larger[0]];
        throw new DeviceError(
          `wasm: expected an allocation that fits in ${this.maxPages * PAGE} bytes of WebAssembly memory, got a request for ${cls} bytes with ${this.liveBytes} bytes live (free tensors or use a smaller batch)`,
        );
      }
      const want = Math.min(this.maxPages, Math.max(need, cur + Math.ceil(cur / 4)));
      this.memory.grow(want - cur);
      this.bytes = this.memory.buffer.byteLength;
    }
    const ptr = this.top;
    this.top += cls;
    return [ptr, cls];
  }

  /** The registry's callback for a dead storage. */
  private finalized(held: Held): void {
    const early = this.freedEarly.get(held);
    if (early !== undefined) {
      if (early <= 1) this.freedEarly.delete(held);
      else this.freedEarly.set(held, early - 1);
      return;
    }
    this.release((held % HELD_SHIFT) * ALIGN, Math.floor(held / HELD_SHIFT) * ALIGN);
  }

  /** Returns a block to its free list. */
  release(ptr: number, cls: number): void {
    this.liveBytes -= cls;
    let list = this.freeLists.get(cls);
    if (!list) this.freeLists.set(cls, (list = []));
    list.push(ptr);
  }

  /** New storage of `length` elements (contents undefined), reclaimed when it is garbage collected. */
  allocate(dtype: DType, length: number): WasmStorage {
    const [ptr, cls] = this.allocBytes(Math.max(1, length * BYTES[dtype]));
    const s = new WasmStorage(dtype, length, ptr, this.memory);
    this.registry?.register(s, heldOf(ptr, cls));
    s.cls = cls;
    // Without forced collections (browsers) the engine cannot see WebAssembly memory, so nothing
    // prompts it to collect dead tensors: a "ballast" ArrayBuffer of the block's size, owned by
    // the storage, counts as external memory in the engine's heuristics (its pages are never
    // touched, so they cost address space, not RAM) and dies with the storage.
    if (!this.gc && cls >= BALLAST_MIN) (s as unknown as { ballast: ArrayBuffer }).ballast = new ArrayBuffer(cls);
    return s;
  }

  /** Frees `s` now (it must not be used afterwards); a second free does nothing. */
  free(s: WasmStorage): void {
    if (s.freed || s.cls === 0) return; // (cls 0: not from this heap)
    s.freed = true;
    this.release(s.ptr, s.cls);
    // what is freed explicitly is not garbage a collection has to find
    this.sinceGC = Math.max(0, this.sinceGC - s.cls);
    if (this.registry) {
      const held = heldOf(s.ptr, s.cls);
      this.freedEarly.set(held, (this.freedEarly.get(held) ?? 0) + 1);
    }
  }

  /** Scratch memory for kernels (packing buffers): a block that is never garbage collected. */
  scratch(bytes: number): number {
    const [ptr] = this.allocBytes(bytes);
    return ptr;
  }

  /** Statistics for `nd.info()` and tests. */
  stats(): { liveBytes: number; heapBytes: number; memoryBytes: number; collections: number } {
    return { liveBytes: this.liveBytes, heapBytes: this.top - HEAP_BASE, memoryBytes: this.byteLength, collections: this.collections };
  }
}
