/**
 * Elementwise primitives: unary math, binary arithmetic with broadcasting and PyTorch type
 * promotion, comparisons, where, clamp and dtype casts. For elementwise ops the Jacobian is
 * diagonal, so one `chain(v)` rule (v times the local derivative) serves as both vjp and jvp.
 */
import { apply, defineOp, type OpContext, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { getBackend, type BinaryOp, type UnaryOp } from '../ndarray/backend.js';
import { binaryNd, unaryNd, whereNd } from '../ndarray/compute.js';
import { isFloating, type DType } from '../ndarray/dtype.js';
import { NDArray } from '../ndarray/ndarray.js';
import { typeError } from '../errors.js';
import { deviceOf, expectTensor, promote, scalarTensor, zerosLikeT, type TensorLike } from './util.js';

// ---------------------------------------------------------------- cast

export const castOp: OpDef<{ dtype: DType }> = defineOp<{ dtype: DType }>({
  name: 'cast',
  differentiable: true,
  forward: ([a], p) => a!.astype(p.dtype),
  vjp: (g, { inputs }) => [isFloating(inputs[0]!.dtype) ? cast(g, inputs[0]!.dtype) : null],
  jvp: ([t], { params }) => (t ? cast(t, params.dtype) : null),
});

/** Converts to `dtype` (differentiable between float dtypes); returns `x` when it already matches. */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor('cast', 'input', x);
  if (x.dtype === dtype) return x;
  return apply(castOp, [x], { dtype });
}

// ---------------------------------------------------------------- device transfer

export const toDeviceOp: OpDef<{ device: string }> = defineOp<{ device: string }>({
  name: 'toDevice',
  differentiable: true,
  forward: ([a], p) => a!.toDevice(p.device),
  vjp: (g, { inputs }) => [toDevice(g, inputs[0]!.device)],
  jvp: ([t], { params }) => (t ? toDevice(t, params.device) : null),
});

/**
 * A copy of `x` on `device` (differentiable: the gradient flows back to `x`'s device); returns
 * `x` when it is already there. Also `x.to(device)`.
 *
 * @example
 * const y = nd.randn([2, 3], { device: 'wasm' }).to('cpu'); // y.device === 'cpu'
 */
export function toDevice(x: Tensor, device: string): Tensor {
  expectTensor('toDevice', 'input', x);
  if (typeof device !== 'string') throw typeError('toDevice', 'a device name', String(device));
  if (x.device === device) return x;
  getBackend(device); // a DeviceError naming the registered devices
  return apply(toDeviceOp, [x], { device });
}

// ---------------------------------------------------------------- unary

type Chain = (v: Tensor, ctx: OpContext<undefined>) => Tensor | null;

function unaryDef(name: UnaryOp, chain: Chain): OpDef<undefined> {
  return defineOp<undefined>({
    name,
    differentiable: true,
    forward: ([a]) => unaryNd(name, a!),
    vjp: (g, ctx) => [chain(g, ctx) ?? zerosLikeT(ctx.inputs[0]!)],
    jvp: ([t], ctx) => (t ? chain(t, ctx) : null),
  });
}

const x0 = (c: OpContext<undefined>) => c.inputs[0]!;
const TWO_OVER_SQRT_PI = 1.1283791670955126;

type UnaryName = 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'reciprocal' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'erf' | 'floor' | 'ceil' | 'round';
export const unaryOps: { [K in UnaryName]: OpDef<undefined> } = {
  neg: unaryDef('neg', (v) => neg(v)),
  abs: unaryDef('abs', (v, c) => mul(v, sign(x0(c)))),
  sign: unaryDef('sign', () => null),
  exp: unaryDef('exp', (v, c) => mul(v, c.out)),
  log: unaryDef('log', (v, c) => div(v, x0(c))),
  log1p: unaryDef('log1p', (v, c) => div(v, add(x0(c), 1))),
  expm1: unaryDef('expm1', (v, c) => mul(v, add(c.out, 1))),
  sqrt: unaryDef('sqrt', (v, c) => div(v, mul(c.out, 2))),
  rsqrt: unaryDef('rsqrt', (v, c) => mul(v, mul(pow(c.out, 3), -0.5))),
  reciprocal: unaryDef('reciprocal', (v, c) => neg(mul(v, mul(c.out, c.out)))),
  sin: unaryDef('sin', (v, c) => mul(v, cos(x0(c)))),
  cos: unaryDef('cos', (v, c) => neg(mul(v, sin(x0(c))))),
  tanh: unaryDef('tanh', (v, c) => mul(v, sub(1, mul(c.out, c.out)))),
  sigmoid: unaryDef('sigmoid', (v, c) => mul(v, mul(c.out, sub(1, c.out)))),
  relu: unaryDef('relu', (v, c) => mul(v, cast(gt(c.out, 0), v.dtype))),
  erf: unaryDef('erf', (v, c) => mul(v, mul(exp(neg(mul(x0(c), x0(c)))), TWO_OVER_SQRT_PI))),
  floor: unaryDef('floor', () => null),
  ceil: unaryDef('ceil', () => null),
  round: unaryDef('round', () => null),
};

