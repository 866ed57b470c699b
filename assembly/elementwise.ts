// The elementwise kernels of the wasm backend (src/ndarray/wasm/elementwise.ts calls them by
// name): the binary and binaryScalar exports below, one per (dtype, op), instantiate the loop
// templates of elementwise_binary.ts; the unary, where and cast kernels are re-exported from
// their files. Every kernel takes (task, ntasks) last and does its part of the range.
import { partStart } from './common';
import {
  ADD, SUB, MUL, DIV, POW, MAX, MIN, EQ, NE, LT, LE, GT, GE, AND, OR, loopF32, loopF64, loopI32, loopU8,
} from './elementwise_binary';

export * from './elementwise_unary';
export * from './elementwise_cast';

// ---- exports ----------------------------------------------------------------------------------
// ew_binary_<dtype>_<op>(a, b, out, n, task, ntasks): out = op(a, b)
// ew_scalar_<dtype>_<op>(a, s, out, n, task, ntasks): out = op(a, s)
// ew_rscalar_<dtype>_<op>(a, s, out, n, task, ntasks): out = op(s, a), for the ops where the order
// matters (reversed comparisons use the mirrored op; int32/bool maximum/minimum commute)

// @ts-ignore: decorator
@inline function start(n: i32, task: i32, ntasks: i32, align: i32): i32 {
  return partStart(n, task, ntasks, align);
}

// f32

