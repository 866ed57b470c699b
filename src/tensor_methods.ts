/**
 * Method sugar on Tensor: every method delegates to a function in ops/ or functional/, so the
 * Tensor class itself stays small. Importing this module (index.ts does) installs the methods.
 */
import { Tensor } from './autograd/tensor.js';
import * as O from './ops/primitives.js';
import * as F from './functional/activation.js';
import { getItem, setItem, type Index } from './ops/indexing.js';
import { DTYPES, type DType } from './ndarray/dtype.js';
import type { SliceSpec } from './ndarray/ndarray.js';
import type { TensorLike } from './ops/util.js';
import type { Dims, VarOptions } from './ops/reduce.js';

declare module './autograd/tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    sum(dim?: Dims, keepdim?: boolean): Tensor;
    mean(dim?: Dims, keepdim?: boolean): Tensor;
    max(dim?: Dims, keepdim?: boolean): Tensor;
    min(dim?: Dims, keepdim?: boolean): Tensor;
    prod(dim?: Dims, keepdim?: boolean): Tensor;
    var(dim?: Dims, opts?: VarOptions): Tensor;
    std(dim?: Dims, opts?: VarOptions): Tensor;
    logsumexp(dim?: Dims, keepdim?: boolean): Tensor;
    argmax(dim?: number | null, keepdim?: boolean): Tensor;
    argmin(dim?: number | null, keepdim?: boolean): Tensor;
    matmul(other: Tensor): Tensor;
    readonly mT: Tensor;
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    view(...shape: number[] | [readonly number[]]): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor;
    transpose(d0: number, d1: number): Tensor;
    expand(...shape: number[] | [readonly number[]]): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    squeeze(dim?: number | readonly number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    flip(dims: number | readonly number[]): Tensor;
    slice(specs: readonly SliceSpec[]): Tensor;
    split(sizes: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    gather(dim: number, index: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    maskedFill(mask: Tensor, value: TensorLike): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    /** A copy converted to a dtype ('float32', ...) or moved to a device ('cpu', 'wasm', ...). */
    to(dtypeOrDevice: DType | string): Tensor;
    float(): Tensor;
    double(): Tensor;
    int(): Tensor;
    bool(): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    /** x[...items]: integers, slices ("1:3", {start, stop, step}), null, "...", an int32 tensor. */
    get(...items: Index[]): Tensor;
    /** In-place x[...items] = value (outside the graph or in noGrad). */
    set(items: Index | Index[], value: Tensor | number): this;
  }
}

const shapeArgs = (args: unknown[]): number[] =>
  (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as number[];

const P = Tensor.prototype;
Object.assign(P, {
  add(this: Tensor, o: TensorLike) { return O.add(this, o); },
  sub(this: Tensor, o: TensorLike) { return O.sub(this, o); },
  mul(this: Tensor, o: TensorLike) { return O.mul(this, o); },
  div(this: Tensor, o: TensorLike) { return O.div(this, o); },
  pow(this: Tensor, o: TensorLike) { return O.pow(this, o); },
  maximum(this: Tensor, o: TensorLike) { return O.maximum(this, o); },
  minimum(this: Tensor, o: TensorLike) { return O.minimum(this, o); },
  eq(this: Tensor, o: TensorLike) { return O.eq(this, o); },
  ne(this: Tensor, o: TensorLike) { return O.ne(this, o); },
  lt(this: Tensor, o: TensorLike) { return O.lt(this, o); },
  le(this: Tensor, o: TensorLike) { return O.le(this, o); },
  gt(this: Tensor, o: TensorLike) { return O.gt(this, o); },
  ge(this: Tensor, o: TensorLike) { return O.ge(this, o); },
  neg(this: Tensor) { return O.neg(this); },
  abs(this: Tensor) { return O.abs(this); },
  sign(this: Tensor) { return O.sign(this); },
  exp(this: Tensor) { return O.exp(this); },
  log(this: Tensor) { return O.log(this); },
  log1p(this: Tensor) { return O.log1p(this); },
  expm1(this: Tensor) { return O.expm1(this); },
  sqrt(this: Tensor) { return O.sqrt(this); },
  rsqrt(this: Tensor) { return O.rsqrt(this); },
  square(this: Tensor) { return O.square(this); },
  reciprocal(this: Tensor) { return O.reciprocal(this); },
  sin(this: Tensor) { return O.sin(this); },
  cos(this: Tensor) { return O.cos(this); },
  tanh(this: Tensor) { return O.tanh(this); },
  sigmoid(this: Tensor) { return O.sigmoid(this); },
  relu(this: Tensor) { return O.relu(this); },
  erf(this: Tensor) { return O.erf(this); },
  floor(this: Tensor) { return O.floor(this); },
  ceil(this: Tensor) { return O.ceil(this); },
  round(this: Tensor) { return O.round(this); },
  clamp(this: Tensor, min?: number | null, max?: number | null) { return O.clamp(this, min ?? null, max ?? null); },
  sum(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.sum(this, dim, keepdim); },
  mean(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.mean(this, dim, keepdim); },
  max(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.max(this, dim, keepdim); },
  min(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.min(this, dim, keepdim); },
  prod(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.prod(this, dim, keepdim); },
  var(this: Tensor, dim?: Dims, opts?: VarOptions) { return O.variance(this, dim, opts); },
  std(this: Tensor, dim?: Dims, opts?: VarOptions) { return O.std(this, dim, opts); },
  logsumexp(this: Tensor, dim?: Dims, keepdim?: boolean) { return O.logsumexp(this, dim, keepdim); },
  argmax(this: Tensor, dim?: number | null, keepdim?: boolean) { return O.argmax(this, dim, keepdim); },
  argmin(this: Tensor, dim?: number | null, keepdim?: boolean) { return O.argmin(this, dim, keepdim); },
  matmul(this: Tensor, o: Tensor) { return O.matmul(this, o); },
  reshape(this: Tensor, ...s: unknown[]) { return O.reshape(this, shapeArgs(s)); },
  view(this: Tensor, ...s: unknown[]) { return O.view(this, shapeArgs(s)); },
  permute(this: Tensor, ...s: unknown[]) { return O.permute(this, shapeArgs(s)); },
  transpose(this: Tensor, a: number, b: number) { return O.transpose(this, a, b); },
  expand(this: Tensor, ...s: unknown[]) { return O.expand(this, shapeArgs(s)); },
  broadcastTo(this: Tensor, s: readonly number[]) { return O.expand(this, s); },
  squeeze(this: Tensor, d?: number | readonly number[]) { return O.squeeze(this, d); },
  unsqueeze(this: Tensor, d: number) { return O.unsqueeze(this, d); },
  flatten(this: Tensor, a?: number, b?: number) { return O.flatten(this, a, b); },
  flip(this: Tensor, d: number | readonly number[]) { return O.flip(this, d); },
  slice(this: Tensor, s: readonly SliceSpec[]) { return O.slice(this, s); },
  split(this: Tensor, s: number | readonly number[], d?: number) { return O.split(this, s, d); },
  chunk(this: Tensor, c: number, d?: number) { return O.chunk(this, c, d); },
  gather(this: Tensor, d: number, i: Tensor) { return O.gather(this, d, i); },
  indexSelect(this: Tensor, d: number, i: Tensor) { return O.indexSelect(this, d, i); },
  maskedFill(this: Tensor, m: Tensor, v: TensorLike) { return O.maskedFill(this, m, v); },
  tril(this: Tensor, d?: number) { return O.tril(this, d); },
  triu(this: Tensor, d?: number) { return O.triu(this, d); },
  softmax(this: Tensor, d?: number) { return F.softmax(this, d); },
  logSoftmax(this: Tensor, d?: number) { return F.logSoftmax(this, d); },
  to(this: Tensor, target: DType | string) { return (DTYPES as readonly string[]).includes(target) ? O.cast(this, target as DType) : O.toDevice(this, target); },
  float(this: Tensor) { return O.cast(this, 'float32'); },
  double(this: Tensor) { return O.cast(this, 'float64'); },
  int(this: Tensor) { return O.cast(this, 'int32'); },
  bool(this: Tensor) { return O.cast(this, 'bool'); },
  contiguous(this: Tensor) { return O.contiguous(this); },
  clone(this: Tensor) { return O.clone(this); },
  get(this: Tensor, ...items: Index[]) { return getItem(this, ...items); },
  set(this: Tensor, items: Index | Index[], value: Tensor | number) {
    setItem(this, Array.isArray(items) ? items : [items], value);
    return this;
  },
});
Object.defineProperty(P, 'mT', { get(this: Tensor) { return O.mT(this); } });
