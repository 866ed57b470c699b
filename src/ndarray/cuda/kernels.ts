/**
 * CUDA C source of every kernel of the `cuda` backend, generated per operation and dtype from the
 * templates below. Pure TypeScript with no Node imports: the backend compiles these strings with
 * NVRTC (one module per kernel, on first use, cached by source), and test/cuda.test.ts compiles
 * all of them at once with `nvcc --ptx` where nvcc exists.
 *
 * Semantics follow the cpu reference backend (src/ndarray/cpu): float32 arithmetic runs in float
 * (for +, -, *, / that is exactly the reference's double-then-round result), float64/int32/bool
 * arithmetic runs in double, and results are stored with JavaScript's typed-array conversions
 * (ToInt32 for int32, ToUint8 for bool: `ndl_i32` / `ndl_u8` below), so integer wrap-around, NaN
 * to 0 and the like match the reference bit for bit. Transcendental float32 functions use CUDA's
 * float versions (within a few ulp of the reference, which computes in double).
 *
 * Each kernel is described by a {@link KernelDef}: its unique name, its parameter list (from which
 * both the C signature and the host-side argument packing are made, so the two cannot disagree),
 * and its body. The source stays valid C++17 for NVRTC, nvcc and (for the host emulation used in
 * tests) g++: no headers, no CUDA-only syntax beyond `__global__`/`__device__`/`__shared__` and
 * the intrinsics the prelude lists.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { BINARY_OPS, COMPARISON_OPS, REDUCE_OPS, UNARY_OPS } from '../backend.js';
import type { DType } from '../dtype.js';

/** The C type of each dtype's elements. */
export const CTYPE: Record<DType, string> = { float32: 'float', float64: 'double', int32: 'int', bool: 'u8' };
/** Short dtype names used in kernel names. */
export const ABBR: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'b8' };
export const ITEMSIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** The type arithmetic runs in. */
export type MathT = 'float' | 'double';
/** float32 computes in float; every other dtype in double (exact for int32 and bool). */
export function mathOf(d: DType): MathT {
  return d === 'float32' ? 'float' : 'double';
}

/** Most dims a strided kernel takes (after coalescing; the host splits larger ranks). */
export const MAX_DIMS = 8;
/** Threads per block of the 1-D kernels. */
export const BLOCK = 256;

/** How one kernel argument is passed (and packed on the host). */
export type ParamKind = 'ptr' | 'i64' | 'i32' | 'f32' | 'f64' | 'u8' | 'dims32' | 'dims64';
export interface Param {
  name: string;
  kind: ParamKind;
  /** The C declaration type (for pointers: which element type). */
  ctype: string;
}
/** Byte size and alignment of each parameter kind (as the C compiler lays them out). */
export const PARAM_LAYOUT: Record<ParamKind, { size: number; align: number }> = {
  ptr: { size: 8, align: 8 },
  i64: { size: 8, align: 8 },
  i32: { size: 4, align: 4 },
  f32: { size: 4, align: 4 },
  f64: { size: 8, align: 8 },
  u8: { size: 1, align: 1 },
  dims32: { size: 4 + 8 * MAX_DIMS, align: 4 },
  dims64: { size: 8 + 16 * MAX_DIMS, align: 8 },
};

/** One generated kernel. */
export interface KernelDef {
  name: string;
  params: readonly Param[];
  /** The source of this kernel alone (the prelude is added by {@link kernelSource}). */
  body: string;
}

/** What a kernel computes: the key the backend asks for, and tests enumerate. */
export type KernelSpec =
  | { kind: 'fill'; dtype: DType; strided: false }
  | { kind: 'fill'; dtype: DType; strided: true; wide: boolean }
  | { kind: 'unary'; op: UnaryOp; a: DType; out: DType }
  | { kind: 'binary'; op: BinaryOp; a: DType; b: DType; out: DType }
  | { kind: 'scalar'; op: BinaryOp; a: DType; out: DType; math: MathT }
  | { kind: 'where'; a: DType; b: DType; out: DType }
  | { kind: 'cast'; a: DType; out: DType }
  | { kind: 'compact' | 'setitem'; dtype: DType; wide: boolean }
  | { kind: 'reduce'; op: ReduceOp; a: DType; out: DType; mode: 'warp' | 'block' }
  | { kind: 'gather' | 'scatterAdd'; dtype: DType; wide: boolean }
  | { kind: 'matmul'; dtype: DType }
  | { kind: 'softmax' | 'softmaxBackward' | 'layerNorm' | 'layerNormBackward'; dtype: 'float32' | 'float64'; mode: 'warp' | 'block' }
  | { kind: 'layerNormParamGrad' | 'adam'; dtype: 'float32' | 'float64' }
  | { kind: 'philoxBernoulli'; dtype: DType }
  | { kind: 'reduceAxis'; op: ReduceOp; a: DType; out: DType }
  | { kind: 'binaryStrided'; op: BinaryOp; a: DType; out: DType }
  | { kind: 'batchNorm' | 'batchNormBackward'; dtype: 'float32' | 'float64' }
  | { kind: 'im2col'; dtype: DType }
  | { kind: 'col2im'; dtype: 'float32' | 'float64' };

// ------------------------------------------------------------------------------------ prelude

/**
 * Shared definitions, compiled with every kernel. Guarded so that several kernels can share one
 * translation unit (the all-kernels test file).
 */
