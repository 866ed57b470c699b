/**
 * The `cuda` backend: the whole Backend contract on an NVIDIA GPU. Storage is device memory from
 * the caching allocator; kernels are generated CUDA C (kernels.ts) compiled by NVRTC on first use;
 * float matmul is cuBLAS. Every operation is issued on one stream, so calls return as soon as the
 * work is queued and only reads (readSync, read, item, dataSync) wait for the device.
 *
 * Semantics are the cpu reference backend's (see kernels.ts for the arithmetic). The few cases
 * without a kernel (bool scatterAdd; fused members and col2im called with non-float dtypes;
 * reduceAxis with an output dtype the op layer never makes) run the reference kernel on a host
 * copy, so the backend is total; binaryStrided returns false where it has no kernel.
 */
import type {
  AdamStepOperands, AdamStepSpec, AxisSpec, Backend, BatchNormRunning, BatchNormSpec, BinaryOp, Dense, Im2colSpec, MatmulSpec, PhiloxSpec, ReduceOp, Storage, Strided, UnaryOp,
} from '../backend.js';
import { COMPARISON_OPS } from '../backend.js';
import { allocTyped, toTyped, type AnyTypedArray, type DType } from '../dtype.js';
import { cpuBackend, CpuStorage } from '../cpu/index.js';
import { cpuStrided } from '../cpu/strided.js';
import { DeviceError, internal, disposedError } from '../../errors.js';
import type { Block } from './allocator.js';
import { BLOCK, ITEMSIZE, MAX_DIMS, reduceAccDtype, vecWidth, type KernelSpec, type MathT } from './kernels.js';
import type { CudaRuntime } from './runtime.js';

export { CudaRuntime, type CudaRuntimeParts, type CudaDeviceInfo } from './runtime.js';
export type { CudaMemoryStats } from './allocator.js';

/** Storages of at most this many elements keep a whole fill or write on the host until a kernel needs them. */
export const HOST_PENDING_MAX = 64;

/**
 * Device memory of the cuda backend: `length` elements of `dtype` in one allocator block.
 *
 * Small storages filled or written whole (the op layer's scalar constants: `NDArray.full([], v)`,
 * then read back by `item()`) keep their contents on the host in `pending` until something needs
 * the device copy: reading them costs no launch and no synchronization. Every device access goes
 * through {@link ptr}, which uploads pending contents first (in stream order).
 */
export class CudaStorage implements Storage {
  readonly device = 'cuda';
  /** True once disposed: any further use throws. */
  disposed = false;
  /** The whole contents, when they are known on the host and not yet on the device. */
  pending: AnyTypedArray | null = null;
  constructor(
    readonly dtype: DType, readonly length: number, readonly block: Block,
    private readonly upload: (dst: number, src: AnyTypedArray) => void,
  ) {}

  /** The device address of element 0 (uploading pending host contents first). */
  get ptr(): number {
    if (this.disposed) {
      throw disposedError('cuda', this.length, this.dtype);
    }
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      this.upload(this.block.ptr, p);
    }
    return this.block.ptr;
  }
}

function cs(s: Storage): CudaStorage {
  if (!(s instanceof CudaStorage)) throw internal(`cuda kernels got storage of device ${s.device}`);
  return s;
}

/** The device address of a compact operand. */
function addr(d: Dense): number {
  const s = cs(d.storage);
  return s.ptr + d.offset * ITEMSIZE[s.dtype];
}

const INT_MAX = 2 ** 31 - 1;

/** Drops size-1 dims and merges dims that are contiguous with the next (same element order). */
export function coalesce(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const sh: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    sh.push(shape[i]!);
    st.push(strides[i]!);
  }
  if (sh.length === 0) return { shape: [1], strides: [1] };
  const outS = [sh[sh.length - 1]!];
  const outT = [st[st.length - 1]!];
  for (let i = sh.length - 2; i >= 0; i--) {
    if (st[i] === outT[0]! * outS[0]!) {
      outS[0] = outS[0]! * sh[i]!;
    } else {
      outS.unshift(sh[i]!);
      outT.unshift(st[i]!);
    }
  }
  return { shape: outS, strides: outT };
}

/**
 * {@link coalesce} of two views of one shape: drops size-1 dims and merges a dim into the next
 * where both views are contiguous across them.
 */
