// Shared helpers of the WebAssembly kernels (AssemblyScript). Conventions for every kernel:
// - pointers are byte addresses into the one shared memory; lengths are element counts;
// - kernels that threads split take two trailing parameters (task: i32, ntasks: i32) and do the
//   part `task` of `ntasks` (see `part`); threads take tasks as they come (any thread may run
//   any task, one thread several), so results may depend on ntasks but not on who ran what;
// - no allocation: kernels use only their arguments and locals (the JS heap owns the memory).

/** a * b + c on four f32 lanes: relaxed (fused) when compiled with relaxed SIMD. */
// @ts-ignore: decorator
@inline export function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** a * b + c on two f64 lanes. */
// @ts-ignore: decorator
@inline export function madd2(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/** Start of part `task` of `ntasks` equal parts of [0, n), rounded down to a multiple of `align`. */
// @ts-ignore: decorator
@inline export function partStart(n: i32, task: i32, ntasks: i32, align: i32): i32 {
  if (task >= ntasks) return n;
  const per = (n + ntasks - 1) / ntasks;
  const a = ((per + align - 1) / align) * align;
  const s = a * task;
  return s < n ? s : n;
}

/** 1 when the module was compiled with relaxed SIMD. */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** Contiguous run of `bytes` bytes (any alignment); memory.copy for long runs. */
// @ts-ignore: decorator
@inline export function copyBytes(d: usize, s: usize, bytes: i32): void {
  if (bytes >= 512) {
    memory.copy(d, s, <usize>bytes);
    return;
  }
  let b = 0;
  for (; b + 32 <= bytes; b += 32) {
    const v0 = v128.load(s + <usize>b);
    const v1 = v128.load(s + <usize>b, 16);
    v128.store(d + <usize>b, v0);
    v128.store(d + <usize>b, v1, 16);
  }
  if (b + 16 <= bytes) {
    v128.store(d + <usize>b, v128.load(s + <usize>b));
    b += 16;
  }
  if (b + 8 <= bytes) {
    store<u64>(d + <usize>b, load<u64>(s + <usize>b));
    b += 8;
  }
  if (b + 4 <= bytes) {
    store<u32>(d + <usize>b, load<u32>(s + <usize>b));
    b += 4;
  }
  for (; b < bytes; b++) store<u8>(d + <usize>b, load<u8>(s + <usize>b));
}
