/**
 * Cache-blocked matrix multiply in plain TypeScript (BLIS loop order). B is packed into KC x NR
 * column panels and A into MR x KC row panels (as float64, so the kernel reads one array type
 * whatever the dtype, and strided reads during packing absorb transposes for free); a 2x3
 * register-tile kernel then accumulates in six float64 locals.
 *
 * Why 2x3 and not a bigger tile: V8's optimizing compiler (TurboFan) has 15 XMM registers for
 * doubles on x64 (xmm15 is its scratch register), and in the generated code it orders the loop
 * body as "all loads, then all multiplies, then all adds", so every product is live at once next
 * to the accumulators. A 2x3 tile needs 6 accumulators + 6 products (the 5 loaded values die as
 * they are used), which fits; from 3x3 / 2x4 up some accumulators are spilled to the stack, and
 * every iteration then waits on a store-to-load round trip through memory (writing the loop as
 * "load b_j, do the multiply-adds that use it" changes nothing: TurboFan reorders it). Measured on
 * x64 with Node 20, the 2x3 loop runs about 1.9x the flops of a 4x4 one and 1.7x a 4x3 or 3x4 one.
 *
 * The packing buffers are module-level `const`s of fixed size: TurboFan then embeds their address
 * and length in the kernel as constants (no per-iteration map check or length load). The pack
 * loops and kernels below are written out for MR = 2, NR = 3.
 */
import type { AnyTypedArray } from '../dtype.js';

/** Register tile: MR rows of A by NR columns of B. */
const MR = 2;
const NR = 3;
/** Depth of one packed block (the k extent a kernel call accumulates in float64). */
const KC = 256;
/** Rows of A per packed block (a multiple of MR); MC x KC doubles = 128 KiB stays in L2. */
const MC = 64;
/** Columns of B per packed block (a multiple of NR). */
const NC = 510;

const aBuf = new Float64Array(MC * KC);
const bBuf = new Float64Array(KC * NC);
/** One MR x NR result tile of `fringe`. */
const edgeTile = new Float64Array(MR * NR);

/**
 * C[cOff + i*n + j] = sum_p A(i, p) * B(p, j), with A(i, p) = A[aOff + i*ars + p*acs] and
 * B(p, j) = B[bOff + p*brs + j*bcs]. Overwrites C.
 */
export function gemm(
  A: AnyTypedArray, aOff: number, ars: number, acs: number,
  B: AnyTypedArray, bOff: number, brs: number, bcs: number,
  C: AnyTypedArray, cOff: number, m: number, n: number, k: number,
): void {
  // The kernels accumulate into C (one float64 sum per KC block is added to it), so start at 0.
  C.fill(0, cOff, cOff + m * n);
  if (k === 0) return;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(B, bOff + pc * brs + jc * bcs, brs, bcs, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(A, aOff + ic * ars + pc * acs, ars, acs, kc, mc);
        blockKernel(kc, mc, nc, C, cOff + ic * n + jc, n);
      }
    }
  }
}

/**
 * Packs the kc x nc block of B starting at B[off] (row stride rs, column stride cs) into bBuf as
 * consecutive KC x NR panels: bBuf[jr*kc + p*NR + jj] = B(p, jr + jj), zero-padded past nc.
 */
function packB(B: AnyTypedArray, off: number, rs: number, cs: number, kc: number, nc: number): void {
  const Bp = bBuf;
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    let s = off + jr * cs;
    const w = nc - jr;
    if (w >= NR) {
      for (let p = 0; p < kc; p++, s += rs, d += NR) {
        Bp[d] = B[s]!; Bp[d + 1] = B[s + cs]!; Bp[d + 2] = B[s + 2 * cs]!;
      }
    } else {
      for (let p = 0; p < kc; p++, s += rs, d += NR) {
        Bp[d] = B[s]!; Bp[d + 1] = w > 1 ? B[s + cs]! : 0; Bp[d + 2] = 0;
      }
    }
  }
}

/**
 * Packs the mc x kc block of A starting at A[off] into aBuf as consecutive MR x KC panels:
 * aBuf[ir*kc + p*MR + ii] = A(ir + ii, p), zero-padded past mc.
 */
function packA(A: AnyTypedArray, off: number, rs: number, cs: number, kc: number, mc: number): void {
  const Ap = aBuf;
  let d = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    let s = off + ir * rs;
    if (mc - ir >= MR) {
      for (let p = 0; p < kc; p++, s += cs, d += MR) { Ap[d] = A[s]!; Ap[d + 1] = A[s + rs]!; }
    } else {
      for (let p = 0; p < kc; p++, s += cs, d += MR) { Ap[d] = A[s]!; Ap[d + 1] = 0; }
    }
  }
}

/**
 * C(ir.., jr..) += packed A block (mc x kc) times packed B block (kc x nc), C at cOff with row
 * stride ldc. Full 2x3 tiles run the register kernel; the leftover column (nc % 3) and row
 * (mc % 2) strips go to `fringe`.
 */
function blockKernel(kc: number, mc: number, nc: number, C: AnyTypedArray, cOff: number, ldc: number): void {
  const Ap = aBuf;
  const Bp = bBuf;
  const mFull = mc - (mc % MR);
  const nFull = nc - (nc % NR);
  for (let jr = 0; jr < nFull; jr += NR) {
    for (let ir = 0; ir < mFull; ir += MR) {
      // 2x3 register tile over the packed panels: per step p, two A values (rows ir, ir+1) and
      // three B values (columns jr..jr+2) feed six independent multiply-add chains.
      let c00 = 0, c01 = 0, c02 = 0;
      let c10 = 0, c11 = 0, c12 = 0;
      let ai = ir * kc;
      let bi = jr * kc;
      const end = ai + kc * MR;
      for (; ai < end; ai += MR, bi += NR) {
        const a0 = Ap[ai]!, a1 = Ap[ai + 1]!;
        const b0 = Bp[bi]!, b1 = Bp[bi + 1]!, b2 = Bp[bi + 2]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2;
      }
      let ci = cOff + ir * ldc + jr;
      C[ci] += c00; C[ci + 1] += c01; C[ci + 2] += c02; ci += ldc;
      C[ci] += c10; C[ci + 1] += c11; C[ci + 2] += c12;
    }
  }
  if (nFull < nc) {
    for (let ir = 0; ir < mc; ir += MR) fringe(kc, ir, nFull, C, cOff, ldc, Math.min(MR, mc - ir), nc - nFull);
  }
  if (mFull < mc) {
    for (let jr = 0; jr < nFull; jr += NR) fringe(kc, mFull, jr, C, cOff, ldc, mc - mFull, NR);
  }
}

/**
 * An mr x nr (mr <= MR, nr <= NR) edge tile at rows ir.., columns jr.. of the block: the same 2x3
 * loop as blockKernel over the zero-padded panels, then only the valid part is added to C.
 */
function fringe(
  kc: number, ir: number, jr: number, C: AnyTypedArray, cOff: number, ldc: number, mr: number, nr: number,
): void {
  const Ap = aBuf;
  const Bp = bBuf;
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let ai = ir * kc;
  let bi = jr * kc;
  const end = ai + kc * MR;
  for (; ai < end; ai += MR, bi += NR) {
    const a0 = Ap[ai]!, a1 = Ap[ai + 1]!;
    const b0 = Bp[bi]!, b1 = Bp[bi + 1]!, b2 = Bp[bi + 2]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2;
  }
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02;
  t[3] = c10; t[4] = c11; t[5] = c12;
  const ci = cOff + ir * ldc + jr;
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) C[ci + i * ldc + j] += t[i * NR + j]!;
  }
}