const FLOAT_ONLY = new Set<UnaryOp>(['exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf']);

function unary(name: UnaryName, x: Tensor): Tensor {
  expectTensor(name, 'input', x);
  if (FLOAT_ONLY.has(name) && !isFloating(x.dtype)) x = cast(x, 'float32');
  else if (x.dtype === 'bool' && name !== 'abs') throw typeError(name, 'a numeric tensor', 'dtype bool');
  return apply(unaryOps[name], [x], undefined);
}

/** -x */ export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x| (gradient sign(x), 0 at 0) */ export const abs = (x: Tensor): Tensor => unary('abs', x);
/** -1, 0 or 1 (zero gradient) */ export const sign = (x: Tensor): Tensor => unary('sign', x);
/** e^x */ export const exp = (x: Tensor): Tensor => unary('exp', x);
/** natural log */ export const log = (x: Tensor): Tensor => unary('log', x);
/** log(1 + x), accurate near 0 */ export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** e^x - 1, accurate near 0 */ export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/** square root */ export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1 / sqrt(x) */ export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** 1 / x */ export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** sine */ export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cosine */ export const cos = (x: Tensor): Tensor => unary('cos', x);
/** hyperbolic tangent */ export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** logistic sigmoid 1 / (1 + e^-x) */ export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0); gradient 0 at 0 as in PyTorch */ export const relu = (x: Tensor): Tensor => unary('relu', x);
/** error function */ export const erf = (x: Tensor): Tensor => unary('erf', x);
/** floor (zero gradient) */ export const floor = (x: Tensor): Tensor => unary('floor', x);
/** ceil (zero gradient) */ export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** round half to even (zero gradient) */ export const round = (x: Tensor): Tensor => unary('round', x);

/** Elementwise NaN test (bool result). */
export function isnan(x: Tensor): Tensor {
  expectTensor('isnan', 'input', x);
  return new Tensor(unaryNd('isnan', x.array));
}

/** Elementwise logical not (bool result). */
export function logicalNot(x: Tensor): Tensor {
  expectTensor('logicalNot', 'input', x);
  return new Tensor(unaryNd('logicalNot', cast(x, 'bool').array));
}

// ---------------------------------------------------------------- binary

function binaryDef(
  name: BinaryOp,
  vjp: (g: Tensor, c: OpContext<undefined>) => (Tensor | null)[],
  jvp: (ta: Tensor | null, tb: Tensor | null, c: OpContext<undefined>) => Tensor | null,
): OpDef<undefined> {
  return defineOp<undefined>({
    name,
    differentiable: true,
    forward: ([a, b]) => binaryNd(name, a!, b!),
    vjp,
    jvp: ([ta, tb], c) => jvp(ta ?? null, tb ?? null, c),
  });
}

