/**
 * Elementwise kernels of the wasm backend: fill, cast, unary, binary, binaryScalar, where.
 * WebAssembly SIMD kernels (assembly/elementwise*.ts), one export per (kind, dtype, op), split
 * over threads for large sizes. Cases without a WebAssembly kernel fall back to the reference
 * kernels on the same memory:
 * - binary/binaryScalar: div and pow on int32 and bool; a scalar the dtype cannot hold exactly
 *   (a float32 op with a scalar that is not a float32 value, a non-int32 scalar on int32, ...);
 * - unary: on int32/bool everything but neg/abs/sign/relu/floor/ceil/round/logicalNot/isnan
 *   (erf included; float32/float64 have a kernel for every unary op);
 * - any call whose output dtype is not the one the op layer gives (the reference decides then).
 *
 * Results equal the reference's bit for bit (NaN payloads aside) except float32 exp/log/tanh/
 * sigmoid (SIMD polynomials: at most 2 ulp from Math.* rounded to float32, exact for over 97% of
 * inputs) and the float64 exp/log/log1p/sin/cos/sigmoid/pow (AssemblyScript's musl Math.*: within
 * 2 ulp of V8's); float64 expm1/tanh port V8's fdlibm code, and float32 log1p/expm1/sin/cos/pow
 * round the float64 functions once (equal to the reference's on all inputs tested). erf ports the
 * reference's series / continued fraction (cpu/math.ts) operation for operation, but its Math.exp
 * is musl's rather than V8's: float64 within 6 ulp of the reference (at most 4 seen, about 95% of
 * inputs exact, |x| >= 3 all but exact); float32, the float64 function rounded once, equals the
 * reference on every float32 input (checked exhaustively).
 */
import type { Backend, BinaryOp, Dense, Strided, UnaryOp } from '../backend.js';
import type { DType } from '../dtype.js';
import { cpuBackend } from '../cpu/index.js';
import { BYTES } from './heap.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';

/** Elements per thread below which splitting a streaming kernel costs more than it saves. */
export const STREAM_GRAIN = 1 << 18;
/** Elements per thread for the polynomial float32 functions (exp, log, tanh, sigmoid). */
export const MATH_GRAIN = 1 << 16;
/** Elements per thread for kernels calling a scalar float64 function per element. */
export const SCALAR_GRAIN = 1 << 14;
/** Elements per thread for erf (a series of up to ~60 terms, or a 60-step continued fraction). */
export const ERF_GRAIN = 1 << 11;

/** Kernel-name suffix of each dtype. */
const SUFFIX: { [K in DType]: string } = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'u8' };

/** op(s, a) = mirror(a, s). */
const MIRROR: Partial<Record<BinaryOp, BinaryOp>> = { lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };
/** Ops with op(s, a) = op(a, s) bit for bit on every dtype. */
const COMMUTATIVE: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['add', 'mul', 'eq', 'ne', 'logicalAnd', 'logicalOr']);
/** Binary ops that return bool. */
const BOOL_OUT: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr']);

/** Unary ops with a kernel, per dtype (the identity ops of the integer dtypes are copies). */
const UNARY_KERNEL: { [K in DType]: ReadonlySet<UnaryOp> } = {
  float32: new Set<UnaryOp>([
    'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos',
    'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isnan',
  ]),
  float64: new Set<UnaryOp>([
    'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos',
    'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isnan',
  ]),
  int32: new Set<UnaryOp>(['neg', 'abs', 'sign', 'relu', 'logicalNot', 'isnan']),
  bool: new Set<UnaryOp>(['neg', 'sign', 'logicalNot', 'isnan']),
};
/** Unary ops that are the identity on a dtype (int32: floor/ceil/round; bool: also abs/relu). */
const UNARY_IDENTITY: { [K in DType]: ReadonlySet<UnaryOp> } = {
  float32: new Set(),
  float64: new Set(),
  int32: new Set<UnaryOp>(['floor', 'ceil', 'round']),
  bool: new Set<UnaryOp>(['abs', 'relu', 'floor', 'ceil', 'round']),
};
const POLY_F32: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['exp', 'log', 'tanh', 'sigmoid']);
const SCALAR_MATH: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid']);

