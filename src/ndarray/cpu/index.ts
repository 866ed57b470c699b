/**
 * The `cpu` reference backend: plain TypeScript over typed arrays. It defines the semantics every
 * other backend is tested against and runs anywhere (no Node-only imports).
 */
import { allocTyped, type AnyTypedArray, type DType } from '../dtype.js';
import type { AxisSpec, Backend, BinaryOp, Dense, MatmulSpec, ReduceOp, Storage, Strided } from '../backend.js';
import { disposedError, internal } from '../../errors.js';
import { BINARY, UNARY } from './elementwise.js';
import { gemm } from './matmul.js';
import {
  addScalarF32, divScalarF32, mulScalarF32, rdivScalarF32, rsubScalarF32, subScalarF32, sumRowsF32,
} from './fast_f32.js';
import { cpuFused } from './fused.js';
import { cpuStrided } from './strided.js';
import { cpuWindows } from './conv.js';

type ScalarLoopF32 = (a: Float32Array, ao: number, s: number, o: Float32Array, oo: number, n: number) => void;
/** float32 fast paths of binaryScalar: [op(a, s), op(s, a)]. */
const SCALAR_F32: Partial<Record<BinaryOp, readonly [ScalarLoopF32, ScalarLoopF32]>> = {
  add: [addScalarF32, addScalarF32],
  sub: [subScalarF32, rsubScalarF32],
  mul: [mulScalarF32, mulScalarF32],
  div: [divScalarF32, rdivScalarF32],
};

/**
 * Storage whose elements a host typed array holds: the cpu backend's own, and the wasm backend's
 * (views on WebAssembly memory), so the reference kernels below run on either.
 */
export interface HostStorage extends Storage {
  readonly data: AnyTypedArray;
}

/** CPU storage: a typed array. */
export class CpuStorage implements HostStorage {
  readonly device = 'cpu';
  readonly length: number;
  private buf: AnyTypedArray | null;
  constructor(readonly dtype: DType, data: AnyTypedArray) {
    this.buf = data;
    this.length = data.length;
  }
  /** The elements; throws once the storage was freed (Backend.free). */
  get data(): AnyTypedArray {
    if (this.buf === null) throw disposedError('cpu', this.length, this.dtype);
    return this.buf;
  }
  /** Drops the elements (a later use throws). */
  release(): void {
    this.buf = null;
  }
}

function arr(s: Storage): AnyTypedArray {
  const data = (s as Partial<HostStorage>).data;
  if (data === undefined) throw internal(`cpu kernels got storage of device ${s.device} without host data`);
  return data;
}

/**
 * Visits a strided layout in row-major order, calling `inner(pos, stride, len)` once per
 * innermost row with the storage position of its first element.
 */