const needs = (c: OpContext<undefined>, i: number) => c.inputs[i]!.requiresGrad;
/** a + b where either may be a zero (null) tangent. */
function addT(a: Tensor | null, b: Tensor | null): Tensor | null {
  return a === null ? b : b === null ? a : add(a, b);
}

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';
export const binaryOps: { [K in BinaryName]: OpDef<undefined> } = {
  add: binaryDef('add', (g) => [g, g], (ta, tb) => addT(ta, tb)),
  sub: binaryDef('sub', (g, c) => [g, needs(c, 1) ? neg(g) : null], (ta, tb) => addT(ta, tb && neg(tb))),
  mul: binaryDef(
    'mul',
    (g, c) => [needs(c, 0) ? mul(g, c.inputs[1]!) : null, needs(c, 1) ? mul(g, c.inputs[0]!) : null],
    (ta, tb, c) => addT(ta && mul(ta, c.inputs[1]!), tb && mul(c.inputs[0]!, tb)),
  ),
  div: binaryDef(
    'div',
    (g, c) => [needs(c, 0) ? div(g, c.inputs[1]!) : null, needs(c, 1) ? neg(div(mul(g, c.out), c.inputs[1]!)) : null],
    (ta, tb, c) => {
      const num = addT(ta, tb && neg(mul(c.out, tb)));
      return num && div(num, c.inputs[1]!);
    },
  ),
  pow: binaryDef(
    'pow',
    (g, c) => [needs(c, 0) ? mul(g, powBaseDeriv(c)) : null, needs(c, 1) ? mul(g, powExpDeriv(c)) : null],
    (ta, tb, c) => addT(ta && mul(ta, powBaseDeriv(c)), tb && mul(tb, powExpDeriv(c))),
  ),
  maximum: binaryDef(
    'maximum',
    (g, c) => minmaxVjp(g, c, gt),
    (ta, tb, c) => minmaxJvp(ta, tb, c, gt),
  ),
  minimum: binaryDef(
    'minimum',
    (g, c) => minmaxVjp(g, c, lt),
    (ta, tb, c) => minmaxJvp(ta, tb, c, lt),
  ),
};

/** d(a^b)/da = b * a^(b-1), defined as 0 where b == 0 (PyTorch). */
function powBaseDeriv(c: OpContext<undefined>): Tensor {
  const [a, b] = c.inputs as [Tensor, Tensor];
  return where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1))));
}

/** d(a^b)/db = a^b * log(a), defined as 0 where a == 0 and b >= 0 (PyTorch). */
function powExpDeriv(c: OpContext<undefined>): Tensor {
  const [a, b] = c.inputs as [Tensor, Tensor];
  const safe = where(eq(a, 0), 1, a);
  return where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(c.out, log(safe)));
}

type Cmp = (a: TensorLike, b: TensorLike) => Tensor;
/** Gradient of maximum (cmp = gt) / minimum (cmp = lt): to the winner, split in half on ties. */
function minmaxVjp(g: Tensor, c: OpContext<undefined>, cmp: Cmp): (Tensor | null)[] {
  const [a, b] = c.inputs as [Tensor, Tensor];
  const half = where(eq(a, b), mul(g, 0.5), g);
  return [
    needs(c, 0) ? where(cmp(b, a), 0, half) : null,
    needs(c, 1) ? where(cmp(a, b), 0, half) : null,
  ];
}
function minmaxJvp(ta: Tensor | null, tb: Tensor | null, c: OpContext<undefined>, cmp: Cmp): Tensor | null {
  const [a, b] = c.inputs as [Tensor, Tensor];
  const wa = where(eq(a, b), 0.5, cast(cmp(a, b), c.out.dtype));
  const zero = (t: Tensor) => zerosLikeT(t);
  if (ta === null && tb === null) return null;
  const A = ta ?? zero(a);
  const B = tb ?? zero(b);
  return add(B, mul(wa, sub(A, B)));
}

function toOperand(x: TensorLike, dtype: DType, device: string): Tensor {
  return x instanceof Tensor ? cast(x, dtype) : scalarTensor(x, dtype, device);
}

function binary(name: BinaryName, a: TensorLike, b: TensorLike): Tensor {
  let dt = promote(name, [a, b]);
  if (name === 'div' && !isFloating(dt)) dt = 'float32';
  if (dt === 'bool') {
    // PyTorch: bool + bool is logical or, bool * bool logical and, bool - bool an error
    if (name === 'add') return logicalOr(a, b);
    if (name === 'mul') return logicalAnd(a, b);
    if (name === 'sub') throw typeError('sub', 'numeric operands (subtracting bool tensors is not supported; use logicalNot or ne)', 'two bool operands');
    if (name === 'pow') dt = 'int32';
  }
  const dev = deviceOf([a, b]);
  return apply(binaryOps[name], [toOperand(a, dt, dev), toOperand(b, dt, dev)], undefined);
}

/** a + b (broadcasting; scalars on either side). */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a - b */ export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a * b */ export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b (true division: integer inputs give float32) */ export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** a ** b (tensor or scalar exponent; scalar base too) */ export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise max, NaN-propagating; gradient split on ties. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise min, NaN-propagating; gradient split on ties. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
/** x * x */ export const square = (x: Tensor): Tensor => mul(x, x);