/** Op codes of the strided kernels (assembly/elementwise_binary.ts); ops without one decline. */
const STRIDED_OP: Partial<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 5, minimum: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
};

/**
 * The layout of a strided binary op as the kernel takes it: the output's shape without size-1
 * dims, adjacent dims merged where both operands allow, at most three dims (d0, d1, n) whose last
 * one is contiguous in both operands (mode 0) or contiguous in one and broadcast in the other
 * (mode 1: b broadcast, 2: a broadcast). Null for any other layout.
 */
export function planStrided(a: Strided, b: Strided): { dims: number[]; sa: number[]; sb: number[]; mode: number } | null {
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < a.shape.length; i++) {
    const d = a.shape[i]!;
    if (d === 1) continue;
    const k = dims.length - 1;
    if (k >= 0 && sa[k] === a.strides[i]! * d && sb[k] === b.strides[i]! * d) {
      // merge with the previous dim
      dims[k] = dims[k]! * d;
      sa[k] = a.strides[i]!;
      sb[k] = b.strides[i]!;
    } else {
      dims.push(d);
      sa.push(a.strides[i]!);
      sb.push(b.strides[i]!);
    }
  }
  if (dims.length === 0 || dims.length > 3) return null;
  const last = dims.length - 1;
  const ia = sa[last]!;
  const ib = sb[last]!;
  const mode = ia === 1 && ib === 1 ? 0 : ia === 1 && ib === 0 ? 1 : ia === 0 && ib === 1 ? 2 : -1;
  if (mode < 0) return null;
  while (dims.length < 3) {
    dims.unshift(1);
    sa.unshift(0);
    sb.unshift(0);
  }
  // rows of a few elements each: one compact copy and the streaming kernel cost less
  if (dims[2]! < 16 && dims[0]! * dims[1]! > 4096) return null;
  return { dims, sa, sb, mode };
}

/** Elements per thread for unary `op` on `dt`. */
function unaryGrain(op: UnaryOp, dt: DType): number {
  if (dt === 'float32' && POLY_F32.has(op)) return MATH_GRAIN;
  if (op === 'erf') return ERF_GRAIN;
  if (SCALAR_MATH.has(op) || op === 'rsqrt') return SCALAR_GRAIN;
  return STREAM_GRAIN;
}

/** Whether `s` converts to `dt` exactly (so that the kernel's scalar equals the reference's). */
function scalarFits(dt: DType, s: number): boolean {
  switch (dt) {
    case 'float32': return Math.fround(s) === s || s !== s;
    case 'float64': return true;
    case 'int32': return (s | 0) === s;
    case 'bool': return Number.isInteger(s) && s >= 0 && s <= 255;
  }
}

/** Kernel names by key, built once (and null where there is no kernel). */
function nameCache(rt: WasmRuntime): (name: string) => string | null {
  const cache = new Map<string, string | null>();
  return (name) => {
    let k = cache.get(name);
    if (k === undefined) {
      k = typeof rt.exports[name] === 'function' ? name : null;
      cache.set(name, k);
    }
    return k;
  };
}