export function ew_binary_f32_add(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ADD, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_sub(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SUB, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_mul(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MUL, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_div(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(DIV, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_pow(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(POW, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_maximum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MAX, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_minimum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MIN, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_eq(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(EQ, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_ne(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(NE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_lt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_le(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_gt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(GT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_ge(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(GE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_logicalAnd(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(AND, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f32_logicalOr(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(OR, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_add(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ADD, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_sub(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SUB, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_mul(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MUL, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_div(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(DIV, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_pow(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(POW, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_maximum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MAX, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_minimum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MIN, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_eq(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(EQ, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_ne(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(NE, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_lt(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LT, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_le(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LE, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_gt(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(GT, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_ge(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(GE, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_logicalAnd(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(AND, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f32_logicalOr(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(OR, true, false, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f32_sub(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SUB, true, true, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f32_div(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(DIV, true, true, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f32_pow(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(POW, true, true, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f32_maximum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MAX, true, true, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f32_minimum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(MIN, true, true, a, 0, f32x4.splat(<f32>s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// f64

export function ew_binary_f64_add(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ADD, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_sub(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SUB, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_mul(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MUL, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_div(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(DIV, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_pow(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(POW, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_maximum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MAX, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_minimum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MIN, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_eq(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(EQ, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_ne(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(NE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_lt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_le(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_gt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(GT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_ge(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(GE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_logicalAnd(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(AND, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_f64_logicalOr(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(OR, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_add(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ADD, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_sub(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SUB, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_mul(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MUL, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_div(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(DIV, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_pow(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(POW, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_maximum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MAX, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_minimum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MIN, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_eq(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(EQ, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_ne(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(NE, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_lt(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LT, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_le(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LE, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_gt(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(GT, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_ge(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(GE, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_logicalAnd(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(AND, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_f64_logicalOr(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(OR, true, false, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f64_sub(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SUB, true, true, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f64_div(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(DIV, true, true, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f64_pow(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(POW, true, true, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f64_maximum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MAX, true, true, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_f64_minimum(a: usize, s: f64, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(MIN, true, true, a, 0, f64x2.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// i32

export function ew_binary_i32_add(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(ADD, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_sub(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(SUB, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_mul(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MUL, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_maximum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MAX, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_minimum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MIN, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_eq(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(EQ, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_ne(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(NE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_lt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(LT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_le(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(LE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_gt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(GT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_ge(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(GE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_logicalAnd(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(AND, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_binary_i32_logicalOr(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(OR, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_add(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(ADD, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_sub(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(SUB, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_mul(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MUL, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_maximum(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MAX, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_minimum(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(MIN, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_eq(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(EQ, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_ne(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(NE, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_lt(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(LT, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_le(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(LE, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_gt(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(GT, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_ge(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(GE, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_logicalAnd(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(AND, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_scalar_i32_logicalOr(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(OR, true, false, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_rscalar_i32_sub(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(SUB, true, true, a, 0, i32x4.splat(s), o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// u8

export function ew_binary_u8_add(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(ADD, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_sub(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(SUB, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_mul(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MUL, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_maximum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MAX, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_minimum(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MIN, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_eq(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(EQ, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_ne(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(NE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_lt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(LT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_le(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(LE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_gt(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(GT, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_ge(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(GE, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_logicalAnd(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(AND, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_binary_u8_logicalOr(a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(OR, false, false, a, b, i32x4.splat(0), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_add(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(ADD, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_sub(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(SUB, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_mul(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MUL, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_maximum(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MAX, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_minimum(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(MIN, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_eq(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(EQ, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_ne(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(NE, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_lt(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(LT, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_le(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(LE, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_gt(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(GT, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_ge(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(GE, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_logicalAnd(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(AND, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_scalar_u8_logicalOr(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(OR, true, false, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_rscalar_u8_sub(a: usize, s: i32, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(SUB, true, true, a, 0, i8x16.splat(<i8>s), o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}

// ---- strided (broadcast) binary ---------------------------------------------------------------
// ew_strided_<dtype>(op, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks): op of two
// views of the output's shape (d0, d1, n), strides in elements (any sign; 0 broadcasts). Row
// (i0, i1) of a starts at a + (i0 sa0 + i1 sa1) elements, b's likewise; mode 0: both rows are
// contiguous; 1: b's row is one element repeated (stride 0); 2: a's row is. The compact output's
// row r = i0 d1 + i1 starts at o + r n elements (bytes for comparisons). Same loops as the
// binary and binaryScalar kernels, so results equal them bit for bit. Tasks split the rows.

// @ts-ignore: decorator
@inline function stridedF32(
  op: i32, a: usize, b: usize, o: usize, d0: i32, d1: i32, n: i32,
  sa0: i32, sa1: i32, sb0: i32, sb1: i32, mode: i32, task: i32, ntasks: i32,
): void {
  const rows = d0 * d1;
  const r0 = partStart(rows, task, ntasks, 1);
  const r1 = partStart(rows, task + 1, ntasks, 1);
  const obytes: usize = op >= EQ ? 1 : 4;
  for (let r = r0; r < r1; r++) {
    const i0 = r / d1;
    const i1 = r - i0 * d1;
    const pa = a + <usize>((i0 * sa0 + i1 * sa1) << 2);
    const pb = b + <usize>((i0 * sb0 + i1 * sb1) << 2);
    const po = o + <usize>r * <usize>n * obytes;
    if (mode == 0) loopF32(op, false, false, pa, pb, i32x4.splat(0), po, 0, n);
    else if (mode == 1) loopF32(op, true, false, pa, 0, f32x4.splat(load<f32>(pb)), po, 0, n);
    else loopF32(op, true, true, pb, 0, f32x4.splat(load<f32>(pa)), po, 0, n);
  }
}

// @ts-ignore: decorator
@inline function stridedF64(
  op: i32, a: usize, b: usize, o: usize, d0: i32, d1: i32, n: i32,
  sa0: i32, sa1: i32, sb0: i32, sb1: i32, mode: i32, task: i32, ntasks: i32,
): void {
  const rows = d0 * d1;
  const r0 = partStart(rows, task, ntasks, 1);
  const r1 = partStart(rows, task + 1, ntasks, 1);
  const obytes: usize = op >= EQ ? 1 : 8;
  for (let r = r0; r < r1; r++) {
    const i0 = r / d1;
    const i1 = r - i0 * d1;
    const pa = a + <usize>((i0 * sa0 + i1 * sa1) << 3);
    const pb = b + <usize>((i0 * sb0 + i1 * sb1) << 3);
    const po = o + <usize>r * <usize>n * obytes;
    if (mode == 0) loopF64(op, false, false, pa, pb, i32x4.splat(0), po, 0, n);
    else if (mode == 1) loopF64(op, true, false, pa, 0, f64x2.splat(load<f64>(pb)), po, 0, n);
    else loopF64(op, true, true, pb, 0, f64x2.splat(load<f64>(pa)), po, 0, n);
  }
}

export function ew_strided_f32(
  op: i32, a: usize, b: usize, o: usize, d0: i32, d1: i32, n: i32,
  sa0: i32, sa1: i32, sb0: i32, sb1: i32, mode: i32, task: i32, ntasks: i32,
): void {
  switch (op) {
    case ADD: stridedF32(ADD, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case SUB: stridedF32(SUB, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MUL: stridedF32(MUL, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case DIV: stridedF32(DIV, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MAX: stridedF32(MAX, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MIN: stridedF32(MIN, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case EQ: stridedF32(EQ, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case NE: stridedF32(NE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case LT: stridedF32(LT, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case LE: stridedF32(LE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case GT: stridedF32(GT, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case GE: stridedF32(GE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    default: unreachable();
  }
}

export function ew_strided_f64(
  op: i32, a: usize, b: usize, o: usize, d0: i32, d1: i32, n: i32,
  sa0: i32, sa1: i32, sb0: i32, sb1: i32, mode: i32, task: i32, ntasks: i32,
): void {
  switch (op) {
    case ADD: stridedF64(ADD, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case SUB: stridedF64(SUB, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MUL: stridedF64(MUL, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case DIV: stridedF64(DIV, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MAX: stridedF64(MAX, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case MIN: stridedF64(MIN, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case EQ: stridedF64(EQ, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case NE: stridedF64(NE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case LT: stridedF64(LT, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case LE: stridedF64(LE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case GT: stridedF64(GT, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    case GE: stridedF64(GE, a, b, o, d0, d1, n, sa0, sa1, sb0, sb1, mode, task, ntasks); break;
    default: unreachable();
  }
}