// ---------------------------------------------------------------- comparisons and logic

function compareDef(name: BinaryOp): OpDef<undefined> {
  return defineOp<undefined>({
    name,
    differentiable: false,
    forward: ([a, b]) => binaryNd(name, a!, b!),
    vjp: () => [null, null],
    jvp: () => null,
  });
}

type CompareName = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr';
export const compareOps: { [K in CompareName]: OpDef<undefined> } = {
  eq: compareDef('eq'), ne: compareDef('ne'), lt: compareDef('lt'), le: compareDef('le'),
  gt: compareDef('gt'), ge: compareDef('ge'), logicalAnd: compareDef('logicalAnd'), logicalOr: compareDef('logicalOr'),
};

function compare(name: CompareName, a: TensorLike, b: TensorLike): Tensor {
  const dt = name === 'logicalAnd' || name === 'logicalOr' ? 'bool' : promote(name, [a, b]);
  const dev = deviceOf([a, b]);
  return apply(compareOps[name], [toOperand(a, dt, dev), toOperand(b, dt, dev)], undefined);
}

/** a == b (bool) */ export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b);
/** a != b (bool) */ export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b);
/** a < b (bool) */ export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b);
/** a <= b (bool) */ export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b);
/** a > b (bool) */ export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b);
/** a >= b (bool) */ export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b);
/** a && b (bool) */ export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => compare('logicalAnd', a, b);
/** a || b (bool) */ export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => compare('logicalOr', a, b);

// ---------------------------------------------------------------- where and clamp

export const whereOp: OpDef<undefined> = defineOp<undefined>({
  name: 'where',
  differentiable: true,
  forward: ([c, a, b]) => whereNd(c!, a!, b!),
  vjp: (g, c) => {
    const cond = c.inputs[0]!;
    return [null, needs(c, 1) ? where(cond, g, 0) : null, needs(c, 2) ? where(cond, 0, g) : null];
  },
  jvp: ([, ta, tb], c) => {
    if (!ta && !tb) return null;
    const cond = c.inputs[0]!;
    return where(cond, ta ?? 0, tb ?? 0);
  },
});

/** Elementwise `cond ? a : b` with broadcasting; `cond` must be bool. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  expectTensor('where', 'condition', cond);
  if (cond.dtype !== 'bool') throw typeError('where', 'condition of dtype bool', cond.dtype);
  const dt = promote('where', [a, b]);
  const dev = cond.device;
  return apply(whereOp, [cond, toOperand(a, dt, dev), toOperand(b, dt, dev)], undefined);
}

export const clampOp: OpDef<{ min: number | null; max: number | null }> = defineOp<{ min: number | null; max: number | null }>({
  name: 'clamp',
  differentiable: true,
  forward: ([a], p) => {
    let r = a!;
    const s = (v: number) => NDArray.full([], v, r.dtype, r.device);
    if (p.min !== null) r = binaryNd('maximum', r, s(p.min));
    if (p.max !== null) r = binaryNd('minimum', r, s(p.max));
    return r === a ? a!.clone() : r;
  },
  vjp: (g, c) => [where(clampMask(c.inputs[0]!, c.params), g, 0)],
  jvp: ([t], c) => (t ? where(clampMask(c.inputs[0]!, c.params), t, 0) : null),
});

function clampMask(x: Tensor, p: { min: number | null; max: number | null }): Tensor {
  let m = p.min !== null ? ge(x, p.min) : null;
  if (p.max !== null) m = m ? logicalAnd(m, le(x, p.max)) : le(x, p.max);
  return m ?? cast(ge(x, -Infinity), 'bool');
}

/**
 * Clamps into [min, max] (either may be null). The gradient passes where min <= x <= max
 * (inclusive, as PyTorch).
 */
export function clamp(x: Tensor, min: number | null = null, max: number | null = null): Tensor {
  expectTensor('clamp', 'input', x);
  if (min === null && max === null) throw typeError('clamp', 'at least one of min and max', 'neither');
  for (const v of [min, max]) if (v !== null && typeof v !== 'number') throw typeError('clamp', 'numeric bounds', typeof v);
  const dt = promote('clamp', [x, ...(min !== null ? [min] : []), ...(max !== null ? [max] : [])]);
  return apply(clampOp, [cast(x, dt)], { min, max });
}