/** The elementwise members of the wasm backend. */
export function elementwiseKernels(rt: WasmRuntime): Partial<Backend> {
  const kernel = nameCache(rt);
  const ref = cpuBackend;
  const dtypeOf = (d: Dense): DType => d.storage.dtype;

  return {
    fill(out, size, value) {
      const dt = out.storage.dtype;
      const k = dt === 'float32' ? 'fill_f32' : dt === 'float64' ? 'fill_f64' : dt === 'int32' ? 'fill_i32' : 'fill_u8';
      rt.run(k, [ptrOf(out), size, dt === 'bool' ? (value !== 0 ? 1 : 0) : value], partsFor(rt, size, STREAM_GRAIN));
    },

    cast(src, out, size) {
      const from = dtypeOf(src);
      const to = dtypeOf(out);
      if (size <= 0) return;
      if (from === to && to !== 'bool') {
        rt.run('ew_copy', [ptrOf(src), ptrOf(out), size, BYTES[to]], partsFor(rt, size, STREAM_GRAIN));
        return;
      }
      const k = kernel(`ew_cast_${SUFFIX[from]}_${SUFFIX[to]}`);
      if (k === null) return ref.cast(src, out, size);
      rt.run(k, [ptrOf(src), ptrOf(out), size], partsFor(rt, size, STREAM_GRAIN));
    },

    unary(op, a, out, size) {
      const dt = dtypeOf(a);
      const outDt = op === 'isnan' || op === 'logicalNot' ? 'bool' : dt;
      if (dtypeOf(out) !== outDt) return ref.unary(op, a, out, size);
      if (size <= 0) return;
      if (UNARY_IDENTITY[dt].has(op)) {
        rt.run('ew_copy', [ptrOf(a), ptrOf(out), size, BYTES[dt]], partsFor(rt, size, STREAM_GRAIN));
        return;
      }
      if (!UNARY_KERNEL[dt].has(op)) return ref.unary(op, a, out, size);
      rt.run(`ew_unary_${SUFFIX[dt]}_${op}`, [ptrOf(a), ptrOf(out), size], partsFor(rt, size, unaryGrain(op, dt)));
    },

    binary(op, a, b, out, size) {
      const dt = dtypeOf(a);
      if (dtypeOf(b) !== dt || dtypeOf(out) !== (BOOL_OUT.has(op) ? 'bool' : dt)) return ref.binary(op, a, b, out, size);
      if (size <= 0) return;
      const k = kernel(`ew_binary_${SUFFIX[dt]}_${op}`);
      if (k === null) return ref.binary(op, a, b, out, size);
      rt.run(k, [ptrOf(a), ptrOf(b), ptrOf(out), size], partsFor(rt, size, op === 'pow' ? SCALAR_GRAIN : STREAM_GRAIN));
    },

    binaryScalar(op, a, s, out, size, reversed) {
      const dt = dtypeOf(a);
      if (dtypeOf(out) !== (BOOL_OUT.has(op) ? 'bool' : dt) || !scalarFits(dt, s)) {
        return ref.binaryScalar(op, a, s, out, size, reversed);
      }
      if (size <= 0) return;
      let kop = op;
      let rev = reversed;
      if (rev) {
        const m = MIRROR[op];
        if (m !== undefined) {
          kop = m;
          rev = false;
        } else if (COMMUTATIVE.has(op) || ((dt === 'int32' || dt === 'bool') && (op === 'maximum' || op === 'minimum'))) {
          rev = false;
        }
      }
      const k = kernel(`ew_${rev ? 'rscalar' : 'scalar'}_${SUFFIX[dt]}_${kop}`);
      if (k === null) return ref.binaryScalar(op, a, s, out, size, reversed);
      rt.run(k, [ptrOf(a), s, ptrOf(out), size], partsFor(rt, size, op === 'pow' ? SCALAR_GRAIN : STREAM_GRAIN));
    },

    binaryStrided(op, a, b, out, size) {
      const dt = dtypeOf(a);
      const code = STRIDED_OP[op];
      if ((dt !== 'float32' && dt !== 'float64') || dtypeOf(b) !== dt || code === undefined) return false;
      if (dtypeOf(out) !== (BOOL_OUT.has(op) ? 'bool' : dt)) return false;
      if (size <= 0) return true;
      const plan = planStrided(a, b);
      if (plan === null) return false;
      const { dims, sa, sb, mode } = plan;
      const parts = Math.min(dims[0]! * dims[1]!, partsFor(rt, size, STREAM_GRAIN));
      rt.run(`ew_strided_${SUFFIX[dt]}`, [
        code, ptrOf(a), ptrOf(b), ptrOf(out), dims[0]!, dims[1]!, dims[2]!, sa[0]!, sa[1]!, sb[0]!, sb[1]!, mode,
      ], parts);
      return true;
    },

    where(cond, a, b, out, size) {
      const dt = dtypeOf(out);
      if (dtypeOf(cond) !== 'bool' || dtypeOf(a) !== dt || dtypeOf(b) !== dt) return ref.where(cond, a, b, out, size);
      if (size <= 0) return;
      rt.run(`ew_where_${BYTES[dt] * 8}`, [ptrOf(cond), ptrOf(a), ptrOf(b), ptrOf(out), size], partsFor(rt, size, STREAM_GRAIN));
    },
  };
}

export { cpuBackend as reference };