export function coalesce2(
  shape: readonly number[], sa: readonly number[], sb: readonly number[],
): { shape: number[]; sa: number[]; sb: number[] } {
  const sh: number[] = [], ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    if (sh.length > 0) {
      const j = sh.length - 1;
      if (ta[j] === sa[i]! * shape[i]! && tb[j] === sb[i]! * shape[i]!) {
        sh[j] = sh[j]! * shape[i]!;
        ta[j] = sa[i]!;
        tb[j] = sb[i]!;
        continue;
      }
    }
    sh.push(shape[i]!);
    ta.push(sa[i]!);
    tb.push(sb[i]!);
  }
  if (sh.length === 0) return { shape: [1], sa: [0], sb: [0] };
  return { shape: sh, sa: ta, sb: tb };
}

function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** A number converted as the typed array of `dtype` would store it (the reference's fill). */
function asDtype(dtype: DType, v: number): number {
  const a = allocTyped(dtype, 1);
  a[0] = v;
  return a[0]!;
}

/** Host data for `write`: the dtype's typed array (bool: nonzero is 1), copied only when needed. */
function hostTyped(dtype: DType, data: ArrayLike<number>): AnyTypedArray {
  const Ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array }[dtype];
  if (dtype !== 'bool' && data instanceof Ctor) return data as AnyTypedArray;
  return toTyped(dtype, data);
}