export const PRELUDE = String.raw`
#ifndef NDL_PRELUDE
#define NDL_PRELUDE
typedef unsigned char u8;
typedef long long i64;
#define NDL_TID ((i64)blockIdx.x * blockDim.x + threadIdx.x)
#define NDL_NTH ((i64)gridDim.x * blockDim.x)
#define NDL_FULL 0xffffffffu
#define NDL_MAXD ${MAX_DIMS}
template <class T, int N> struct alignas(sizeof(T) * N) NdlVec { T v[N]; };
struct NdlDims32 { int nd; int shape[NDL_MAXD]; int stride[NDL_MAXD]; };
struct NdlDims64 { i64 nd; i64 shape[NDL_MAXD]; i64 stride[NDL_MAXD]; };
__device__ __forceinline__ float ndl_inff() { return __int_as_float(0x7f800000); }
__device__ __forceinline__ float ndl_nanf() { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ double ndl_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double ndl_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
/* JavaScript's ToInt32 and ToUint8: how the reference stores numbers into Int32Array/Uint8Array. */
__device__ __forceinline__ int ndl_i32(double v) {
  if (v >= -2147483648.0 && v <= 2147483647.0) return (int)v;
  if (!(v - v == 0.0)) return 0;
  double m = fmod(trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int)(unsigned int)m;
}
__device__ __forceinline__ u8 ndl_u8(double v) {
  if (v >= 0.0 && v < 256.0) return (u8)v;
  if (!(v - v == 0.0)) return 0;
  double m = fmod(trunc(v), 256.0);
  if (m < 0) m += 256.0;
  return (u8)(unsigned int)m;
}
/* JavaScript truthiness of a number: nonzero and not NaN. */
__device__ __forceinline__ bool ndl_truthy(float x) { return x != 0.0f && x == x; }
__device__ __forceinline__ bool ndl_truthy(double x) { return x != 0.0 && x == x; }
/* Math.pow: NaN where C's pow gives 1 (pow(1, NaN), pow(+-1, +-Infinity)). */
__device__ __forceinline__ float ndl_pow(float x, float y) {
  return (y != y || (fabsf(x) == 1.0f && fabsf(y) == ndl_inff())) ? ndl_nanf() : powf(x, y);
}
__device__ __forceinline__ double ndl_pow(double x, double y) {
  return (y != y || (fabs(x) == 1.0 && fabs(y) == ndl_inf())) ? ndl_nan() : pow(x, y);
}
/* Integer pow with two's-complement wrap-around (the reference's ipow32): exact square and multiply. Used for
   int32 and bool outputs, where CUDA's double pow (2 ulp) can land below an exact integer: pow(-3, 1). */
__device__ __forceinline__ double ndl_ipow(double xd, double yd) {
  if (xd != trunc(xd) || yd != trunc(yd) || xd < -2147483648.0 || xd > 2147483647.0 || fabs(yd) > 1e18)
    return ndl_pow(xd, yd);
  int x = (int)xd;
  long long e = (long long)yd;
  if (e < 0) return x == 1 ? 1.0 : x == -1 ? ((e & 1) ? -1.0 : 1.0) : 0.0;
  unsigned int r = 1u, b = (unsigned int)x;
  while (e > 0) { if (e & 1) r *= b; b *= b; e >>= 1; }
  return (double)(int)r;
}
/* Math.sign / relu / sigmoid with the reference's NaN and zero handling. */
__device__ __forceinline__ float ndl_sign(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x == 0.0f ? 0.0f : x; }
__device__ __forceinline__ double ndl_sign(double x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x == 0.0 ? 0.0 : x; }
__device__ __forceinline__ float ndl_relu(float x) { return x > 0.0f ? x : (x == x ? 0.0f : x); }
__device__ __forceinline__ double ndl_relu(double x) { return x > 0.0 ? x : (x == x ? 0.0 : x); }
__device__ __forceinline__ float ndl_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}
__device__ __forceinline__ double ndl_sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
/* max/min propagating NaN (torch.maximum). */
__device__ __forceinline__ float ndl_max(float a, float b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
__device__ __forceinline__ double ndl_max(double a, double b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
__device__ __forceinline__ float ndl_min(float a, float b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
__device__ __forceinline__ double ndl_min(double a, double b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
/* Reduction operators. */
struct NdlSum { template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; } };
struct NdlProd { template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a * b; } };
struct NdlMax { template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return ndl_max(a, b); } };
struct NdlMin { template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return ndl_min(a, b); } };
/* All-reduce over a warp (every lane gets the result). */
template <class T, class Op> __device__ __forceinline__ T ndl_warp_all(T v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(NDL_FULL, v, o));
  return v;
}
/* All-reduce over a block of whole warps; sh holds 33 elements of T. */
template <class T, class Op> __device__ __forceinline__ T ndl_block_all(T v, Op op, T init, T *sh) {
  v = ndl_warp_all(v, op);
  int w = threadIdx.x >> 5, l = threadIdx.x & 31, nw = (blockDim.x + 31) >> 5;
  if (l == 0) sh[w] = v;
  __syncthreads();
  if (w == 0) {
    T u = l < nw ? sh[l] : init;
    u = ndl_warp_all(u, op);
    if (l == 0) sh[32] = u;
  }
  __syncthreads();
  T r = sh[32];
  __syncthreads();
  return r;
}
/* arg-reductions: (value, index) pairs; NaN wins (first NaN), else the extreme, ties to the lower index. */
template <class T, bool MAX> __device__ __forceinline__ void ndl_arg_combine(T &v, i64 &i, T v2, i64 i2) {
  bool n1 = v != v, n2 = v2 != v2;
  bool take;
  if (n1 || n2) take = n2 && (!n1 || i2 < i);
  else take = MAX ? (v2 > v || (v2 == v && i2 < i)) : (v2 < v || (v2 == v && i2 < i));
  if (take) { v = v2; i = i2; }
}
template <class T, bool MAX> __device__ __forceinline__ void ndl_arg_warp(T &v, i64 &i) {
  for (int o = 16; o > 0; o >>= 1) {
    T v2 = __shfl_xor_sync(NDL_FULL, v, o);
    i64 i2 = __shfl_xor_sync(NDL_FULL, i, o);
    ndl_arg_combine<T, MAX>(v, i, v2, i2);
  }
}
template <class T, bool MAX> __device__ __forceinline__ void ndl_arg_block(T &v, i64 &i, T init, T *sv, i64 *si) {
  ndl_arg_warp<T, MAX>(v, i);
  int w = threadIdx.x >> 5, l = threadIdx.x & 31, nw = (blockDim.x + 31) >> 5;
  if (l == 0) { sv[w] = v; si[w] = i; }
  __syncthreads();
  if (w == 0) {
    T u = init; i64 j = 0x7fffffffffffffffLL;
    if (l < nw) { u = sv[l]; j = si[l]; }
    ndl_arg_warp<T, MAX>(u, j);
    if (l == 0) { sv[32] = u; si[32] = j; }
  }
  __syncthreads();
  v = sv[32]; i = si[32];
  __syncthreads();
}
/* Rounded arithmetic that is never contracted into FMAs (the reference rounds every step). */
__device__ __forceinline__ float ndl_add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float ndl_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float ndl_div(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ float ndl_sqrt(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double ndl_add(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double ndl_mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double ndl_div(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ double ndl_sqrt(double a) { return __dsqrt_rn(a); }
/* Philox4x32-10 of the counter (ctr mod 2^32, ctr >> 32, 0, 0) under key (k0, k1) (src/random.ts). */
__device__ __forceinline__ void ndl_philox(unsigned long long ctr, unsigned k0, unsigned k1, unsigned *w) {
  unsigned c0 = (unsigned)ctr, c1 = (unsigned)(ctr >> 32), c2 = 0u, c3 = 0u;
#pragma unroll
  for (int r = 0; r < 10; r++) {
    unsigned long long p0 = (unsigned long long)0xd2511f53u * c0, p1 = (unsigned long long)0xcd9e8d57u * c2;
    c0 = (unsigned)(p1 >> 32) ^ c1 ^ k0;
    c1 = (unsigned)p1;
    c2 = (unsigned)(p0 >> 32) ^ c3 ^ k1;
    c3 = (unsigned)p0;
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3;
}
#endif
`;

// ------------------------------------------------------------------------------------ helpers

function fn(name: string, m: MathT): string {
  return m === 'float' ? `${name}f` : name;
}

/** `expr` (of the element type of `d`) converted to math type `m`. */
function load(d: DType, expr: string, m: MathT): string {
  if (d === 'float32' && m === 'float') return expr;
  return `(${m})(${expr})`;
}

/** A numeric `expr` of math type `m` converted for storage as `d` (the reference's conversions). */
function store(d: DType, expr: string, m: MathT): string {
  switch (d) {
    case 'float32': return m === 'float' ? `(${expr})` : `(float)(${expr})`;
    case 'float64': return `(double)(${expr})`;
    case 'int32': return `ndl_i32((double)(${expr}))`;
    case 'bool': return `ndl_u8((double)(${expr}))`;
  }
}

/** A boolean `expr` stored as `d` (1 or 0). */
function storePred(d: DType, expr: string): string {
  switch (d) {
    case 'float32': return `((${expr}) ? 1.0f : 0.0f)`;
    case 'float64': return `((${expr}) ? 1.0 : 0.0)`;
    case 'int32': return `((${expr}) ? 1 : 0)`;
    case 'bool': return `(u8)((${expr}) ? 1 : 0)`;
  }
}

interface OpExpr {
  /** A predicate (stored as 1/0) rather than a number of the math type. */
  pred: boolean;
  expr: string;
}

/** Unary expressions of `x` (math type m). */
export function unaryExpr(op: UnaryOp, x: string, m: MathT): OpExpr {
  const one = m === 'float' ? '1.0f' : '1.0';
  const num = (expr: string): OpExpr => ({ pred: false, expr });
  switch (op) {
    case 'neg': return num(`-(${x})`);
    case 'abs': return num(`${fn('fabs', m)}(${x})`);
    case 'sign': return num(`ndl_sign(${x})`);
    case 'exp': return num(`${fn('exp', m)}(${x})`);
    case 'log': return num(`${fn('log', m)}(${x})`);
    case 'log1p': return num(`${fn('log1p', m)}(${x})`);
    case 'expm1': return num(`${fn('expm1', m)}(${x})`);
    case 'sqrt': return num(`${fn('sqrt', m)}(${x})`);
    case 'rsqrt': return num(`${one} / ${fn('sqrt', m)}(${x})`);
    case 'reciprocal': return num(`${one} / (${x})`);
    case 'sin': return num(`${fn('sin', m)}(${x})`);
    case 'cos': return num(`${fn('cos', m)}(${x})`);
    case 'tanh': return num(`${fn('tanh', m)}(${x})`);
    case 'sigmoid': return num(`ndl_sigmoid(${x})`);
    case 'relu': return num(`ndl_relu(${x})`);
    case 'erf': return num(`${fn('erf', m)}(${x})`);
    case 'floor': return num(`${fn('floor', m)}(${x})`);
    case 'ceil': return num(`${fn('ceil', m)}(${x})`);
    case 'round': return num(`${fn('rint', m)}(${x})`);
    case 'logicalNot': return { pred: true, expr: `!ndl_truthy(${x})` };
    case 'isnan': return { pred: true, expr: `(${x}) != (${x})` };
  }
}

