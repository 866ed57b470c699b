/**
 * Cache-blocked matrix multiply in plain TypeScript (BLIS loop order): B is packed into KC x 4
 * column panels and A into 4 x KC row panels (as float64), and a 4x4 register-tile micro-kernel
 * accumulates in 16 locals. Strided reads during packing absorb transposes for free.
 */
import type { AnyTypedArray } from '../dtype.js';

const KC = 256;
const MC = 64;
const NC = 512;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

/**
 * C[cOff + i*n + j] = sum_p A(i, p) * B(p, j), with A(i, p) = A[aOff + i*ars + p*acs] and
 * B(p, j) = B[bOff + p*brs + j*bcs]. Overwrites C.
 */
export function gemm(
  A: AnyTypedArray, aOff: number, ars: number, acs: number,
  B: AnyTypedArray, bOff: number, brs: number, bcs: number,
  C: AnyTypedArray, cOff: number, m: number, n: number, k: number,
): void {
  if (k === 0) {
    for (let i = 0; i < m * n; i++) C[cOff + i] = 0;
    return;
  }
  if (packA.length < MC * KC) packA = new Float64Array(MC * KC);
  if (packB.length < KC * NC) packB = new Float64Array(KC * NC);
  const Ap = packA;
  const Bp = packB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // pack B(pc:pc+kc, jc:jc+nc) into panels of 4 columns
      for (let jr = 0; jr < nc; jr += 4) {
        const base = jr * kc;
        for (let jj = 0; jj < 4; jj++) {
          const j = jc + jr + jj;
          if (jr + jj < nc) {
            let src = bOff + pc * brs + j * bcs;
            for (let p = 0; p < kc; p++, src += brs) Bp[base + p * 4 + jj] = B[src]!;
          } else {
            for (let p = 0; p < kc; p++) Bp[base + p * 4 + jj] = 0;
          }
        }
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        for (let ir = 0; ir < mc; ir += 4) {
          const base = ir * kc;
          for (let ii = 0; ii < 4; ii++) {
            const i = ic + ir + ii;
            if (ir + ii < mc) {
              let src = aOff + i * ars + pc * acs;
              for (let p = 0; p < kc; p++, src += acs) Ap[base + p * 4 + ii] = A[src]!;
            } else {
              for (let p = 0; p < kc; p++) Ap[base + p * 4 + ii] = 0;
            }
          }
        }
        const first = pc === 0;
        for (let jr = 0; jr < nc; jr += 4) {
          const nr = Math.min(4, nc - jr);
          for (let ir = 0; ir < mc; ir += 4) {
            const mr = Math.min(4, mc - ir);
            micro(kc, Ap, ir * kc, Bp, jr * kc, C, cOff + (ic + ir) * n + jc + jr, n, mr, nr, first);
          }
        }
      }
    }
  }
}

function micro(
  kc: number, Ap: Float64Array, ai: number, Bp: Float64Array, bi: number,
  C: AnyTypedArray, ci: number, ldc: number, mr: number, nr: number, first: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = ai + kc * 4;
  for (; ai < end; ai += 4, bi += 4) {
    const a0 = Ap[ai]!, a1 = Ap[ai + 1]!, a2 = Ap[ai + 2]!, a3 = Ap[ai + 3]!;
    const b0 = Bp[bi]!, b1 = Bp[bi + 1]!, b2 = Bp[bi + 2]!, b3 = Bp[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (mr === 4 && nr === 4) {
    if (first) {
      C[ci] = c00; C[ci + 1] = c01; C[ci + 2] = c02; C[ci + 3] = c03; ci += ldc;
      C[ci] = c10; C[ci + 1] = c11; C[ci + 2] = c12; C[ci + 3] = c13; ci += ldc;
      C[ci] = c20; C[ci + 1] = c21; C[ci + 2] = c22; C[ci + 3] = c23; ci += ldc;
      C[ci] = c30; C[ci + 1] = c31; C[ci + 2] = c32; C[ci + 3] = c33;
    } else {
      C[ci] += c00; C[ci + 1] += c01; C[ci + 2] += c02; C[ci + 3] += c03; ci += ldc;
      C[ci] += c10; C[ci + 1] += c11; C[ci + 2] += c12; C[ci + 3] += c13; ci += ldc;
      C[ci] += c20; C[ci + 1] += c21; C[ci + 2] += c22; C[ci + 3] += c23; ci += ldc;
      C[ci] += c30; C[ci + 1] += c31; C[ci + 2] += c32; C[ci + 3] += c33;
    }
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const idx = ci + i * ldc + j;
      C[idx] = first ? t[i * 4 + j]! : C[idx]! + t[i * 4 + j]!;
    }
  }
}
