/**
 * Reference implementations of the optional strided members of the Backend contract:
 * binaryStrided (a binary op of broadcast or strided views, without compact copies) and
 * reduceAxis (a reduction over the middle axis of a compact (outer, size, inner) array, e.g. the
 * column sums of a bias gradient, without moving the axis last first). Plain TypeScript over host
 * typed arrays; they run on the cpu backend and wherever a faster backend has no kernel for a case.
 */
import type { Backend, BinaryOp, Dense, ReduceOp, Storage, Strided } from '../backend.js';
import type { AnyTypedArray } from '../dtype.js';
import { internal } from '../../errors.js';
import { BINARY } from './elementwise.js';

function arr(s: Storage): AnyTypedArray {
  const data = (s as { data?: AnyTypedArray }).data;
  if (data === undefined) throw internal(`cpu strided kernels got storage of device ${s.device} without host data`);
  return data;
}

/** out = op(a, b) over the output's shape; a and b are views of that shape. See Backend.binaryStrided. */
function binaryStrided(op: BinaryOp, a: Strided, b: Strided, out: Dense, size: number): boolean {
  if (size <= 0) return true;
  const A = arr(a.storage);
  const B = arr(b.storage);
  const O = arr(out.storage);
  const loop = BINARY[op];
  const shape = a.shape;
  const nd = shape.length;
  if (nd === 0) {
    loop(A, a.offset, 0, B, b.offset, 0, O, out.offset, 1);
    return true;
  }
  const len = shape[nd - 1]!;
  const sa = a.strides[nd - 1]!;
  const sb = b.strides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let pa = a.offset;
  let pb = b.offset;
  for (let w = out.offset; ; w += len) {
    loop(A, pa, sa, B, pb, sb, O, w, len);
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      pa += a.strides[d]!;
      pb += b.strides[d]!;
      if (idx[d]! < shape[d]!) break;
      pa -= a.strides[d]! * shape[d]!;
      pb -= b.strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return true;
  }
}

/** out[o, i] = op over r of a[o, r, i], sequentially in r (the reference order). */
function reduceAxis(op: ReduceOp, ad: Dense, od: Dense, outer: number, size: number, inner: number): void {
  const a = arr(ad.storage);
  const o = arr(od.storage);
  if (size <= 0) {
    for (let i = 0; i < outer * inner; i++) o[od.offset + i] = op === 'prod' ? 1 : 0;
    return;
  }
  const acc = new Float64Array(inner);
  const best = new Int32Array(inner);
  // sums and products start from their identities (0 + -0 is +0, as in the row reduction);
  // the others from the first element
  const first = op === 'sum' || op === 'prod' ? 0 : 1;
  for (let q = 0; q < outer; q++) {
    const base = ad.offset + q * size * inner;
    if (first) for (let i = 0; i < inner; i++) acc[i] = a[base + i]!;
    else acc.fill(op === 'prod' ? 1 : 0);
    best.fill(0);
    for (let r = first; r < size; r++) {
      const row = base + r * inner;
      switch (op) {
        case 'sum':
          for (let i = 0; i < inner; i++) acc[i] += a[row + i]!;
          break;
        case 'prod':
          for (let i = 0; i < inner; i++) acc[i] *= a[row + i]!;
          break;
        case 'max':
          for (let i = 0; i < inner; i++) {
            const v = a[row + i]!;
            const m = acc[i]!;
            if (m === m && (v > m || v !== v)) acc[i] = v;
          }
          break;
        case 'min':
          for (let i = 0; i < inner; i++) {
            const v = a[row + i]!;
            const m = acc[i]!;
            if (m === m && (v < m || v !== v)) acc[i] = v;
          }
          break;
        case 'argmax':
        case 'argmin':
          for (let i = 0; i < inner; i++) {
            const m = acc[i]!;
            if (m !== m) continue; // the first NaN wins
            const v = a[row + i]!;
            if (v !== v || (op === 'argmax' ? v > m : v < m)) {
              acc[i] = v;
              best[i] = r;
            }
          }
          break;
      }
    }
    const ob = od.offset + q * inner;
    if (op === 'argmax' || op === 'argmin') for (let i = 0; i < inner; i++) o[ob + i] = best[i]!;
    else for (let i = 0; i < inner; i++) o[ob + i] = acc[i]!;
  }
}

/** The strided members of the cpu backend. */
export const cpuStrided: Pick<Required<Backend>, StridedMember> = { binaryStrided, reduceAxis };

/** The names of the optional strided Backend members. */
export type StridedMember = 'binaryStrided' | 'reduceAxis';
export const STRIDED_MEMBERS: readonly StridedMember[] = ['binaryStrided', 'reduceAxis'];