/** Binary expressions of `x`, `y` (math type m). */
export function binaryExpr(op: BinaryOp, x: string, y: string, m: MathT, out?: DType): OpExpr {
  void m;
  const num = (expr: string): OpExpr => ({ pred: false, expr });
  const pred = (expr: string): OpExpr => ({ pred: true, expr });
  switch (op) {
    case 'add': return num(`(${x}) + (${y})`);
    case 'sub': return num(`(${x}) - (${y})`);
    case 'mul': return num(`(${x}) * (${y})`);
    case 'div': return num(`(${x}) / (${y})`);
    case 'pow': return num(out === 'int32' || out === 'bool' ? `ndl_ipow(${x}, ${y})` : `ndl_pow(${x}, ${y})`);
    case 'maximum': return num(`ndl_max(${x}, ${y})`);
    case 'minimum': return num(`ndl_min(${x}, ${y})`);
    case 'eq': return pred(`(${x}) == (${y})`);
    case 'ne': return pred(`(${x}) != (${y})`);
    case 'lt': return pred(`(${x}) < (${y})`);
    case 'le': return pred(`(${x}) <= (${y})`);
    case 'gt': return pred(`(${x}) > (${y})`);
    case 'ge': return pred(`(${x}) >= (${y})`);
    case 'logicalAnd': return pred(`ndl_truthy(${x}) && ndl_truthy(${y})`);
    case 'logicalOr': return pred(`ndl_truthy(${x}) || ndl_truthy(${y})`);
  }
}

function storeOp(d: DType, e: OpExpr, m: MathT): string {
  return e.pred ? storePred(d, e.expr) : store(d, e.expr, m);
}

const ptr = (name: string, d: DType | string, isConst = false): Param => ({
  name,
  kind: 'ptr',
  ctype: `${isConst ? 'const ' : ''}${typeof d === 'string' && d in CTYPE ? CTYPE[d as DType] : d} *`,
});
const i64 = (name: string): Param => ({ name, kind: 'i64', ctype: 'i64' });
const i32 = (name: string): Param => ({ name, kind: 'i32', ctype: 'int' });
const scal = (name: string, m: MathT): Param => ({ name, kind: m === 'float' ? 'f32' : 'f64', ctype: m });

function signature(name: string, params: readonly Param[]): string {
  return `extern "C" __global__ void ${name}(${params.map((p) => `${p.ctype} ${p.name}`).join(', ')})`;
}

/** Elements per vector access for arrays of these dtypes (16-byte accesses of the widest). */
export function vecWidth(dtypes: readonly DType[]): number {
  return 16 / Math.max(...dtypes.map((d) => ITEMSIZE[d]));
}

/**
 * An elementwise kernel over `n` elements with a vectorized path (taken when the host says all
 * arrays are aligned to a whole vector, `vec != 0`) and a scalar path for the rest.
 * `arrays` are the indexed operands (inputs first, the output last); `compute(get)` returns the
 * statement(s) that assign the output element, given accessors of the input elements.
 */
function elementwise(
  name: string, arrays: readonly { name: string; dtype: DType; out?: boolean }[], extra: readonly Param[],
  compute: (get: (arrayName: string) => string, put: string) => string,
): KernelDef {
  const V = vecWidth(arrays.map((a) => a.dtype));
  const params: Param[] = [...arrays.map((a) => ptr(a.name, a.dtype, !a.out)), ...extra, i64('n'), i32('vec')];
  const vt = (a: { dtype: DType }) => `NdlVec<${CTYPE[a.dtype]}, ${V}>`;
  const outArr = arrays.find((a) => a.out)!;
  const vecLoads = arrays.filter((a) => !a.out).map((a) => `      ${vt(a)} v_${a.name} = ((const ${vt(a)} *)${a.name})[j];`).join('\n');
  const vecBody = compute((nm) => `v_${nm}.v[u]`, `v_${outArr.name}.v[u]`);
  const scalarBody = compute((nm) => `${nm}[i]`, `${outArr.name}[i]`);
  const body = `${signature(name, params)} {
  i64 tid = NDL_TID, nth = NDL_NTH, done = 0;
  if (vec) {
    i64 nv = n / ${V};
    for (i64 j = tid; j < nv; j += nth) {
${vecLoads}
      ${vt(outArr)} v_${outArr.name};
#pragma unroll
      for (int u = 0; u < ${V}; u++) { ${vecBody} }
      ((${vt(outArr)} *)${outArr.name})[j] = v_${outArr.name};
    }
    done = nv * ${V};
  }
  for (i64 i = done + tid; i < n; i += nth) { ${scalarBody} }
}
`;
  return { name, params, body };
}

/** The strided position of row-major element `r` of the dims `d` (the body of the loops below). */
function stridedPos(wide: boolean, r: string, pos: string): string {
  const t = wide ? 'i64' : 'int';
  return `${t} r_ = (${t})${r}; ${t} ${pos} = off;
    for (int k = (int)d.nd - 1; k >= 0; k--) { ${t} s_ = d.shape[k]; ${t} q_ = r_ / s_; ${pos} += (r_ - q_ * s_) * d.stride[k]; r_ = q_; }`;
}

function dimsParam(wide: boolean): Param {
  return wide ? { name: 'd', kind: 'dims64', ctype: 'NdlDims64' } : { name: 'd', kind: 'dims32', ctype: 'NdlDims32' };
}

// ------------------------------------------------------------------------------------ kernels

/** The unique name of a kernel. */
export function kernelName(s: KernelSpec): string {
  switch (s.kind) {
    case 'fill': return s.strided ? `ndl_fill_strided_${ABBR[s.dtype]}_${s.wide ? 'w64' : 'w32'}` : `ndl_fill_${ABBR[s.dtype]}`;
    case 'unary': return `ndl_unary_${s.op}_${ABBR[s.a]}_${ABBR[s.out]}`;
    case 'binary': return `ndl_binary_${s.op}_${ABBR[s.a]}_${ABBR[s.b]}_${ABBR[s.out]}`;
    case 'scalar': return `ndl_scalar_${s.op}_${ABBR[s.a]}_${ABBR[s.out]}_${s.math === 'float' ? 'mf' : 'md'}`;
    case 'where': return `ndl_where_${ABBR[s.a]}_${ABBR[s.b]}_${ABBR[s.out]}`;
    case 'cast': return `ndl_cast_${ABBR[s.a]}_${ABBR[s.out]}`;
    case 'compact': case 'setitem': case 'gather': case 'scatterAdd':
      return `ndl_${s.kind}_${ABBR[s.dtype]}_${s.wide ? 'w64' : 'w32'}`;
    case 'reduce': return `ndl_reduce_${s.op}_${ABBR[s.a]}_${ABBR[s.out]}_${s.mode}`;
    case 'reduceAxis': return `ndl_reduceAxis_${s.op}_${ABBR[s.a]}_${ABBR[s.out]}`;
    case 'binaryStrided': return `ndl_binaryStrided_${s.op}_${ABBR[s.a]}_${ABBR[s.out]}`;
    case 'matmul': return `ndl_matmul_${ABBR[s.dtype]}`;
    case 'softmax': case 'softmaxBackward': case 'layerNorm': case 'layerNormBackward':
      return `ndl_${s.kind}_${ABBR[s.dtype]}_${s.mode}`;
    case 'layerNormParamGrad': case 'adam': case 'philoxBernoulli': case 'batchNorm': case 'batchNormBackward': case 'im2col': case 'col2im': return `ndl_${s.kind}_${ABBR[s.dtype]}`;
  }
}