/** Creates the cuda backend on a runtime. */
export function createCudaBackend(rt: CudaRuntime): Backend {
  const upload = (dst: number, src: AnyTypedArray) => rt.driver.htod(dst, src, src.byteLength);
  const grid1 = (work: number): [number, number, number] => [Math.max(1, Math.min(Math.ceil(work / BLOCK), rt.maxBlocks)), 1, 1];
  const B1: [number, number, number] = [BLOCK, 1, 1];

  /** Launches an elementwise kernel: `ptrs` are the indexed arrays (inputs, then the output). */
  function ew(spec: KernelSpec, ptrs: readonly { p: number; d: DType }[], extra: readonly number[], n: number): void {
    if (n === 0) return;
    const V = vecWidth(ptrs.map((x) => x.d));
    const vec = n >= V && ptrs.every((x) => x.p % (V * ITEMSIZE[x.d]) === 0) ? 1 : 0;
    rt.launch(spec, grid1(vec ? Math.ceil(n / V) : n), B1, [...ptrs.map((x) => x.p), ...extra, n, vec]);
  }

  /**
   * Runs `fn` once per sub-array of at most MAX_DIMS dims of a strided layout (the host loops over
   * the leading dims of higher ranks), with each part's offset and its index in row-major order.
   */
  function strided(
    shape: readonly number[], strides: readonly number[], offset: number,
    fn: (shape: number[], strides: number[], offset: number, first: number) => void,
  ): void {
    const c = coalesce(shape, strides);
    if (c.shape.length <= MAX_DIMS) {
      fn(c.shape, c.strides, offset, 0);
      return;
    }
    const lead = c.shape.length - MAX_DIMS;
    const innerShape = c.shape.slice(lead);
    const innerStrides = c.strides.slice(lead);
    const inner = prod(innerShape);
    const idx = new Array<number>(lead).fill(0);
    const outer = prod(c.shape.slice(0, lead));
    for (let t = 0; t < outer; t++) {
      let off = offset;
      for (let i = 0; i < lead; i++) off += idx[i]! * c.strides[i]!;
      fn(innerShape, innerStrides, off, t * inner);
      for (let i = lead - 1; i >= 0; i--) {
        if (++idx[i]! < c.shape[i]!) break;
        idx[i] = 0;
      }
    }
  }

  const isContig = (shape: readonly number[], strides: readonly number[]) => shape.length === 1 && strides[0] === 1;
  const wideFor = (s: CudaStorage, n: number) => n > INT_MAX || s.length >= 2 ** 30;

  /** Runs the reference kernel on host copies of the storages involved, then writes `outputs` back. */
  function onHost(operands: readonly (Dense | null)[], outputs: readonly Dense[], run: (h: (d: Dense) => Dense) => void): void {
    const copies = new Map<Storage, CpuStorage>();
    for (const d of operands) {
      if (!d || copies.has(d.storage)) continue;
      const s = cs(d.storage);
      copies.set(s, new CpuStorage(s.dtype, backend.readSync(s, 0, s.length)));
    }
    run((d) => ({ storage: copies.get(d.storage)!, offset: d.offset }));
    const done = new Set<Storage>();
    for (const o of outputs) {
      if (done.has(o.storage)) continue;
      done.add(o.storage);
      // raw bytes: the reference may leave values a typed-array write would normalize (bool 2)
      const h = copies.get(o.storage)!.data;
      rt.driver.htod(cs(o.storage).ptr, h, h.byteLength);
    }
  }

  const temp = (dtype: DType, n: number): Block => rt.allocBlock(Math.max(1, n * ITEMSIZE[dtype]));

  function reduceRows(
    op: ReduceOp, a: DType, aPtr: number, out: DType, outPtr: number, outer: number, size: number, chunk: number, chunks: number,
    argIdx: number, argVals: number,
  ): void {
    const rows = outer * chunks;
    const rowLen = Math.min(size, chunk);
    const mode = rowLen <= 1024 ? 'warp' : 'block';
    const grid: [number, number, number] = mode === 'warp'
      ? [Math.max(1, Math.min(Math.ceil(rows / (BLOCK / 32)), rt.maxBlocks)), 1, 1]
      : [Math.max(1, Math.min(rows, rt.maxBlocks)), 1, 1];
    if (op === 'argmax' || op === 'argmin') {
      rt.launch({ kind: 'reduce', op, a, out: 'int32', mode }, grid, B1, [aPtr, argIdx, argVals, outPtr, outer, size, chunk, chunks]);
    } else {
      rt.launch({ kind: 'reduce', op, a, out, mode }, grid, B1, [aPtr, outPtr, outer, size, chunk, chunks]);
    }
  }

  const backend: Backend = {
    name: 'cuda',
    allocate(dtype, length) {
      const block = rt.allocator.allocate(Math.max(1, length * ITEMSIZE[dtype]));
      const s = new CudaStorage(dtype, length, block, upload);
      rt.allocator.track(s, block);
      return s;
    },
    free(s) {
      if (!(s instanceof CudaStorage) || s.disposed) return;
      s.disposed = true;
      s.pending = null;
      rt.allocator.dispose(s, s.block);
    },
    readSync(s, offset, length) {
      const c = cs(s);
      if (c.pending && !c.disposed) return c.pending.slice(offset, offset + length);
      const out = allocTyped(c.dtype, length);
      rt.driver.dtoh(out, c.ptr + offset * ITEMSIZE[c.dtype], length * ITEMSIZE[c.dtype]);
      return out;
    },
    async read(s, offset, length) {
      const c = cs(s);
      if (c.pending && !c.disposed) return c.pending.slice(offset, offset + length);
      const bytes = await rt.readAsync(c.ptr + offset * ITEMSIZE[c.dtype], length * ITEMSIZE[c.dtype]);
      const out = allocTyped(c.dtype, length);
      new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
      return out;
    },
    write(s, offset, data) {
      const c = cs(s);
      const h = hostTyped(c.dtype, data);
      if (offset === 0 && h.length === c.length && c.length <= HOST_PENDING_MAX && !c.disposed) {
        c.pending = h === data ? h.slice() : h;
        return;
      }
      rt.driver.htod(c.ptr + offset * ITEMSIZE[c.dtype], h, h.length * ITEMSIZE[c.dtype]);
    },
    fill(out, size, value) {
      const d = out.storage.dtype;
      const c = cs(out.storage);
      if (out.offset === 0 && size === c.length && c.length <= HOST_PENDING_MAX && !c.disposed) {
        const h = allocTyped(d, size);
        h.fill(asDtype(d, value));
        c.pending = h;
        return;
      }
      ew({ kind: 'fill', dtype: d, strided: false }, [{ p: addr(out), d }], [asDtype(d, value)], size);
    },
    compact(src: Strided, out: Dense) {
      const n = prod(src.shape);
      if (n === 0) return;
      const s = cs(src.storage);
      const isz = ITEMSIZE[s.dtype];
      const o = addr(out);
      strided(src.shape, src.strides, src.offset, (shape, strides, off, first) => {
        const m = prod(shape);
        if (isContig(shape, strides)) {
          rt.driver.dtodAsync(o + first * isz, s.ptr + off * isz, m * isz, rt.stream);
          return;
        }
        const wide = wideFor(s, m);
        rt.launch({ kind: 'compact', dtype: s.dtype, wide }, grid1(m), B1, [s.ptr, o + first * isz, { shape, strides }, off, m]);
      });
    },
    setitem(dst: Strided, src: Dense) {
      const n = prod(dst.shape);
      if (n === 0) return;
      const s = cs(dst.storage);
      const isz = ITEMSIZE[s.dtype];
      const from = addr(src);
      strided(dst.shape, dst.strides, dst.offset, (shape, strides, off, first) => {
        const m = prod(shape);
        if (isContig(shape, strides)) {
          rt.driver.dtodAsync(s.ptr + off * isz, from + first * isz, m * isz, rt.stream);
          return;
        }
        rt.launch({ kind: 'setitem', dtype: s.dtype, wide: wideFor(s, m) }, grid1(m), B1, [s.ptr, from + first * isz, { shape, strides }, off, m]);
      });
    },
    setitemScalar(dst: Strided, value: number) {
      const n = prod(dst.shape);
      if (n === 0) return;
      const s = cs(dst.storage);
      const v = asDtype(s.dtype, value);
      strided(dst.shape, dst.strides, dst.offset, (shape, strides, off) => {
        const m = prod(shape);
        if (isContig(shape, strides)) {
          ew({ kind: 'fill', dtype: s.dtype, strided: false }, [{ p: s.ptr + off * ITEMSIZE[s.dtype], d: s.dtype }], [v], m);
          return;
        }
        rt.launch({ kind: 'fill', dtype: s.dtype, strided: true, wide: wideFor(s, m) }, grid1(m), B1, [s.ptr, { shape, strides }, off, v, m]);
      });
    },
    cast(src, out, size) {
      const a = src.storage.dtype;
      const o = out.storage.dtype;
      if (size === 0) return;
      if (a === o) {
        rt.driver.dtodAsync(addr(out), addr(src), size * ITEMSIZE[a], rt.stream);
        return;
      }
      ew({ kind: 'cast', a, out: o }, [{ p: addr(src), d: a }, { p: addr(out), d: o }], [], size);
    },
    unary(op: UnaryOp, a, out, size) {
      const ad = a.storage.dtype;
      const od = out.storage.dtype;
      ew({ kind: 'unary', op, a: ad, out: od }, [{ p: addr(a), d: ad }, { p: addr(out), d: od }], [], size);
    },
    binary(op: BinaryOp, a, b, out, size) {
      const ad = a.storage.dtype, bd = b.storage.dtype, od = out.storage.dtype;
      ew({ kind: 'binary', op, a: ad, b: bd, out: od }, [{ p: addr(a), d: ad }, { p: addr(b), d: bd }, { p: addr(out), d: od }], [], size);
    },
    binaryStrided(op: BinaryOp, a: Strided, b: Strided, out: Dense, size: number): boolean {
      const ad = a.storage.dtype;
      if (b.storage.dtype !== ad || out.storage.dtype !== (COMPARISON_OPS.has(op) ? 'bool' : ad)) return false;
      if (size <= 0) return true;
      const sa = cs(a.storage), sb = cs(b.storage);
      // 32-bit positions only (the caller's compact copies handle larger arrays)
      if (wideFor(sa, size) || wideFor(sb, size)) return false;
      const c = coalesce2(a.shape, a.strides, b.strides);
      if (c.shape.length > MAX_DIMS) return false;
      rt.launch({ kind: 'binaryStrided', op, a: ad, out: out.storage.dtype }, grid1(size), B1,
        [sa.ptr, sb.ptr, addr(out), { shape: c.shape, strides: c.sa }, a.offset, { shape: c.shape, strides: c.sb }, b.offset, size]);
      return true;
    },
    binaryScalar(op, a, s, out, size, reversed) {
      const ad = a.storage.dtype, od = out.storage.dtype;
      // float32 with a scalar float32 can hold computes in float (exactly the reference's
      // double-then-round for + - * /); any other scalar in double, like the reference
      const math: MathT = ad === 'float32' && (Math.fround(s) === s || Number.isNaN(s)) ? 'float' : 'double';
      ew({ kind: 'scalar', op, a: ad, out: od, math }, [{ p: addr(a), d: ad }, { p: addr(out), d: od }], [s, reversed ? 1 : 0], size);
    },
    where(cond, a, b, out, size) {
      const ad = a.storage.dtype, bd = b.storage.dtype, od = out.storage.dtype;
      ew({ kind: 'where', a: ad, b: bd, out: od },
        [{ p: addr(cond), d: 'bool' }, { p: addr(a), d: ad }, { p: addr(b), d: bd }, { p: addr(out), d: od }], [], size);
    },
    reduce(op: ReduceOp, a, out, outer, size) {
      if (outer === 0) return;
      const ad = a.storage.dtype, od = out.storage.dtype;
      const isArg = op === 'argmax' || op === 'argmin';
      // few long rows: split each row into chunks reduced in parallel, then reduce the partials
      const split = size >= 1 << 15 && outer < rt.sms * 2;
      if (!split) {
        reduceRows(op, ad, addr(a), od, addr(out), outer, size, size, 1, 0, 0);
        return;
      }
      let chunks = Math.max(2, Math.min(Math.ceil(size / 4096), Math.floor((rt.sms * 8) / outer)));
      const chunk = Math.ceil(size / chunks);
      chunks = Math.ceil(size / chunk);
      const parts = outer * chunks;
      if (isArg) {
        const vals = temp(ad, parts);
        const idx = temp('int32', parts);
        reduceRows(op, ad, addr(a), 'int32', idx.ptr, outer, size, chunk, chunks, 0, vals.ptr);
        reduceRows(op, ad, vals.ptr, 'int32', addr(out), outer, chunks, chunks, 1, idx.ptr, 0);
        rt.releaseBlock(vals);
        rt.releaseBlock(idx);
      } else {
        const acc = reduceAccDtype(op, ad);
        const tmp = temp(acc, parts);
        reduceRows(op, ad, addr(a), acc, tmp.ptr, outer, size, chunk, chunks, 0, 0);
        reduceRows(op, acc, tmp.ptr, od, addr(out), outer, chunks, chunks, 1, 0, 0);
        rt.releaseBlock(tmp);
      }
    },
    reduceAxis(op: ReduceOp, a, out, outer, size, inner) {
      const total = outer * inner;
      if (total === 0) return;
      const ad = a.storage.dtype, od = out.storage.dtype;
      const isArg = op === 'argmax' || op === 'argmin';
      if (od !== (isArg ? 'int32' : ad)) {
        onHost([a, out], [out], (h) => cpuStrided.reduceAxis(op, h(a), h(out), outer, size, inner));
        return;
      }
      if (size <= 0) {
        backend.fill(out, total, op === 'prod' ? 1 : 0);
        return;
      }
      // few long columns: split each into chunks reduced in parallel, then reduce the partials in
      // order (short columns stay one launch: the step is host-bound, launches cost more than loads)
      const want = rt.sms * 4 * BLOCK;
      let chunks = total < want && size >= 1024 ? Math.min(Math.ceil(size / 256), Math.ceil(want / total)) : 1;
      const chunk = Math.ceil(size / chunks);
      chunks = Math.ceil(size / chunk);
      const launch = (spec: KernelSpec, args: number[], rows: number, len: number, ch: number, chs: number) =>
        rt.launch(spec, grid1(rows * chs * inner), B1, [...args, rows, len, inner, ch, chs]);
      if (chunks === 1) {
        launch({ kind: 'reduceAxis', op, a: ad, out: od }, isArg ? [addr(a), 0, 0, addr(out)] : [addr(a), addr(out)], outer, size, size, 1);
        return;
      }
      const parts = outer * chunks * inner;
      if (isArg) {
        const vals = temp(ad, parts);
        const idx = temp('int32', parts);
        const spec: KernelSpec = { kind: 'reduceAxis', op, a: ad, out: 'int32' };
        launch(spec, [addr(a), 0, vals.ptr, idx.ptr], outer, size, chunk, chunks);
        launch(spec, [vals.ptr, idx.ptr, 0, addr(out)], outer, chunks, chunks, 1);
        rt.releaseBlock(vals);
        rt.releaseBlock(idx);
        return;
      }
      const acc: DType = op === 'sum' || op === 'prod' ? 'float64' : ad;
      const tmp = temp(acc, parts);
      launch({ kind: 'reduceAxis', op, a: ad, out: acc }, [addr(a), tmp.ptr], outer, size, chunk, chunks);
      launch({ kind: 'reduceAxis', op, a: acc, out: od }, [tmp.ptr, addr(out)], outer, chunks, chunks, 1);
      rt.releaseBlock(tmp);
    },
    matmul(a: Dense, b: Dense, out: Dense, s: MatmulSpec) {
      const d = out.storage.dtype;
      const { m, n, k, batch } = s;
      if (m === 0 || n === 0 || batch === 0) return;
      if (k === 0) {
        backend.fill(out, batch * m * n, 0);
        return;
      }
      if (rt.cublas && (d === 'float32' || d === 'float64') && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX) {
        rt.cublas.gemm(d, addr(a), addr(b), addr(out), m, n, k, s.transA, s.transB, s.strideA, s.strideB, batch);
        return;
      }
      const grid: [number, number, number] = [Math.ceil(n / 16), Math.ceil(m / 16), Math.min(batch, 65535)];
      if (grid[0] > 2 ** 31 - 1 || grid[1] > 65535) throw new DeviceError(`cuda: matmul of ${m}x${k} @ ${k}x${n} exceeds the built-in kernel's grid (install cuBLAS)`);
      rt.launch({ kind: 'matmul', dtype: d }, grid, [16, 16, 1],
        [addr(a), addr(b), addr(out), m, n, k, s.transA ? 1 : 0, s.transB ? 1 : 0, s.strideA, s.strideB, batch]);
    },
    gather(src, index, out, sp: AxisSpec) {
      const total = sp.outer * sp.idxDim * sp.inner;
      if (total === 0) return;
      const s = cs(src.storage);
      const wide = total > INT_MAX || s.length > INT_MAX;
      rt.launch({ kind: 'gather', dtype: s.dtype, wide }, grid1(total), B1,
        [addr(src), addr(index), addr(out), total, sp.inner, sp.dim, sp.idxDim]);
    },
    scatterAdd(out, index, src, sp: AxisSpec) {
      const total = sp.outer * sp.idxDim * sp.inner;
      if (total === 0) return;
      const o = cs(out.storage);
      if (o.dtype === 'bool') {
        onHost([out, index, src], [out], (h) => cpuBackend.scatterAdd(h(out), h(index), h(src), sp));
        return;
      }
      const wide = total > INT_MAX || o.length > INT_MAX;
      rt.launch({ kind: 'scatterAdd', dtype: o.dtype, wide }, grid1(total), B1,
        [addr(out), addr(index), addr(src), total, sp.inner, sp.dim, sp.idxDim]);
    },

    // ---------------------------------------------------------------- fused fast paths
    softmax(a, out, outer, size, log) {
      const d = a.storage.dtype;
      if (outer === 0 || size === 0) return;
      if (d !== 'float32' && d !== 'float64') {
        onHost([a, out], [out], (h) => cpuBackend.softmax!(h(a), h(out), outer, size, log));
        return;
      }
      const mode = size <= 1024 ? 'warp' : 'block';
      rt.launch({ kind: 'softmax', dtype: d, mode }, rowGrid(outer, mode), B1, [addr(a), addr(out), outer, size, log ? 1 : 0]);
    },
    softmaxBackward(y, g, out, outer, size, log) {
      const d = y.storage.dtype;
      if (outer === 0 || size === 0) return;
      if (d !== 'float32' && d !== 'float64') {
        onHost([y, g, out], [out], (h) => cpuBackend.softmaxBackward!(h(y), h(g), h(out), outer, size, log));
        return;
      }
      const mode = size <= 1024 ? 'warp' : 'block';
      rt.launch({ kind: 'softmaxBackward', dtype: d, mode }, rowGrid(outer, mode), B1, [addr(y), addr(g), addr(out), outer, size, log ? 1 : 0]);
    },
    layerNorm(x, weight, bias, out, mean, rstd, outer, size, eps) {
      const d = x.storage.dtype;
      if (outer === 0) return;
      if ((d !== 'float32' && d !== 'float64') || size === 0) {
        onHost([x, weight, bias, out, mean, rstd], [out, mean, rstd],
          (h) => cpuBackend.layerNorm!(h(x), weight && h(weight), bias && h(bias), h(out), h(mean), h(rstd), outer, size, eps));
        return;
      }
      const mode = size <= 1024 ? 'warp' : 'block';
      rt.launch({ kind: 'layerNorm', dtype: d, mode }, rowGrid(outer, mode), B1,
        [addr(x), weight ? addr(weight) : 0, bias ? addr(bias) : 0, addr(out), addr(mean), addr(rstd), outer, size, eps]);
    },
    layerNormBackward(g, x, weight, mean, rstd, gx, gw, gb, outer, size) {
      const d = x.storage.dtype;
      if (size === 0) return;
      if (d !== 'float32' && d !== 'float64') {
        const outs = [gx, gw, gb].filter((v): v is Dense => v !== null);
        onHost([g, x, weight, mean, rstd, gx, gw, gb], outs,
          (h) => cpuBackend.layerNormBackward!(h(g), h(x), weight && h(weight), h(mean), h(rstd), gx && h(gx), gw && h(gw), gb && h(gb), outer, size));
        return;
      }
      if (gx && outer > 0) {
        const mode = size <= 1024 ? 'warp' : 'block';
        rt.launch({ kind: 'layerNormBackward', dtype: d, mode }, rowGrid(outer, mode), B1,
          [addr(g), addr(x), weight ? addr(weight) : 0, addr(mean), addr(rstd), addr(gx), outer, size]);
      }
      if (gw || gb) {
        if (outer === 0) {
          if (gw) backend.fill(gw, size, 0);
          if (gb) backend.fill(gb, size, 0);
          return;
        }
        rt.launch({ kind: 'layerNormParamGrad', dtype: d }, [Math.max(1, Math.min(Math.ceil(size / 32), rt.maxBlocks)), 1, 1], [32, 8, 1],
          [addr(g), addr(x), addr(mean), addr(rstd), gw ? addr(gw) : 0, gb ? addr(gb) : 0, outer, size]);
      }
    },
    batchNorm(x, weight, bias, out, mean, variance, rstd, sp: BatchNormSpec, running: BatchNormRunning | null) {
      const d = x.storage.dtype;
      if (sp.c === 0) return;
      if (d !== 'float32' && d !== 'float64') {
        const ins = [x, weight, bias, out, mean, variance, rstd, running?.mean ?? null, running?.var ?? null, running?.meanOut ?? null, running?.varOut ?? null];
        const outs = [out, mean, variance, rstd, ...(running ? [running.meanOut, running.varOut] : [])];
        onHost(ins, outs, (h) => cpuBackend.batchNorm!(h(x), weight && h(weight), bias && h(bias), h(out), h(mean), h(variance), h(rstd), sp,
          running && { ...running, mean: h(running.mean), var: h(running.var), meanOut: h(running.meanOut), varOut: h(running.varOut) }));
        return;
      }
      // the scalars exactly as the reference rounds them (cpu/fused.ts)
      const f = d === 'float32' ? Math.fround : (v: number) => v;
      const p = (v: Dense | null | undefined) => (v ? addr(v) : 0);
      rt.launch({ kind: 'batchNorm', dtype: d }, channelGrid(sp.c), B1, [
        addr(x), p(weight), p(bias), addr(out), addr(mean), addr(variance), addr(rstd),
        p(running?.mean), p(running?.var), p(running?.meanOut), p(running?.varOut), sp.n, sp.c, sp.inner,
        f(sp.eps), f(sp.n * sp.inner), f(running?.keep ?? 0), f(running?.momentum ?? 0), f(running?.unbias ?? 0),
      ]);
    },
    batchNormBackward(g, x, weight, mean, rstd, gx, gw, gb, sp: BatchNormSpec) {
      const d = x.storage.dtype;
      if (sp.c === 0 || (!gx && !gw && !gb)) return;
      if (d !== 'float32' && d !== 'float64') {
        const outs = [gx, gw, gb].filter((v): v is Dense => v !== null);
        onHost([g, x, weight, mean, rstd, gx, gw, gb], outs,
          (h) => cpuBackend.batchNormBackward!(h(g), h(x), weight && h(weight), h(mean), h(rstd), gx && h(gx), gw && h(gw), gb && h(gb), sp));
        return;
      }
      const p = (v: Dense | null) => (v ? addr(v) : 0);
      rt.launch({ kind: 'batchNormBackward', dtype: d }, channelGrid(sp.c), B1,
        [addr(g), addr(x), p(weight), addr(mean), addr(rstd), p(gx), p(gw), p(gb), sp.n, sp.c, sp.inner]);
    },
    im2col(img: Dense, out: Dense, sp: Im2colSpec) {
      const total = sp.planes * sp.kh * sp.kw * sp.oh * sp.ow;
      if (total === 0) return;
      const g = windowArgs(sp);
      if (!g) {
        onHost([img, out], [out], (h) => cpuBackend.im2col!(h(img), h(out), sp));
        return;
      }
      rt.launch({ kind: 'im2col', dtype: img.storage.dtype }, grid1(total), B1, [addr(img), addr(out), total, ...g]);
    },
    col2im(cols: Dense, out: Dense, sp: Im2colSpec) {
      const d = out.storage.dtype;
      const total = sp.planes * sp.h * sp.w;
      if (total === 0) return;
      const g = windowArgs(sp);
      if ((d !== 'float32' && d !== 'float64') || !g) {
        onHost([cols, out], [out], (h) => cpuBackend.col2im!(h(cols), h(out), sp));
        return;
      }
      rt.launch({ kind: 'col2im', dtype: d }, grid1(total), B1, [addr(cols), addr(out), total, ...g]);
    },
    adamStep(ops: AdamStepOperands, size: number, sp: AdamStepSpec) {
      const d = ops.param.storage.dtype;
      if (size === 0) return;
      if (d !== 'float32' && d !== 'float64') {
        const all = [ops.param, ops.grad, ops.expAvg, ops.expAvgSq, ops.paramOut, ops.expAvgOut, ops.expAvgSqOut];
        onHost(all, [ops.paramOut, ops.expAvgOut, ops.expAvgSqOut], (h) => cpuBackend.adamStep!({
          param: h(ops.param), grad: h(ops.grad), expAvg: h(ops.expAvg), expAvgSq: h(ops.expAvgSq),
          paramOut: h(ops.paramOut), expAvgOut: h(ops.expAvgOut), expAvgSqOut: h(ops.expAvgSqOut),
        }, size, sp));
        return;
      }
      // the scalars exactly as the reference rounds them (cpu/fused.ts)
      const f = d === 'float32' ? Math.fround : (v: number) => v;
      const args = [
        f(sp.beta1), f(sp.beta2), f(1 - sp.beta1), f(1 - sp.beta2),
        sp.decoupled ? f(1 - sp.lr * sp.weightDecay) : 1,
        sp.decoupled ? 0 : f(sp.weightDecay),
        f(-sp.lr / (1 - sp.beta1 ** sp.step)),
        f(Math.sqrt(1 - sp.beta2 ** sp.step)),
        f(sp.eps),
        sp.maximize ? -1 : 1,
      ];
      rt.launch({ kind: 'adam', dtype: d }, grid1(size), B1, [
        addr(ops.param), addr(ops.grad), addr(ops.expAvg), addr(ops.expAvgSq),
        addr(ops.paramOut), addr(ops.expAvgOut), addr(ops.expAvgSqOut), size, ...args,
      ]);
    },
    philoxBernoulli(out: Dense, size: number, sp: PhiloxSpec, p: number, value: number) {
      if (size <= 0) return;
      const d = out.storage.dtype;
      // one thread per Philox block of 4 words (2 draws)
      const blocks = Math.floor((sp.phase + 2 * size - 2) / 4) + 1;
      rt.launch({ kind: 'philoxBernoulli', dtype: d }, grid1(blocks), B1,
        [addr(out), size, sp.key0 | 0, sp.key1 | 0, sp.counter, sp.phase, p, asDtype(d, value)]);
    },
  };

  /** The geometry arguments of the window kernels, in their parameter order; null past their 32-bit arithmetic. */
  function windowArgs(sp: Im2colSpec): number[] | null {
    const g = [sp.planes, sp.h, sp.w, sp.oh, sp.ow, sp.kh, sp.kw, sp.sh, sp.sw, sp.dh, sp.dw, sp.ph, sp.pw];
    const span = Math.max(sp.h + sp.ph, (sp.oh - 1) * sp.sh + (sp.kh - 1) * sp.dh, sp.w + sp.pw, (sp.ow - 1) * sp.sw + (sp.kw - 1) * sp.dw);
    return g.every((v) => v <= INT_MAX) && span <= INT_MAX ? g : null;
  }

  /** One block per channel. */
  function channelGrid(c: number): [number, number, number] {
    return [Math.max(1, Math.min(c, rt.maxBlocks)), 1, 1];
  }

  function rowGrid(outer: number, mode: 'warp' | 'block'): [number, number, number] {
    const blocks = mode === 'warp' ? Math.ceil(outer / (BLOCK / 32)) : outer;
    return [Math.max(1, Math.min(blocks, rt.maxBlocks)), 1, 1];
  }

  return backend;
}
