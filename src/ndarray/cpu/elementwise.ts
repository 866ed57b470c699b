/**
 * Elementwise kernel tables of the CPU backend. Each entry is its own loop (not a shared loop
 * calling a function), so V8 optimizes each one for its op. The tables are total over the op
 * unions: a new op without a kernel does not compile. These loops see every typed-array kind, so
 * the hot float32 cases dispatch to monomorphic loops in fast_f32.ts (same results, 1.5-9x faster).
 */
import type { AnyTypedArray } from '../dtype.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { erf, roundHalfEven, sigmoid } from './math.js';
import { addF32, divF32, expF32, mulF32, reluF32, subF32 } from './fast_f32.js';

type A = AnyTypedArray;
/** out[oo + i] = f(a[ao + i]) for i < n. */
export type UnaryLoop = (a: A, ao: number, o: A, oo: number, n: number) => void;
/** out[oo + i] = f(a[ao + i*as], b[bo + i*bs]) for i < n (as/bs are 0 or 1). */
export type BinaryLoop = (a: A, ao: number, as: number, b: A, bo: number, bs: number, o: A, oo: number, n: number) => void;

export const UNARY: { [K in UnaryOp]: UnaryLoop } = {
  neg: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = -a[ao + i]!; },
  abs: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.abs(a[ao + i]!); },
  sign: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) { const v = a[ao + i]!; o[oo + i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v; } },
  exp: (a, ao, o, oo, n) => {
    if (a instanceof Float32Array && o instanceof Float32Array) return expF32(a, ao, o, oo, n);
    for (let i = 0; i < n; i++) o[oo + i] = Math.exp(a[ao + i]!);
  },
  log: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.log(a[ao + i]!); },
  log1p: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.log1p(a[ao + i]!); },
  expm1: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.expm1(a[ao + i]!); },
  sqrt: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.sqrt(a[ao + i]!); },
  rsqrt: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = 1 / Math.sqrt(a[ao + i]!); },
  reciprocal: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = 1 / a[ao + i]!; },
  sin: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.sin(a[ao + i]!); },
  cos: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.cos(a[ao + i]!); },
  tanh: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.tanh(a[ao + i]!); },
  sigmoid: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = sigmoid(a[ao + i]!); },
  relu: (a, ao, o, oo, n) => {
    if (a instanceof Float32Array && o instanceof Float32Array) return reluF32(a, ao, o, oo, n);
    for (let i = 0; i < n; i++) { const v = a[ao + i]!; o[oo + i] = v > 0 ? v : v === v ? 0 : v; }
  },
  erf: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = erf(a[ao + i]!); },
  floor: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.floor(a[ao + i]!); },
  ceil: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.ceil(a[ao + i]!); },
  round: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = roundHalfEven(a[ao + i]!); },
  logicalNot: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] ? 0 : 1; },
  isnan: (a, ao, o, oo, n) => { for (let i = 0; i < n; i++) { const v = a[ao + i]!; o[oo + i] = v !== v ? 1 : 0; } },
};

/** max/min propagating NaN as torch.maximum does. */
function nanMax(x: number, y: number): number {
  return x !== x || y !== y ? NaN : x > y ? x : y;
}
function nanMin(x: number, y: number): number {
  return x !== x || y !== y ? NaN : x < y ? x : y;
}


/**
 * Integer power with two's-complement wrap-around, as PyTorch's integer `pow` (exact: square and
 * multiply with 32-bit products). Negative exponents give 1 for a base of 1, +-1 for -1, and 0
 * otherwise (the truncated reciprocal; a base of 0 gives 0, like casting Infinity to int32).
 * Operands that are not both int32 values (NaN or fractional scalars at the backend level) take
 * `Math.pow` and the usual cast.
 */
export function ipow32(x: number, y: number): number {
  // NaN, fractions or a base outside int32 (possible for backend-level scalars): the double result
  if (!Number.isInteger(y) || Math.abs(y) > 1e18 || x !== (x | 0)) return Math.pow(x, y) | 0;
  let base = x | 0;
  let e = y;
  if (e < 0) return base === 1 ? 1 : base === -1 ? (e % 2 !== 0 ? -1 : 1) : 0;
  let r = 1;
  while (e > 0) {
    if (e % 2 === 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return r;
}

export const BINARY: { [K in BinaryOp]: BinaryLoop } = {
  add: (a, ao, as, b, bo, bs, o, oo, n) => {
    if (as === 1 && bs === 1 && a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array) {
      return addF32(a, ao, b, bo, o, oo, n);
    }
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! + b[bo + i * bs]!;
  },
  sub: (a, ao, as, b, bo, bs, o, oo, n) => {
    if (as === 1 && bs === 1 && a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array) {
      return subF32(a, ao, b, bo, o, oo, n);
    }
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! - b[bo + i * bs]!;
  },
  mul: (a, ao, as, b, bo, bs, o, oo, n) => {
    if (as === 1 && bs === 1 && a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array) {
      return mulF32(a, ao, b, bo, o, oo, n);
    }
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! * b[bo + i * bs]!;
  },
  div: (a, ao, as, b, bo, bs, o, oo, n) => {
    if (as === 1 && bs === 1 && a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array) {
      return divF32(a, ao, b, bo, o, oo, n);
    }
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! / b[bo + i * bs]!;
  },
  pow: (a, ao, as, b, bo, bs, o, oo, n) => {
    if (o instanceof Int32Array) {
      for (let i = 0; i < n; i++) o[oo + i] = ipow32(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    }
    for (let i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i * as]!, b[bo + i * bs]!);
  },
  maximum: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = nanMax(a[ao + i * as]!, b[bo + i * bs]!); },
  minimum: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = nanMin(a[ao + i * as]!, b[bo + i * bs]!); },
  eq: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0; },
  ne: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] !== b[bo + i * bs] ? 1 : 0; },
  lt: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! < b[bo + i * bs]! ? 1 : 0; },
  le: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! <= b[bo + i * bs]! ? 1 : 0; },
  gt: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! > b[bo + i * bs]! ? 1 : 0; },
  ge: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! >= b[bo + i * bs]! ? 1 : 0; },
  logicalAnd: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] && b[bo + i * bs] ? 1 : 0; },
  logicalOr: (a, ao, as, b, bo, bs, o, oo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] || b[bo + i * bs] ? 1 : 0; },
};