/** The definition (name, parameters, body) of a kernel. */
export function kernelDef(s: KernelSpec): KernelDef {
  const name = kernelName(s);
  switch (s.kind) {
    case 'fill':
      if (!s.strided) {
        const d = s.dtype;
        return elementwise(name, [{ name: 'o', dtype: d, out: true }], [valueParam(d)], (_g, put) => `${put} = value;`);
      }
      return stridedKernel(name, s.dtype, s.wide, 'fill');
    case 'unary': {
      const m = mathOf(s.a);
      const e = unaryExpr(s.op, 'x', m);
      return elementwise(name, [{ name: 'a', dtype: s.a }, { name: 'o', dtype: s.out, out: true }], [],
        (g, put) => `${m} x = ${load(s.a, g('a'), m)}; ${put} = ${storeOp(s.out, e, m)};`);
    }
    case 'binary': {
      const m: MathT = s.a === s.b ? mathOf(s.a) : 'double';
      const e = binaryExpr(s.op, 'x', 'y', m, s.out);
      return elementwise(name, [{ name: 'a', dtype: s.a }, { name: 'b', dtype: s.b }, { name: 'o', dtype: s.out, out: true }], [],
        (g, put) => `${m} x = ${load(s.a, g('a'), m)}; ${m} y = ${load(s.b, g('b'), m)}; ${put} = ${storeOp(s.out, e, m)};`);
    }
    case 'scalar': {
      const m = s.math;
      const fwd = binaryExpr(s.op, 'x', 's', m, s.out);
      const rev = binaryExpr(s.op, 's', 'x', m, s.out);
      return elementwise(name, [{ name: 'a', dtype: s.a }, { name: 'o', dtype: s.out, out: true }], [scal('s', m), i32('rev')],
        (g, put) => `${m} x = ${load(s.a, g('a'), m)}; ${put} = rev ? ${storeOp(s.out, rev, m)} : ${storeOp(s.out, fwd, m)};`);
    }
    case 'where':
      return elementwise(name, [{ name: 'c', dtype: 'bool' }, { name: 'a', dtype: s.a }, { name: 'b', dtype: s.b }, { name: 'o', dtype: s.out, out: true }], [],
        (g, put) => s.a === s.out && s.b === s.out
          ? `${put} = ${g('c')} ? ${g('a')} : ${g('b')};`
          : `${put} = ${store(s.out, `${g('c')} ? (double)${g('a')} : (double)${g('b')}`, 'double')};`);
    case 'cast':
      return elementwise(name, [{ name: 'a', dtype: s.a }, { name: 'o', dtype: s.out, out: true }], [],
        (g, put) => `${put} = ${castExpr(s.a, s.out, g('a'))};`);
    case 'compact': case 'setitem':
      return stridedKernel(name, s.dtype, s.wide, s.kind);
    case 'reduce': return reduceKernel(name, s.op, s.a, s.out, s.mode);
    case 'gather': case 'scatterAdd': return axisKernel(name, s.kind, s.dtype, s.wide);
    case 'matmul': return matmulKernel(name, s.dtype);
    case 'softmax': return softmaxKernel(name, s.dtype, s.mode);
    case 'softmaxBackward': return softmaxBackwardKernel(name, s.dtype, s.mode);
    case 'layerNorm': return layerNormKernel(name, s.dtype, s.mode);
    case 'layerNormBackward': return layerNormBackwardKernel(name, s.dtype, s.mode);
    case 'layerNormParamGrad': return layerNormParamGradKernel(name, s.dtype);
    case 'adam': return adamKernel(name, s.dtype);
    case 'philoxBernoulli': return philoxBernoulliKernel(name, s.dtype);
    case 'reduceAxis': return reduceAxisKernel(name, s.op, s.a, s.out);
    case 'binaryStrided': return binaryStridedKernel(name, s.op, s.a, s.out);
    case 'batchNorm': return batchNormKernel(name, s.dtype);
    case 'batchNormBackward': return batchNormBackwardKernel(name, s.dtype);
    case 'im2col': case 'col2im': return windowKernel(name, s.kind, s.dtype);
  }
}

/** The full source of one kernel's module: the prelude and the kernel. */
export function kernelSource(s: KernelSpec): string {
  return PRELUDE + kernelDef(s).body;
}

function valueParam(d: DType): Param {
  const kind: ParamKind = d === 'float32' ? 'f32' : d === 'float64' ? 'f64' : d === 'int32' ? 'i32' : 'u8';
  return { name: 'value', kind, ctype: CTYPE[d] };
}

/** The reference's cast: bool <- nonzero (NaN is true); int32 <- trunc then ToInt32; floats <- value. */
function castExpr(a: DType, out: DType, x: string): string {
  if (out === 'bool') return `(u8)(${x} != 0 ? 1 : 0)`;
  if (out === 'int32') return a === 'bool' ? `(int)${x}` : `ndl_i32((double)${x})`;
  if (out === 'float32') return `(float)${x}`;
  return `(double)${x}`;
}

/** compact (gather from strided), setitem (scatter into strided), strided fill. */
function stridedKernel(name: string, d: DType, wide: boolean, kind: 'compact' | 'setitem' | 'fill'): KernelDef {
  const T = CTYPE[d];
  const idx = wide ? 'i64' : 'int';
  const params: Param[] = kind === 'compact'
    ? [ptr('src', d, true), ptr('out', d), dimsParam(wide), { name: 'off', kind: wide ? 'i64' : 'i32', ctype: idx }, i64('n')]
    : kind === 'setitem'
      ? [ptr('dst', d), ptr('src', d, true), dimsParam(wide), { name: 'off', kind: wide ? 'i64' : 'i32', ctype: idx }, i64('n')]
      : [ptr('dst', d), dimsParam(wide), { name: 'off', kind: wide ? 'i64' : 'i32', ctype: idx }, valueParam(d), i64('n')];
  void T;
  const assign = kind === 'compact' ? 'out[i] = src[p_];' : kind === 'setitem' ? 'dst[p_] = src[i];' : 'dst[p_] = value;';
  const body = `${signature(name, params)} {
  for (i64 i = NDL_TID; i < n; i += NDL_NTH) {
    ${stridedPos(wide, 'i', 'p_')}
    ${assign}
  }
}
`;
  return { name, params, body };
}

/** Accumulator type of a reduction of `a` (sum/prod of float32 in float; integers in double). */
function accOf(op: ReduceOp, a: DType): MathT {
  void op;
  return mathOf(a);
}

/**
 * Reduction of rows, in "virtual rows": row r of `size` elements is split into `chunks` chunks of
 * `chunk` elements; virtual row v = r * chunks + c reduces elements [c*chunk, min(size, (c+1)*chunk))
 * and writes out[v]. With chunks = 1 it is the plain row reduction; with more, a first pass whose
 * output (of the accumulator type) the second pass reduces again. Arg-reductions carry indices:
 * they read candidate indices from `ai` when it is not null (second pass), and write the value to
 * `ov` (when not null) and the index to `oi`.
 */
function reduceKernel(name: string, op: ReduceOp, a: DType, out: DType, mode: 'warp' | 'block'): KernelDef {
  const isArg = op === 'argmax' || op === 'argmin';
  const m = accOf(op, a);
  const inf = m === 'float' ? 'ndl_inff()' : 'ndl_inf()';
  const loop = mode === 'warp'
    ? `int lane = threadIdx.x & 31;
  i64 warp = NDL_TID >> 5, nwarps = NDL_NTH >> 5;
  for (i64 v = warp; v < outer * chunks; v += nwarps) {`
    : `for (i64 v = blockIdx.x; v < outer * chunks; v += gridDim.x) {`;
  const lane = mode === 'warp' ? 'lane' : 'threadIdx.x';
  const step = mode === 'warp' ? '32' : 'blockDim.x';
  const head = `    i64 r = v / chunks, c = v - r * chunks;
    i64 lo = c * chunk, hi = lo + chunk < size ? lo + chunk : size;
    const ${CTYPE[a]} *row = a + r * size;`;
  if (isArg) {
    const MAX = op === 'argmax' ? 'true' : 'false';
    const params: Param[] = [ptr('a', a, true), ptr('ai', 'int', true), ptr('ov', a), ptr('oi', 'int'), i64('outer'), i64('size'), i64('chunk'), i64('chunks')];
    const sh = mode === 'block' ? `  __shared__ ${m} sv[33];\n  __shared__ i64 si[33];\n` : '';
    const init = `${op === 'argmax' ? '-' : ''}${inf}`;
    const combine = mode === 'warp' ? `ndl_arg_warp<${m}, ${MAX}>(best, bi);` : `ndl_arg_block<${m}, ${MAX}>(best, bi, ${init}, sv, si);`;
    const writer = mode === 'warp' ? 'lane == 0' : 'threadIdx.x == 0';
    const body = `${signature(name, params)} {
${sh}  ${loop}
${head}
    ${m} best = ${init}; i64 bi = 0x7fffffffffffffffLL;
    for (i64 j = lo + ${lane}; j < hi; j += ${step}) {
      ${m} x = ${load(a, 'row[j]', m)};
      i64 ix = ai ? (i64)ai[r * size + j] : j;
      ndl_arg_combine<${m}, ${MAX}>(best, bi, x, ix);
    }
    ${combine}
    if (${writer}) {
      if (ov) ov[v] = (${CTYPE[a]})best;
      oi[v] = (int)bi;
    }
  }
}
`;
    return { name, params, body };
  }
  const opObj = { sum: 'NdlSum()', prod: 'NdlProd()', max: 'NdlMax()', min: 'NdlMin()' }[op];
  const init = { sum: '0', prod: '1', max: `-${inf}`, min: inf }[op];
  const params: Param[] = [ptr('a', a, true), ptr('o', out), i64('outer'), i64('size'), i64('chunk'), i64('chunks')];
  const sh = mode === 'block' ? `  __shared__ ${m} sh[33];\n` : '';
  const combine = mode === 'warp' ? `acc = ndl_warp_all(acc, ${opObj});` : `acc = ndl_block_all(acc, ${opObj}, (${m})(${init}), sh);`;
  const writer = mode === 'warp' ? 'lane == 0' : 'threadIdx.x == 0';
  const body = `${signature(name, params)} {
${sh}  ${loop}
${head}
    ${m} acc = (${m})(${init});
    for (i64 j = lo + ${lane}; j < hi; j += ${step}) acc = ${opObj}(acc, ${load(a, 'row[j]', m)});
    ${combine}
    if (${writer}) o[v] = ${store(out, 'acc', m)};
  }
}
`;
  return { name, params, body };
}

