/**
 * The cuda backend's caching allocator. Device allocations (cuMemAlloc) are slow and synchronize
 * the device, so freed blocks are kept in per-size-class free lists and handed out again; every
 * kernel runs on one stream, so a block freed after the launches that use it were issued can be
 * reused by later launches without waiting (stream order).
 *
 * Ownership: `dispose()` (nd.cuda.dispose) frees a storage at once. As a safety net, storages that
 * are garbage collected come back through a FinalizationRegistry; where the platform offers a
 * forced collection with `cleanupSome` (Node), allocating `gcEveryBytes` since the last collection
 * runs one, so a synchronous training loop that never yields still returns each step's
 * intermediates, and memory stays flat. When the device runs out of memory, the allocator
 * collects, then returns its cached blocks to the driver, then tries again before it throws.
 */
import { DeviceError } from '../../errors.js';

/** What the allocator needs from the driver (a fake in tests). */
export interface DeviceMemory {
  /** A device allocation of `bytes`, or null when the device is out of memory. */
  alloc(bytes: number): number | null;
  free(ptr: number): void;
}

/** What the host offers for reclaiming dead storages (all optional). */
export interface ReclaimPlatform {
  /** A forced full garbage collection. */
  gc?: () => void;
  /** A FinalizationRegistry constructor, preferably with `cleanupSome`. */
  FinalizationRegistry?: typeof FinalizationRegistry;
}

export interface AllocatorOptions {
  /** Force a collection after this many bytes were allocated since the last (default 1 GiB). */
  gcEveryBytes?: number;
}

/** Memory statistics (nd.cuda.memoryStats()). */
export interface CudaMemoryStats {
  /** Bytes in blocks held by live storages (size classes, so a little above what was asked). */
  allocatedBytes: number;
  /** The most `allocatedBytes` has been. */
  peakAllocatedBytes: number;
  /** Bytes in free blocks kept for reuse. */
  cachedBytes: number;
  /** allocatedBytes + cachedBytes: what this process holds from the driver. */
  reservedBytes: number;
  /** cuMemAlloc / cuMemFree calls so far. */
  deviceAllocs: number;
  deviceFrees: number;
  /** Allocations served from the cache. */
  cacheHits: number;
  /** Forced garbage collections run by the allocator. */
  collections: number;
  /** Live storages. */
  liveBlocks: number;
}

const MIN_BLOCK = 512;
const SMALL = 1 << 20;

/**
 * The size class of a request: multiples of 512 bytes up to 1 MiB, above that multiples of a
 * quarter of the power of two below the size (at most a fifth wasted). Every class is a multiple
 * of 512, so blocks (and the vector accesses of the kernels) stay aligned.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_BLOCK) return MIN_BLOCK;
  if (bytes <= SMALL) return Math.ceil(bytes / MIN_BLOCK) * MIN_BLOCK;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

/** A block: its device address and size class. */
export interface Block {
  readonly ptr: number;
  readonly cls: number;
}

type Held = Block;
interface CleanupRegistry extends FinalizationRegistry<Held> {
  cleanupSome?: () => void;
}

export class CachingAllocator {
  private readonly freeLists = new Map<number, number[]>();
  private readonly registry: CleanupRegistry | null;
  private readonly gc: (() => void) | undefined;
  private readonly gcEveryBytes: number;
  private sinceGC = 0;
  private allocations = 0;
  private readonly s: CudaMemoryStats = {
    allocatedBytes: 0, peakAllocatedBytes: 0, cachedBytes: 0, reservedBytes: 0,
    deviceAllocs: 0, deviceFrees: 0, cacheHits: 0, collections: 0, liveBlocks: 0,
  };

  constructor(private readonly mem: DeviceMemory, platform: ReclaimPlatform = {}, opts: AllocatorOptions = {}) {
    const FR = platform.FinalizationRegistry ?? (typeof FinalizationRegistry !== 'undefined' ? FinalizationRegistry : undefined);
    this.registry = FR ? (new FR<Held>((held) => this.release(held)) as CleanupRegistry) : null;
    this.gc = platform.gc && this.registry?.cleanupSome ? platform.gc : undefined;
    this.gcEveryBytes = opts.gcEveryBytes ?? 2 ** 30;
  }

  /** Whether dead storages are reclaimed synchronously (forced GC + cleanupSome). */
  get syncReclaim(): boolean {
    return this.gc !== undefined;
  }

  /** Runs a collection and frees the blocks of dead storages now (where supported). */
  collect(): void {
    this.sinceGC = 0;
    if (!this.gc) return;
    this.gc();
    this.registry!.cleanupSome!();
    this.s.collections++;
  }

  /** A block of at least `bytes` bytes (contents undefined). Throws a DeviceError when the device is full. */
  allocate(bytes: number): Block {
    const cls = sizeClass(bytes);
    this.sinceGC += cls;
    if (this.gc && this.sinceGC > Math.max(this.gcEveryBytes, this.s.allocatedBytes)) this.collect();
    else if ((++this.allocations & 255) === 0) this.registry?.cleanupSome?.();
    let ptr = this.take(cls);
    if (ptr === null) {
      ptr = this.mem.alloc(cls);
      if (ptr === null) {
        // out of memory: reclaim the dead, then give the cache back to the driver
        this.collect();
        ptr = this.take(cls);
        if (ptr === null) {
          this.emptyCache();
          ptr = this.mem.alloc(cls);
        }
        if (ptr === null) {
          throw new DeviceError(
            `cuda: expected an allocation that fits in device memory, got a request for ${cls} bytes with ${this.s.allocatedBytes} bytes in live tensors (dispose tensors with nd.cuda.dispose or use a smaller batch)`,
          );
        }
      }
      this.s.deviceAllocs++;
      this.s.reservedBytes += cls;
    } else {
      this.s.cacheHits++;
    }
    this.s.allocatedBytes += cls;
    this.s.liveBlocks++;
    if (this.s.allocatedBytes > this.s.peakAllocatedBytes) this.s.peakAllocatedBytes = this.s.allocatedBytes;
    return { ptr, cls };
  }

  private take(cls: number): number | null {
    const list = this.freeLists.get(cls);
    const p = list?.pop();
    if (p === undefined) return null;
    this.s.cachedBytes -= cls;
    return p;
  }

  /** Returns a block to the cache. */
  release(b: Block): void {
    this.s.allocatedBytes -= b.cls;
    this.s.liveBlocks--;
    this.s.cachedBytes += b.cls;
    let list = this.freeLists.get(b.cls);
    if (!list) this.freeLists.set(b.cls, (list = []));
    list.push(b.ptr);
  }

  /** Ties `block` to `owner`: when the owner is garbage collected the block is released. */
  track(owner: object, block: Block): void {
    this.registry?.register(owner, block, owner);
  }

  /** Releases `owner`'s block now; false when it was already released. */
  dispose(owner: object, block: Block): boolean {
    if (this.registry) {
      if (!this.registry.unregister(owner)) return false;
    }
    this.release(block);
    // explicitly freed memory needs no collection to come back
    this.sinceGC = Math.max(0, this.sinceGC - block.cls);
    return true;
  }

  /** Returns every cached block to the driver (cuMemFree). */
  emptyCache(): void {
    for (const [cls, list] of this.freeLists) {
      for (const p of list) {
        this.mem.free(p);
        this.s.deviceFrees++;
        this.s.reservedBytes -= cls;
        this.s.cachedBytes -= cls;
      }
    }
    this.freeLists.clear();
  }

  stats(): CudaMemoryStats {
    return { ...this.s };
  }
}