function forEachRow(
  shape: readonly number[], strides: readonly number[], offset: number,
  inner: (pos: number, stride: number, len: number, rowIndex: number) => void,
): void {
  const nd = shape.length;
  if (nd === 0) {
    inner(offset, 0, 1, 0);
    return;
  }
  for (const d of shape) if (d === 0) return;
  const len = shape[nd - 1]!;
  const st = strides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let pos = offset;
  let row = 0;
  for (;;) {
    inner(pos, st, len, row++);
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      pos += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      pos -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}



const REDUCE: { [K in ReduceOp]: (a: AnyTypedArray, ao: number, o: AnyTypedArray, outer: number, size: number) => void } = {
  sum: (a, ao, o, outer, size) => {
    if (a instanceof Float32Array && (o instanceof Float32Array || o instanceof Float64Array)) {
      sumRowsF32(a, ao, o, outer, size);
      return;
    }
    for (let r = 0; r < outer; r++) {
      let s = 0;
      const base = ao + r * size;
      for (let i = 0; i < size; i++) s += a[base + i]!;
      o[r] = s;
    }
  },
  prod: (a, ao, o, outer, size) => {
    for (let r = 0; r < outer; r++) {
      let s = 1;
      const base = ao + r * size;
      for (let i = 0; i < size; i++) s *= a[base + i]!;
      o[r] = s;
    }
  },
  max: (a, ao, o, outer, size) => {
    for (let r = 0; r < outer; r++) {
      const base = ao + r * size;
      let m = a[base]!;
      for (let i = 1; i < size; i++) { const v = a[base + i]!; if (v > m || v !== v) m = v; if (m !== m) break; }
      o[r] = m;
    }
  },
  min: (a, ao, o, outer, size) => {
    for (let r = 0; r < outer; r++) {
      const base = ao + r * size;
      let m = a[base]!;
      for (let i = 1; i < size; i++) { const v = a[base + i]!; if (v < m || v !== v) m = v; if (m !== m) break; }
      o[r] = m;
    }
  },
  argmax: (a, ao, o, outer, size) => {
    for (let r = 0; r < outer; r++) {
      const base = ao + r * size;
      let m = a[base]!;
      let best = 0;
      if (m === m) {
        for (let i = 1; i < size; i++) {
          const v = a[base + i]!;
          if (v !== v) { best = i; break; }
          if (v > m) { m = v; best = i; }
        }
      }
      o[r] = best;
    }
  },
  argmin: (a, ao, o, outer, size) => {
    for (let r = 0; r < outer; r++) {
      const base = ao + r * size;
      let m = a[base]!;
      let best = 0;
      if (m === m) {
        for (let i = 1; i < size; i++) {
          const v = a[base + i]!;
          if (v !== v) { best = i; break; }
          if (v < m) { m = v; best = i; }
        }
      }
      o[r] = best;
    }
  },
};

/** The CPU backend instance. */
export const cpuBackend: Backend = {
  name: 'cpu',
  allocate(dtype, length) {
    return new CpuStorage(dtype, allocTyped(dtype, length));
  },
  free(s) {
    // the memory is the garbage collector's; what freeing adds is that a later use throws
    if (s instanceof CpuStorage) s.release();
  },
  readSync(s, offset, length) {
    return arr(s).slice(offset, offset + length);
  },
  read(s, offset, length) {
    return Promise.resolve(arr(s).slice(offset, offset + length));
  },
  write(s, offset, data) {
    const a = arr(s);
    if (s.dtype === 'bool') for (let i = 0; i < data.length; i++) a[offset + i] = Number(data[i]) !== 0 ? 1 : 0;
    else a.set(data, offset);
  },
  fill(out, size, value) {
    arr(out.storage).fill(value, out.offset, out.offset + size);
  },
  compact(src: Strided, out: Dense) {
    const a = arr(src.storage);
    const o = arr(out.storage);
    let w = out.offset;
    forEachRow(src.shape, src.strides, src.offset, (pos, st, len) => {
      if (st === 1) {
        for (let i = 0; i < len; i++) o[w++] = a[pos + i]!;
      } else {
        for (let i = 0; i < len; i++, pos += st) o[w++] = a[pos]!;
      }
    });
  },
  setitem(dst: Strided, src: Dense) {
    const o = arr(dst.storage);
    const a = arr(src.storage);
    let r = src.offset;
    forEachRow(dst.shape, dst.strides, dst.offset, (pos, st, len) => {
      for (let i = 0; i < len; i++, pos += st) o[pos] = a[r++]!;
    });
  },
  setitemScalar(dst: Strided, value: number) {
    const o = arr(dst.storage);
    forEachRow(dst.shape, dst.strides, dst.offset, (pos, st, len) => {
      for (let i = 0; i < len; i++, pos += st) o[pos] = value;
    });
  },
  cast(src, out, size) {
    const a = arr(src.storage);
    const o = arr(out.storage);
    const ao = src.offset;
    const oo = out.offset;
    if (out.storage.dtype === 'bool') {
      for (let i = 0; i < size; i++) o[oo + i] = a[ao + i] !== 0 ? 1 : 0; // NaN is nonzero: true
    } else if (out.storage.dtype === 'int32') {
      for (let i = 0; i < size; i++) o[oo + i] = Math.trunc(a[ao + i]!);
    } else {
      for (let i = 0; i < size; i++) o[oo + i] = a[ao + i]!;
    }
  },
  unary(op, a, out, size) {
    UNARY[op](arr(a.storage), a.offset, arr(out.storage), out.offset, size);
  },
  binary(op, a, b, out, size) {
    BINARY[op](arr(a.storage), a.offset, 1, arr(b.storage), b.offset, 1, arr(out.storage), out.offset, size);
  },
  binaryScalar(op, a, s, out, size, reversed) {
    const A = arr(a.storage);
    const O = arr(out.storage);
    const fast = SCALAR_F32[op];
    if (fast && A instanceof Float32Array && O instanceof Float32Array) {
      fast[reversed ? 1 : 0](A, a.offset, s, O, out.offset, size);
      return;
    }
    const sc = new Float64Array(1);
    sc[0] = s;
    if (reversed) BINARY[op](sc, 0, 0, arr(a.storage), a.offset, 1, arr(out.storage), out.offset, size);
    else BINARY[op](arr(a.storage), a.offset, 1, sc, 0, 0, arr(out.storage), out.offset, size);

  },
  where(cond, a, b, out, size) {
    const c = arr(cond.storage);
    const x = arr(a.storage);
    const y = arr(b.storage);
    const o = arr(out.storage);
    const co = cond.offset, xo = a.offset, yo = b.offset, oo = out.offset;
    for (let i = 0; i < size; i++) o[oo + i] = c[co + i] ? x[xo + i]! : y[yo + i]!;
  },
  reduce(op, a, out, outer, size) {
    const o = arr(out.storage);
    if (out.offset !== 0) {
      const tmp = new Float64Array(outer);
      REDUCE[op](arr(a.storage), a.offset, tmp, outer, size);
      o.set(tmp, out.offset);
    } else {
      REDUCE[op](arr(a.storage), a.offset, o, outer, size);
    }
  },
  matmul(a: Dense, b: Dense, out: Dense, s: MatmulSpec) {
    const A = arr(a.storage);
    const B = arr(b.storage);
    const C = arr(out.storage);
    const [ars, acs] = s.transA ? [1, s.m] : [s.k, 1];
    const [brs, bcs] = s.transB ? [1, s.k] : [s.n, 1];
    for (let t = 0; t < s.batch; t++) {
      gemm(A, a.offset + t * s.strideA, ars, acs, B, b.offset + t * s.strideB, brs, bcs,
        C, out.offset + t * s.m * s.n, s.m, s.n, s.k);
    }
  },
  gather(src, index, out, sp: AxisSpec) {
    const a = arr(src.storage);
    const ix = arr(index.storage);
    const o = arr(out.storage);
    const { outer, inner, dim, idxDim } = sp;
    let w = out.offset;
    let r = index.offset;
    for (let q = 0; q < outer; q++) {
      const base = src.offset + q * dim * inner;
      for (let j = 0; j < idxDim; j++) {
        for (let i = 0; i < inner; i++) o[w++] = a[base + ix[r++]! * inner + i]!;
      }
    }
  },
  scatterAdd(out, index, src, sp: AxisSpec) {
    const o = arr(out.storage);
    const ix = arr(index.storage);
    const a = arr(src.storage);
    const { outer, inner, dim, idxDim } = sp;
    let rd = src.offset;
    let r = index.offset;
    for (let q = 0; q < outer; q++) {
      const base = out.offset + q * dim * inner;
      for (let j = 0; j < idxDim; j++) {
        for (let i = 0; i < inner; i++) o[base + ix[r++]! * inner + i] += a[rd++]!;
      }
    }
  },
  ...cpuFused,
  ...cpuStrided,
  ...cpuWindows,
};