/** gather / scatterAdd along one axis of arrays viewed as (outer, dim, inner); one thread per index element. */
function axisKernel(name: string, kind: 'gather' | 'scatterAdd', d: DType, wide: boolean): KernelDef {
  const T = CTYPE[d];
  const t = wide ? 'i64' : 'int';
  const params: Param[] = kind === 'gather'
    ? [ptr('src', d, true), ptr('index', 'int', true), ptr('out', d), i64('total'), i64('inner'), i64('dim'), i64('idxDim')]
    : [ptr('out', d), ptr('index', 'int', true), ptr('src', d, true), i64('total'), i64('inner'), i64('dim'), i64('idxDim')];
  const assign = kind === 'gather'
    ? `out[t] = src[(q * (${t})dim + (${t})index[t]) * (${t})inner + ii];`
    : d === 'bool'
      ? '/* bool scatterAdd runs on the host */'
      : `atomicAdd(&out[(q * (${t})dim + (${t})index[t]) * (${t})inner + ii], src[t]);`;
  void T;
  const body = `${signature(name, params)} {
  for (i64 i = NDL_TID; i < total; i += NDL_NTH) {
    ${t} t = (${t})i;
    ${t} ii = t % (${t})inner;
    ${t} q = t / ((${t})inner * (${t})idxDim);
    ${assign}
  }
}
`;
  return { name, params, body };
}

/**
 * C[b] = op(A[b]) @ op(B[b]), row-major, 16x16 tiles through shared memory: the kernel for dtypes
 * cuBLAS lacks (int32, bool) and for floats when cuBLAS is missing. Accumulates in the math type.
 */
function matmulKernel(name: string, d: DType): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const params: Param[] = [ptr('A', d, true), ptr('B', d, true), ptr('C', d), i32('m'), i32('n'), i32('k'), i32('transA'), i32('transB'), i64('sA'), i64('sB'), i32('batch')];
  void T;
  const body = `${signature(name, params)} {
  __shared__ ${m} As[16][17];
  __shared__ ${m} Bs[16][17];
  int tx = threadIdx.x, ty = threadIdx.y;
  i64 row = (i64)blockIdx.y * 16 + ty, col = (i64)blockIdx.x * 16 + tx;
  for (i64 z = blockIdx.z; z < batch; z += gridDim.z) {
    const ${CTYPE[d]} *a = A + z * sA;
    const ${CTYPE[d]} *b = B + z * sB;
    ${m} acc = 0;
    for (int t = 0; t < k; t += 16) {
      i64 ak = t + tx, bk = t + ty;
      As[ty][tx] = (row < m && ak < k) ? ${load(d, 'transA ? a[ak * m + row] : a[row * k + ak]', m)} : (${m})0;
      Bs[ty][tx] = (bk < k && col < n) ? ${load(d, 'transB ? b[col * k + bk] : b[bk * n + col]', m)} : (${m})0;
      __syncthreads();
#pragma unroll
      for (int q = 0; q < 16; q++) acc += As[ty][q] * Bs[q][tx];
      __syncthreads();
    }
    if (row < m && col < n) C[z * (i64)m * n + row * n + col] = ${store(d, 'acc', m)};
  }
}
`;
  return { name, params, body };
}

/** Row loop header shared by the row kernels (one warp or one block per row). */
function rowLoop(mode: 'warp' | 'block'): { open: string; lane: string; step: string; all: (t: string, v: string, op: string, init: string) => string; first: string } {
  if (mode === 'warp') {
    return {
      open: `int lane = threadIdx.x & 31;
  i64 warp = NDL_TID >> 5, nwarps = NDL_NTH >> 5;
  for (i64 r = warp; r < outer; r += nwarps) {`,
      lane: 'lane',
      step: '32',
      all: (_t, v, op) => `ndl_warp_all(${v}, ${op})`,
      first: 'lane == 0',
    };
  }
  return {
    open: 'for (i64 r = blockIdx.x; r < outer; r += gridDim.x) {',
    lane: 'threadIdx.x',
    step: 'blockDim.x',
    all: (t, v, op, init) => `ndl_block_all(${v}, ${op}, (${t})(${init}), sh)`,
    first: 'threadIdx.x == 0',
  };
}

function softmaxKernel(name: string, d: 'float32' | 'float64', mode: 'warp' | 'block'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const R = rowLoop(mode);
  const inf = m === 'float' ? 'ndl_inff()' : 'ndl_inf()';
  const params: Param[] = [ptr('x', d, true), ptr('o', d), i64('outer'), i64('size'), i32('logMode')];
  const body = `${signature(name, params)} {
${mode === 'block' ? `  __shared__ ${m} sh[33];\n` : ''}  ${R.open}
    const ${T} *xr = x + r * size;
    ${T} *or_ = o + r * size;
    ${m} mx = -${inf};
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) mx = ndl_max(mx, (${m})xr[j]);
    mx = ${R.all(m, 'mx', 'NdlMax()', `-${inf}`)};
    ${m} shift = (logMode && !(mx - mx == (${m})0)) ? (${m})0 : mx;
    ${m} s = 0;
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) s += ${fn('exp', m)}((${m})xr[j] - shift);
    s = ${R.all(m, 's', 'NdlSum()', '0')};
    if (logMode) {
      ${m} ls = ${fn('log', m)}(s);
      for (i64 j = ${R.lane}; j < size; j += ${R.step}) or_[j] = (${T})(((${m})xr[j] - shift) - ls);
    } else {
      for (i64 j = ${R.lane}; j < size; j += ${R.step}) or_[j] = (${T})(${fn('exp', m)}((${m})xr[j] - shift) / s);
    }
  }
}
`;
  return { name, params, body };
}

function softmaxBackwardKernel(name: string, d: 'float32' | 'float64', mode: 'warp' | 'block'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const R = rowLoop(mode);
  const params: Param[] = [ptr('y', d, true), ptr('g', d, true), ptr('o', d), i64('outer'), i64('size'), i32('logMode')];
  const body = `${signature(name, params)} {
${mode === 'block' ? `  __shared__ ${m} sh[33];\n` : ''}  ${R.open}
    const ${T} *yr = y + r * size;
    const ${T} *gr = g + r * size;
    ${T} *or_ = o + r * size;
    ${m} s = 0;
    if (logMode) { for (i64 j = ${R.lane}; j < size; j += ${R.step}) s += (${m})gr[j]; }
    else { for (i64 j = ${R.lane}; j < size; j += ${R.step}) s += (${m})gr[j] * (${m})yr[j]; }
    s = ${R.all(m, 's', 'NdlSum()', '0')};
    if (logMode) { for (i64 j = ${R.lane}; j < size; j += ${R.step}) or_[j] = (${T})((${m})gr[j] - ${fn('exp', m)}((${m})yr[j]) * s); }
    else { for (i64 j = ${R.lane}; j < size; j += ${R.step}) or_[j] = (${T})((${m})yr[j] * ((${m})gr[j] - s)); }
  }
}
`;
  return { name, params, body };
}

function layerNormKernel(name: string, d: 'float32' | 'float64', mode: 'warp' | 'block'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const R = rowLoop(mode);
  const params: Param[] = [
    ptr('x', d, true), ptr('w', d, true), ptr('b', d, true), ptr('o', d), ptr('mean', d), ptr('rstd', d),
    i64('outer'), i64('size'), scal('eps', m),
  ];
  const body = `${signature(name, params)} {
${mode === 'block' ? `  __shared__ ${m} sh[33];\n` : ''}  ${R.open}
    const ${T} *xr = x + r * size;
    ${T} *or_ = o + r * size;
    ${m} s = 0;
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) s += (${m})xr[j];
    s = ${R.all(m, 's', 'NdlSum()', '0')};
    ${m} mu = s / (${m})size;
    ${m} q = 0;
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) { ${m} dv = (${m})xr[j] - mu; q += dv * dv; }
    q = ${R.all(m, 'q', 'NdlSum()', '0')};
    ${m} rs = (${m})1 / ${fn('sqrt', m)}(q / (${m})size + eps);
    if (${R.first}) { mean[r] = (${T})mu; rstd[r] = (${T})rs; }
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) {
      ${m} yv = ((${m})xr[j] - mu) * rs;
      if (w) yv *= (${m})w[j];
      if (b) yv += (${m})b[j];
      or_[j] = (${T})yv;
    }
  }
}
`;
  return { name, params, body };
}

function layerNormBackwardKernel(name: string, d: 'float32' | 'float64', mode: 'warp' | 'block'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const R = rowLoop(mode);
  const params: Param[] = [
    ptr('g', d, true), ptr('x', d, true), ptr('w', d, true), ptr('mean', d, true), ptr('rstd', d, true), ptr('gx', d),
    i64('outer'), i64('size'),
  ];
  const gh = `(w ? (${m})gr[j] * (${m})w[j] : (${m})gr[j])`;
  const body = `${signature(name, params)} {
${mode === 'block' ? `  __shared__ ${m} sh[33];\n` : ''}  ${R.open}
    const ${T} *xr = x + r * size;
    const ${T} *gr = g + r * size;
    ${T} *gxr = gx + r * size;
    ${m} mu = (${m})mean[r], rs = (${m})rstd[r];
    ${m} a = 0, c = 0;
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) { ${m} h = ${gh}; a += h; c += h * ((${m})xr[j] - mu) * rs; }
    a = ${R.all(m, 'a', 'NdlSum()', '0')};
    c = ${R.all(m, 'c', 'NdlSum()', '0')};
    a /= (${m})size;
    c /= (${m})size;
    for (i64 j = ${R.lane}; j < size; j += ${R.step}) { ${m} h = ${gh}; gxr[j] = (${T})(rs * (h - a - ((${m})xr[j] - mu) * rs * c)); }
  }
}
`;
  return { name, params, body };
}

/** gw[j] = sum_r g[r,j] * xhat[r,j], gb[j] = sum_r g[r,j]: blocks of 32 columns x 8 row groups. */
function layerNormParamGradKernel(name: string, d: 'float32' | 'float64'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const params: Param[] = [
    ptr('g', d, true), ptr('x', d, true), ptr('mean', d, true), ptr('rstd', d, true), ptr('gw', d), ptr('gb', d),
    i64('outer'), i64('size'),
  ];
  const body = `${signature(name, params)} {
  __shared__ ${m} sw[8][33];
  __shared__ ${m} sb[8][33];
  int tx = threadIdx.x, ty = threadIdx.y;
  for (i64 j0 = (i64)blockIdx.x * 32; j0 < size; j0 += (i64)gridDim.x * 32) {
    i64 j = j0 + tx;
    ${m} aw = 0, ab = 0;
    if (j < size) {
      for (i64 r = ty; r < outer; r += 8) {
        ${m} gv = (${m})g[r * size + j];
        aw += gv * ((${m})x[r * size + j] - (${m})mean[r]) * (${m})rstd[r];
        ab += gv;
      }
    }
    sw[ty][tx] = aw;
    sb[ty][tx] = ab;
    __syncthreads();
    if (ty == 0 && j < size) {
      for (int q = 1; q < 8; q++) { aw += sw[q][tx]; ab += sb[q][tx]; }
      if (gw) gw[j] = (${T})aw;
      if (gb) gb[j] = (${T})ab;
    }
    __syncthreads();
  }
}
`;
  return { name, params, body };
}

/** One Adam/AdamW step; every operation rounded as the reference does (no FMA contraction). */
function adamKernel(name: string, d: 'float32' | 'float64'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const params: Param[] = [
    ptr('p', d, true), ptr('g', d, true), ptr('ma', d, true), ptr('va', d, true), ptr('po', d), ptr('mo', d), ptr('vo', d), i64('n'),
    scal('b1', m), scal('b2', m), scal('c1', m), scal('c2', m), scal('decay', m), scal('l2', m), scal('negStep', m), scal('bc2s', m), scal('eps', m), scal('sgn', m),
  ];
  const body = `${signature(name, params)} {
  for (i64 i = NDL_TID; i < n; i += NDL_NTH) {
    ${m} pi = p[i];
    ${m} gi = sgn * (${m})g[i];
    if (l2 != (${m})0) gi = ndl_add(gi, ndl_mul(l2, pi));
    if (decay != (${m})1) pi = ndl_mul(pi, decay);
    ${m} mi = ndl_add(ndl_mul(b1, (${m})ma[i]), ndl_mul(c1, gi));
    ${m} vi = ndl_add(ndl_mul(b2, (${m})va[i]), ndl_mul(c2, ndl_mul(gi, gi)));
    ${m} denom = ndl_add(ndl_div(ndl_sqrt(vi), bc2s), eps);
    po[i] = (${T})ndl_add(pi, ndl_mul(negStep, ndl_div(mi, denom)));
    mo[i] = (${T})mi;
    vo[i] = (${T})vi;
  }
}
`;
  return { name, params, body };
}

/**
 * Bernoulli draws from a Philox4x32-10 stream (Backend.philoxBernoulli; src/ndarray/cpu/philox.ts is
 * the reference): element i takes words phase + 2i and phase + 2i + 1 of the stream that starts at
 * block `counter`. One thread per Philox block t (counter + t as a 64-bit counter: low word c0,
 * high word c1): it writes the elements whose first word lies in that block (at most two). With an
 * odd phase the second word of the last one is word 0 of block t + 1, computed as well. The
 * uniform ((w1 >> 5) * 2^26 + (w2 >> 6)) / 2^53 is exact in double, so results are bitwise the
 * reference's.
 */
function philoxBernoulliKernel(name: string, d: DType): KernelDef {
  const T = CTYPE[d];
  const params: Param[] = [ptr('o', d), i64('n'), i32('key0'), i32('key1'), i64('counter'), i32('phase'), scal('p', 'double'), valueParam(d)];
  const u = (w1: string, w2: string) => `((double)(${w1} >> 5) * 67108864.0 + (double)(${w2} >> 6)) / 9007199254740992.0 < p`;
  const body = `${signature(name, params)} {
  unsigned k0 = (unsigned)key0, k1 = (unsigned)key1;
  i64 blocks = (phase + 2 * n - 2) / 4 + 1;
  for (i64 t = NDL_TID; t < blocks; t += NDL_NTH) {
    unsigned w[4];
    ndl_philox((unsigned long long)counter + (unsigned long long)t, k0, k1, w);
    i64 i = 2 * t - (phase >> 1);
    unsigned x0 = w[0], x1 = w[1], y0 = w[2], y1 = w[3];
    if (phase & 1) {
      x0 = w[1]; x1 = w[2]; y0 = w[3]; y1 = 0u;
      if (i + 1 < n) {
        ndl_philox((unsigned long long)counter + (unsigned long long)t + 1ull, k0, k1, w);
        y1 = w[0];
      }
    }
    if (i >= 0) o[i] = ${u('x0', 'x1')} ? value : (${T})0;
    if (i + 1 < n) o[i + 1] = ${u('y0', 'y1')} ? value : (${T})0;
  }
}
`;
  return { name, params, body };
}

/**
 * Reduction of the middle axis of a compact (outer, size, inner) array (Backend.reduceAxis; the
 * reference is src/ndarray/cpu/strided.ts): one thread per output element (o, i), reading
 * a[o, r, i] in the order r = 0, 1, ... (coalesced over i), in double like the reference's Float64Array
 * accumulator: sums from +0, products from 1, max/min/arg from the first element, NaN sticky (the
 * first NaN wins), ties keep the first. In "virtual" chunks like the row reduction: thread
 * (o, c, i) reduces r in [c * chunk, min(size, (c + 1) * chunk)) and writes element
 * (o * chunks + c) * inner + i, so a first pass over chunks of a few long columns writes
 * partial results (sums in float64, max/min in the input dtype, arg values and absolute indices)
 * that a second pass over (outer, chunks, inner) reduces in chunk order. Arg reductions read
 * candidate indices from `ai` when it is not null (second pass) and write the value to `ov` when
 * it is not null (first pass) and the index to `oi`.
 */
function reduceAxisKernel(name: string, op: ReduceOp, a: DType, out: DType): KernelDef {
  const isArg = op === 'argmax' || op === 'argmin';
  const A = CTYPE[a];
  const head = `  i64 total = outer * chunks * inner;
  for (i64 t = NDL_TID; t < total; t += NDL_NTH) {
    i64 i = t % inner, v = t / inner, o = v / chunks, c = v - o * chunks;
    i64 lo = c * chunk, hi = lo + chunk < size ? lo + chunk : size;
    const ${A} *col = a + (o * size + lo) * inner + i;`;
  if (isArg) {
    const params: Param[] = [ptr('a', a, true), ptr('ai', 'int', true), ptr('ov', a), ptr('oi', 'int'), i64('outer'), i64('size'), i64('inner'), i64('chunk'), i64('chunks')];
    const cmp = op === 'argmax' ? 'x > m' : 'x < m';
    const body = `${signature(name, params)} {
${head}
    const int *icol = ai ? ai + (o * size + lo) * inner + i : (const int *)0;
    double m = (double)col[0];
    i64 best = icol ? (i64)icol[0] : lo;
    for (i64 r = 1; r < hi - lo; r++) {
      if (m != m) break;
      double x = (double)col[r * inner];
      if (x != x || ${cmp}) { m = x; best = icol ? (i64)icol[r * inner] : lo + r; }
    }
    if (ov) ov[t] = (${A})m;
    oi[t] = (int)best;
  }
}
`;
    return { name, params, body };
  }
  const params: Param[] = [ptr('a', a, true), ptr('o_', out), i64('outer'), i64('size'), i64('inner'), i64('chunk'), i64('chunks')];
  let loop: string;
  switch (op) {
    case 'sum': loop = `double m = 0.0;
    for (i64 r = 0; r < hi - lo; r++) m += (double)col[r * inner];`; break;
    case 'prod': loop = `double m = 1.0;
    for (i64 r = 0; r < hi - lo; r++) m *= (double)col[r * inner];`; break;
    default: {
      const cmp = op === 'max' ? 'x > m' : 'x < m';
      loop = `double m = (double)col[0];
    for (i64 r = 1; r < hi - lo; r++) {
      if (m != m) break;
      double x = (double)col[r * inner];
      if (x != x || ${cmp}) m = x;
    }`;
    }
  }
  const body = `${signature(name, params)} {
${head}
    ${loop}
    o_[t] = ${store(out, 'm', 'double')};
  }
}
`;
  return { name, params, body };
}

/**
 * `op` of two strided views of the output's shape (Backend.binaryStrided; broadcast dims have
 * stride 0) into a compact output, one thread per output element: its row-major index is split
 * over the dims (shared by both views, at most NDL_MAXD after coalescing, 32-bit positions) into
 * one position per operand. Arithmetic as the compact binary kernel of two `a` operands.
 */
function binaryStridedKernel(name: string, op: BinaryOp, a: DType, out: DType): KernelDef {
  const m = mathOf(a);
  const e = binaryExpr(op, 'x', 'y', m, out);
  const params: Param[] = [
    ptr('a', a, true), ptr('b', a, true), ptr('o', out),
    { name: 'da', kind: 'dims32', ctype: 'NdlDims32' }, i32('offA'), { name: 'db', kind: 'dims32', ctype: 'NdlDims32' }, i32('offB'), i64('n'),
  ];
  const body = `${signature(name, params)} {
  for (i64 i = NDL_TID; i < n; i += NDL_NTH) {
    int r_ = (int)i, pa = offA, pb = offB;
    for (int k = da.nd - 1; k >= 0; k--) {
      int s_ = da.shape[k], q_ = r_ / s_, x_ = r_ - q_ * s_;
      pa += x_ * da.stride[k];
      pb += x_ * db.stride[k];
      r_ = q_;
    }
    ${m} x = ${load(a, 'a[pa]', m)}; ${m} y = ${load(a, 'b[pb]', m)};
    o[i] = ${storeOp(out, e, m)};
  }
}
`;
  return { name, params, body };
}

/**
 * The loop over the m = n * inner elements of channel `ch` of a compact (n, c, inner) array, one
 * block per channel: `p` is the element's position (coalesced over inner).
 */
function channelLoop(stmt: string): string {
  return `for (i64 j = threadIdx.x; j < m; j += blockDim.x) {
      i64 i = j / inner, p = (i * c + ch) * inner + (j - i * inner);
      ${stmt}
    }`;
}

/**
 * Training batch normalization (Backend.batchNorm; the reference is cpuFused.batchNorm), one block
 * per channel: the sum of x, then the sum of the squared deviations (each a float64 block
 * reduction), then the normalized output. Every other operation is rounded in the dtype as the
 * reference does (`ndl_add` and friends: no FMA contraction), so float32 results equal the
 * reference's up to the order of the float64 sums.
 */
function batchNormKernel(name: string, d: 'float32' | 'float64'): KernelDef {
  const T = CTYPE[d];
  const m = mathOf(d);
  const params: Param[] = [
    ptr('x', d, true), ptr('w', d, true), ptr('b', d, true), ptr('o', d), ptr('mean', d), ptr('vr', d), ptr('rstd', d),
    ptr('rm', d, true), ptr('rv', d, true), ptr('rmo', d), ptr('rvo', d), i64('n'), i64('c'), i64('inner'),
    scal('eps', m), scal('fm', m), scal('keep', m), scal('mom', m), scal('unbias', m),
  ];
  const body = `${signature(name, params)} {
  __shared__ double sh[33];
  i64 m = n * inner;
  for (i64 ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double s = 0.0;
    ${channelLoop('s += (double)x[p];')}
    s = ndl_block_all(s, NdlSum(), 0.0, sh);
    ${T} mu = ndl_div((${T})s, fm);
    double q = 0.0;
    ${channelLoop(`${T} dv = ndl_add(x[p], -mu); q += (double)ndl_mul(dv, dv);`)}
    q = ndl_block_all(q, NdlSum(), 0.0, sh);
    ${T} v = ndl_div((${T})q, fm);
    ${T} r = (${T})ndl_div(1.0, ndl_sqrt((double)ndl_add(v, eps)));
    ${T} wc = w ? w[ch] : (${T})1, bc = b ? b[ch] : (${T})0;
    ${channelLoop(`${T} y = ndl_mul(ndl_add(x[p], -mu), r);
      if (w) y = ndl_mul(y, wc);
      if (b) y = ndl_add(y, bc);
      o[p] = y;`)}
    if (threadIdx.x == 0) {
      mean[ch] = mu;
      vr[ch] = v;
      rstd[ch] = r;
      if (rmo) {
        rmo[ch] = ndl_add(ndl_mul(rm[ch], keep), ndl_mul(mu, mom));
        rvo[ch] = ndl_add(ndl_mul(rv[ch], keep), ndl_mul(ndl_mul(v, unbias), mom));
      }
    }
  }
}
`;
  return { name, params, body };
}

/**
 * The vjp of batchNorm (Backend.batchNormBackward; the reference is cpuFused.batchNormBackward),
 * one block per channel, in float64 like the reference: the sums of g and g * xhat (block
 * reductions), then gw, gb and gx (each written only when its pointer is not null).
 */
function batchNormBackwardKernel(name: string, d: 'float32' | 'float64'): KernelDef {
  const T = CTYPE[d];
  const params: Param[] = [
    ptr('g', d, true), ptr('x', d, true), ptr('w', d, true), ptr('mean', d, true), ptr('rstd', d, true),
    ptr('gx', d), ptr('gw', d), ptr('gb', d), i64('n'), i64('c'), i64('inner'),
  ];
  const body = `${signature(name, params)} {
  __shared__ double sh[33];
  i64 m = n * inner;
  for (i64 ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double mu = (double)mean[ch], rs = (double)rstd[ch], wc = w ? (double)w[ch] : 1.0;
    double sg = 0.0, sgx = 0.0;
    ${channelLoop('double gv = (double)g[p]; sg += gv; sgx += gv * (((double)x[p] - mu) * rs);')}
    sg = ndl_block_all(sg, NdlSum(), 0.0, sh);
    sgx = ndl_block_all(sgx, NdlSum(), 0.0, sh);
    if (threadIdx.x == 0) {
      if (gw) gw[ch] = (${T})sgx;
      if (gb) gb[ch] = (${T})sg;
    }
    if (gx) {
      double a = (sg * wc) / (double)m, cc = (sgx * wc) / (double)m;
      ${channelLoop('double xh = ((double)x[p] - mu) * rs; gx[p] = (' + T + ')(rs * ((double)g[p] * wc - a - xh * cc));')}
    }
  }
}
`;
  return { name, params, body };
}

/**
 * The window kernels of 2-D convolution (Backend.im2col / col2im, Im2colSpec; the reference is
 * src/ndarray/cpu/conv.ts), one thread per output element. im2col: column entry (p, i, j, y, x)
 * copies image element (p, y * sh + i * dh - ph, x * sw + j * dw - pw), 0 in the padding.
 * col2im: image element (p, r, q) sums, from +0 in ascending (i, j) order (the reference's
 * order for each element), the column entries (p, i, j, y, x) with y * sh + i * dh - ph = r and
 * x * sw + j * dw - pw = q, so float results are bitwise the reference's.
 */
function windowKernel(name: string, kind: 'im2col' | 'col2im', d: DType): KernelDef {
  const T = CTYPE[d];
  const geo = ['planes', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'ph', 'pw'].map(i32);
  const params: Param[] = kind === 'im2col'
    ? [ptr('img', d, true), ptr('out', d), i64('total'), ...geo]
    : [ptr('cols', d, true), ptr('out', d), i64('total'), ...geo];
  const body = kind === 'im2col'
    ? `${signature(name, params)} {
  i64 plane = (i64)h * w;
  for (i64 t = NDL_TID; t < total; t += NDL_NTH) {
    i64 u = t;
    int x = (int)(u % ow); u /= ow;
    int y = (int)(u % oh); u /= oh;
    int j = (int)(u % kw); u /= kw;
    int i = (int)(u % kh);
    i64 p = u / kh;
    int r = y * sh + i * dh - ph, q = x * sw + j * dw - pw;
    out[t] = (r >= 0 && r < h && q >= 0 && q < w) ? img[p * plane + (i64)r * w + q] : (${T})0;
  }
}
`
    : `${signature(name, params)} {
  i64 P = (i64)oh * ow;
  for (i64 t = NDL_TID; t < total; t += NDL_NTH) {
    i64 u = t;
    int q = (int)(u % w); u /= w;
    int r = (int)(u % h);
    i64 p = u / h;
    ${T} acc = (${T})0;
    for (int i = 0; i < kh; i++) {
      int ty = r + ph - i * dh;
      if (ty < 0) break;
      if (ty % sh != 0 || ty / sh >= oh) continue;
      int y = ty / sh;
      for (int j = 0; j < kw; j++) {
        int tx = q + pw - j * dw;
        if (tx < 0) break;
        if (tx % sw != 0 || tx / sw >= ow) continue;
        acc = ndl_add(acc, cols[((p * kh + i) * kw + j) * P + (i64)y * ow + tx / sw]);
      }
    }
    out[t] = acc;
  }
}
`;
  return { name, params, body };
}

// ------------------------------------------------------------------------------------ catalog

/**
 * Every kernel the backend can ask for with the dtype combinations the op layer produces (inputs
 * of one dtype, comparison outputs bool, arg-reduction outputs int32, and the two-pass
 * reductions' accumulator outputs). Used by the tests to compile everything at once.
 */
export function allKernelSpecs(): KernelSpec[] {
  const out: KernelSpec[] = [];
  const floats = ['float32', 'float64'] as const;
  for (const d of DTYPES) {
    out.push({ kind: 'fill', dtype: d, strided: false });
    for (const wide of [false, true]) {
      out.push({ kind: 'fill', dtype: d, strided: true, wide });
      out.push({ kind: 'compact', dtype: d, wide }, { kind: 'setitem', dtype: d, wide });
      out.push({ kind: 'gather', dtype: d, wide });
      if (d !== 'bool') out.push({ kind: 'scatterAdd', dtype: d, wide });
    }
    for (const op of UNARY_OPS) out.push({ kind: 'unary', op, a: d, out: op === 'isnan' || op === 'logicalNot' ? 'bool' : d });
    for (const op of BINARY_OPS) {
      const o = COMPARISON_OPS.has(op) ? 'bool' : d;
      out.push({ kind: 'binary', op, a: d, b: d, out: o });
      out.push({ kind: 'binaryStrided', op, a: d, out: o });
      out.push({ kind: 'scalar', op, a: d, out: o, math: mathOf(d) });
      if (d === 'float32') out.push({ kind: 'scalar', op, a: d, out: o, math: 'double' });
    }
    out.push({ kind: 'where', a: d, b: d, out: d });
    for (const o of DTYPES) if (o !== d) out.push({ kind: 'cast', a: d, out: o });
    for (const op of REDUCE_OPS) {
      for (const mode of ['warp', 'block'] as const) {
        const isArg = op === 'argmax' || op === 'argmin';
        out.push({ kind: 'reduce', op, a: d, out: isArg ? 'int32' : d, mode });
        const acc = reduceAccDtype(op, d);
        if (!isArg && acc !== d) {
          out.push({ kind: 'reduce', op, a: d, out: acc, mode });
          out.push({ kind: 'reduce', op, a: acc, out: d, mode });
        }
      }
    }
    out.push({ kind: 'matmul', dtype: d });
    out.push({ kind: 'philoxBernoulli', dtype: d }, { kind: 'im2col', dtype: d });
    for (const op of REDUCE_OPS) {
      const isArg = op === 'argmax' || op === 'argmin';
      out.push({ kind: 'reduceAxis', op, a: d, out: isArg ? 'int32' : d });
      // the partial results of split columns: sums and products in float64
      if ((op === 'sum' || op === 'prod') && d !== 'float64') {
        out.push({ kind: 'reduceAxis', op, a: d, out: 'float64' }, { kind: 'reduceAxis', op, a: 'float64', out: d });
      }
    }
  }
  for (const d of floats) {
    for (const mode of ['warp', 'block'] as const) {
      out.push({ kind: 'softmax', dtype: d, mode }, { kind: 'softmaxBackward', dtype: d, mode });
      out.push({ kind: 'layerNorm', dtype: d, mode }, { kind: 'layerNormBackward', dtype: d, mode });
    }
    out.push({ kind: 'layerNormParamGrad', dtype: d }, { kind: 'adam', dtype: d });
    out.push({ kind: 'batchNorm', dtype: d }, { kind: 'batchNormBackward', dtype: d }, { kind: 'col2im', dtype: d });
  }
  return out;
}

/** The dtype of a two-pass reduction's partial results (its accumulator, stored exactly). */
export function reduceAccDtype(op: ReduceOp, a: DType): DType {
  if (op === 'argmax' || op === 'argmin' || op === 'max' || op === 'min') return a;
  return a === 'float32' ? 'float32' : 'float64';
}

/** One translation unit holding every kernel of `specs` (the prelude once). */
export function combinedSource(specs: readonly KernelSpec[]): string {
  const seen = new Set<string>();
  let src = PRELUDE;
  for (const s of specs) {
    const def = kernelDef(s);
    if (seen.has(def.name)) continue;
    seen.add(def.name);
    src += def.body;
  }
  return src;
}

/** A 53-bit hash of a string (cyrb53): the NVRTC cache's key in logs and file names. */
export function sourceHash(s: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
