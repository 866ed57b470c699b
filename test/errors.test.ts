/**
 * Error paths of the public functions. Every case asserts the error class (TypeError for the wrong
 * kind, RangeError for wrong sizes/indices/dims), that the message follows the one grammar
 * `<op>: <argument> <expected>, got <actual>` naming the op, and that the failed call left its
 * inputs untouched (same array, shape, strides, values, grad state).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { assertThrows } from './helpers.js';

type ErrorClass = new (...a: never[]) => Error;

interface Case {
  name: string;
  /** Fresh inputs for the call (checked for being untouched afterwards). */
  inputs: () => nd.Tensor[];
  call: (...xs: nd.Tensor[]) => unknown;
  type: ErrorClass;
  /** The op the message must start with. */
  op: string;
  /** The rest of the message (matched against the whole message). */
  re: RegExp;
}

const i32 = (data: nd.NestedArray) => nd.tensor(data, { dtype: 'int32' });
/** Deterministic float tensor of `shape` (values 0.1, 0.2, ...), optionally requiring grad. */
function seq(shape: number[], requiresGrad = false): nd.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return nd.tensor(Float32Array.from({ length: n }, (_, i) => (i + 1) / 10), { shape, requiresGrad });
}
const A23 = () => [seq([2, 3], true)];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Snapshot {
  array: unknown;
  shape: number[];
  strides: number[];
  offset: number;
  dtype: string;
  values: number[];
  requiresGrad: boolean;
  grad: unknown;
  node: unknown;
}
function snapshot(t: nd.Tensor): Snapshot {
  return {
    array: t.array,
    shape: [...t.shape],
    strides: [...t.array.strides],
    offset: t.array.offset,
    dtype: t.dtype,
    values: Array.from(t.dataSync(), Number),
    requiresGrad: t.requiresGrad,
    grad: t.grad,
    node: t.node,
  };
}
function assertUntouched(xs: nd.Tensor[], before: Snapshot[], name: string): void {
  xs.forEach((x, i) => {
    const after = snapshot(x);
    const b = before[i]!;
    assert.equal(after.array, b.array, `${name}: input ${i} array replaced`);
    assert.deepEqual({ ...after, array: null }, { ...b, array: null }, `${name}: input ${i} changed`);
  });
  assert.equal(nd.isGradEnabled(), true, `${name}: grad mode left switched off`);
}

function runCases(cases: Case[]): void {
  for (const c of cases) {
    it(`${c.name} -> ${c.type.name}`, () => {
      const xs = c.inputs();
      const before = xs.map(snapshot);
      assertThrows(() => c.call(...xs), c.type, new RegExp(`^${escape(c.op)}: `));
      assertThrows(() => c.call(...xs), c.type, /, got /);
      assertThrows(() => c.call(...xs), c.type, c.re);
      assertUntouched(xs, before, c.name);
    });
  }
}

// ---------------------------------------------------------------- wrong shapes

describe('errors: wrong shapes', () => {
  runCases([
    {
      name: 'matmul inner dims',
      inputs: () => [seq([2, 3], true), seq([4, 5])],
      call: (a, b) => a!.matmul(b!),
      type: RangeError,
      op: 'matmul',
      re: /^matmul: inner dimensions must match, got \[2,3\] @ \[4,5\]$/,
    },
    {
      name: 'matmul of 1-D vectors of different lengths',
      inputs: () => [seq([3]), seq([4])],
      call: (a, b) => nd.matmul(a!, b!),
      type: RangeError,
      op: 'matmul',
      re: /^matmul: inner dimensions must match, got \[3\] @ \[4\]$/,
    },
    {
      name: 'matmul batch dims not broadcastable',
      inputs: () => [seq([2, 3, 4]), seq([5, 4, 2])],
      call: (a, b) => a!.matmul(b!),
      type: RangeError,
      op: 'matmul',
      re: /^matmul: .*broadcastable, got \[2\] and \[5\]$/,
    },
    {
      name: 'matmul of a 0-d tensor',
      inputs: () => [nd.tensor(2), seq([3])],
      call: (a, b) => nd.matmul(a!, b!),
      type: RangeError,
      op: 'matmul',
      re: /^matmul: .*at least 1 dim, got \[\] @ \[3\]$/,
    },
    {
      name: 'add non-broadcastable',
      inputs: () => [seq([2, 3], true), seq([4])],
      call: (a, b) => a!.add(b!),
      type: RangeError,
      op: 'add',
      re: /^add: shapes must be broadcastable, got \[2,3\] and \[4\]$/,
    },
    {
      name: 'mul non-broadcastable',
      inputs: () => [seq([3, 2]), seq([3])],
      call: (a, b) => nd.mul(a!, b!),
      type: RangeError,
      op: 'mul',
      re: /^mul: shapes must be broadcastable, got \[3,2\] and \[3\]$/,
    },
    {
      name: 'where non-broadcastable',
      inputs: () => [nd.tensor([true, false]), seq([3]), seq([3])],
      call: (c, a, b) => nd.where(c!, a!, b!),
      type: RangeError,
      op: 'where',
      re: /^where: shapes must be broadcastable, got \[2\] and \[3\] and \[3\]$/,
    },
    {
      name: 'cat mismatched shapes',
      inputs: () => [seq([2, 3], true), seq([2, 4])],
      call: (a, b) => nd.cat([a!, b!], 0),
      type: RangeError,
      op: 'cat',
      re: /^cat: tensors matching \[2,3\] except in dim 0, got \[2,4\]$/,
    },
    {
      name: 'cat mismatched along another dim',
      inputs: () => [seq([2, 3]), seq([3, 3])],
      call: (a, b) => nd.cat([a!, b!], -1),
      type: RangeError,
      op: 'cat',
      re: /^cat: tensors matching \[2,3\] except in dim 1, got \[3,3\]$/,
    },
    {
      name: 'cat mismatched ranks',
      inputs: () => [seq([2, 3]), seq([2, 3, 1])],
      call: (a, b) => nd.cat([a!, b!]),
      type: RangeError,
      op: 'cat',
      re: /^cat: .*got \[2,3,1\]$/,
    },
    {
      name: 'stack mismatched shapes',
      inputs: () => [seq([2]), seq([3])],
      call: (a, b) => nd.stack([a!, b!]),
      type: RangeError,
      op: 'stack',
      re: /^stack: tensors of one shape \[2\], got \[3\]$/,
    },
    {
      name: 'reshape to a different size',
      inputs: A23,
      call: (a) => a!.reshape(4, 2),
      type: RangeError,
      op: 'reshape',
      re: /^reshape: shape \[4,2\] is invalid for input of size 6, got \[2,3\]$/,
    },
    {
      name: 'reshape with two -1',
      inputs: A23,
      call: (a) => a!.reshape([-1, -1]),
      type: RangeError,
      op: 'reshape',
      re: /^reshape: only one dimension can be -1, got \[-1,-1\]$/,
    },
    {
      name: 'reshape with -1 that does not divide',
      inputs: A23,
      call: (a) => a!.reshape([4, -1]),
      type: RangeError,
      op: 'reshape',
      re: /^reshape: shape \[4,-1\] is invalid for input of size 6, got \[2,3\]$/,
    },
    {
      name: 'reshape with a negative or fractional size',
      inputs: A23,
      call: (a) => a!.reshape([-2, -3]),
      type: RangeError,
      op: 'reshape',
      re: /^reshape: .*got \[-2,-3\]$/,
    },
    {
      name: 'view of a non-contiguous tensor',
      inputs: A23,
      call: (a) => a!.transpose(0, 1).view([6]),
      type: RangeError,
      op: 'view',
      re: /^view: a contiguous tensor \(use reshape to copy\), got strides \[1,3\]$/,
    },
    {
      name: 'view to a different size',
      inputs: A23,
      call: (a) => a!.view(5),
      type: RangeError,
      op: 'view',
      re: /^view: shape \[5\] is invalid for input of size 6, got \[2,3\]$/,
    },
    {
      name: 'permute with the wrong number of dims',
      inputs: A23,
      call: (a) => a!.permute([0]),
      type: RangeError,
      op: 'permute',
      re: /^permute: dims of length 2, got \[0\]$/,
    },
    {
      name: 'permute with a repeated dim',
      inputs: A23,
      call: (a) => a!.permute(1, -1),
      type: RangeError,
      op: 'permute',
      re: /^permute: a permutation of the dims, got \[1,-1\]$/,
    },
    {
      name: 'permute with a dim out of range',
      inputs: A23,
      call: (a) => a!.permute(0, 2),
      type: RangeError,
      op: 'permute',
      re: /^permute: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'expand to an incompatible shape',
      inputs: A23,
      call: (a) => a!.expand(4, 3, 3),
      type: RangeError,
      op: 'expand',
      re: /^expand: shapes must be broadcastable, got \[2,3\] and \[4,3,3\]$/,
    },
    {
      name: 'expand to fewer dims',
      inputs: A23,
      call: (a) => a!.expand([3]),
      type: RangeError,
      op: 'expand',
      re: /^expand: a shape of at least 2 dims, got \[3\]$/,
    },
    {
      name: 'expand that would shrink a dim',
      inputs: A23,
      call: (a) => a!.expand([1, 3]),
      type: RangeError,
      op: 'expand',
      re: /^expand: a shape that \[2,3\] can expand to, got \[1,3\]$/,
    },
    {
      name: 'expand with -1 in a new leading dim',
      inputs: A23,
      call: (a) => a!.expand([-1, 2, 3]),
      type: RangeError,
      op: 'expand',
      re: /^expand: .*got \[-1,2,3\]$/,
    },
    {
      name: 'gather with a bad index shape',
      inputs: () => [seq([2, 3], true), i32([[0], [1], [2]])],
      call: (a, i) => a!.gather(1, i!),
      type: RangeError,
      op: 'gather',
      re: /^gather: index of shape \[2,3\] except along dim 1, got \[3,1\]$/,
    },
    {
      name: 'gather with an out-of-range index',
      inputs: () => [seq([2, 3], true), i32([[0], [5]])],
      call: (a, i) => nd.gather(a!, 1, i!),
      type: RangeError,
      op: 'gather',
      re: /^gather: index values in \[0, 2\], got 5$/,
    },
    {
      name: 'gather with a negative index',
      inputs: () => [seq([2, 3]), i32([[-1], [0]])],
      call: (a, i) => a!.gather(1, i!),
      type: RangeError,
      op: 'gather',
      re: /^gather: index values in \[0, 2\], got -1$/,
    },
    {
      name: 'gather with a dim out of range',
      inputs: () => [seq([2, 3]), i32([[0], [1]])],
      call: (a, i) => a!.gather(2, i!),
      type: RangeError,
      op: 'gather',
      re: /^gather: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'indexSelect with an out-of-range index',
      inputs: () => [seq([2, 3], true), i32([0, 5])],
      call: (a, i) => a!.indexSelect(1, i!),
      type: RangeError,
      op: 'indexSelect',
      re: /^indexSelect: index values in \[0, 2\] for dim 1, got 5$/,
    },
    {
      name: 'indexSelect with a negative index',
      inputs: () => [seq([2, 3]), i32([-1])],
      call: (a, i) => nd.indexSelect(a!, 0, i!),
      type: RangeError,
      op: 'indexSelect',
      re: /^indexSelect: index values in \[0, 1\] for dim 0, got -1$/,
    },
    {
      name: 'indexSelect with a 2-D index',
      inputs: () => [seq([2, 3]), i32([[0, 1]])],
      call: (a, i) => a!.indexSelect(1, i!),
      type: RangeError,
      op: 'indexSelect',
      re: /^indexSelect: a 0-D or 1-D index, got \[1,2\]$/,
    },
    {
      name: 'split sizes that do not sum to the dim',
      inputs: A23,
      call: (a) => a!.split([1, 1], 1),
      type: RangeError,
      op: 'split',
      re: /^split: sizes summing to 3 \(dim 1\), got sum 2$/,
    },
    {
      name: 'split with a negative size',
      inputs: A23,
      call: (a) => a!.split([4, -1], 1),
      type: RangeError,
      op: 'split',
      re: /^split: non-negative integer sizes, got \[4,-1\]$/,
    },
    {
      name: 'split with a zero split size',
      inputs: A23,
      call: (a) => a!.split(0),
      type: RangeError,
      op: 'split',
      re: /^split: a positive split size, got 0$/,
    },
    {
      name: 'chunk into zero pieces',
      inputs: A23,
      call: (a) => a!.chunk(0),
      type: RangeError,
      op: 'chunk',
      re: /^chunk: a positive number of chunks, got 0$/,
    },
    {
      name: 'narrow past the end',
      inputs: A23,
      call: (a) => nd.narrow(a!, 1, 2, 3),
      type: RangeError,
      op: 'narrow',
      re: /^narrow: start and length within dim 1 of size 3, got start 2, length 3$/,
    },
    {
      name: 'narrow with a negative start',
      inputs: A23,
      call: (a) => nd.narrow(a!, -1, -1, 1),
      type: RangeError,
      op: 'narrow',
      re: /^narrow: start and length within dim 1 of size 3, got start -1, length 1$/,
    },
    {
      name: 'narrow with a fractional start',
      inputs: A23,
      call: (a) => nd.narrow(a!, 1, 1.5, 1),
      type: TypeError,
      op: 'narrow',
      re: /^narrow: integer start and length, got start 1.5, length 1$/,
    },
    {
      name: 'pad with an odd number of sizes',
      inputs: A23,
      call: (a) => nd.pad(a!, [1, 2, 3]),
      type: RangeError,
      op: 'pad',
      re: /^pad: an even number of pad sizes, at most 4, got \[1,2,3\]$/,
    },
    {
      name: 'pad with more pairs than dims',
      inputs: A23,
      call: (a) => nd.pad(a!, [1, 1, 1, 1, 1, 1]),
      type: RangeError,
      op: 'pad',
      re: /^pad: an even number of pad sizes, at most 4, got \[1,1,1,1,1,1\]$/,
    },
    {
      name: 'pad cropping more than the dim',
      inputs: A23,
      call: (a) => nd.pad(a!, [-2, -2]),
      type: RangeError,
      op: 'pad',
      re: /^pad: crop within dim 1 of size 3, got 4$/,
    },
    {
      name: 'pad with fractional sizes',
      inputs: A23,
      call: (a) => nd.pad(a!, [0.5, 1]),
      type: TypeError,
      op: 'pad',
      re: /^pad: integer pad sizes, got \[0.5,1\]$/,
    },
    {
      name: 'slice with a zero step',
      inputs: A23,
      call: (a) => a!.slice([{ step: 0 }]),
      type: RangeError,
      op: 'slice',
      re: /^slice: step must be a non-zero integer, got 0$/,
    },
    {
      name: 'slice with a fractional start',
      inputs: A23,
      call: (a) => a!.slice([{}, { start: 0.5 }]),
      type: TypeError,
      op: 'slice',
      re: /^slice: start and stop must be integers or null, got 0.5$/,
    },
    {
      name: 'getitem with an index out of range',
      inputs: A23,
      call: (a) => a!.get(0, 3),
      type: RangeError,
      op: 'getitem',
      re: /^getitem: index in \[-3, 2\] for dim 1 of size 3, got 3$/,
    },
    {
      name: 'getitem with too many indices',
      inputs: A23,
      call: (a) => a!.get(0, 0, 0),
      type: RangeError,
      op: 'getitem',
      re: /^getitem: at most 2 indices for a 2-d tensor, got 3$/,
    },
    {
      name: 'item of a tensor with several elements',
      inputs: A23,
      call: (a) => a!.item(),
      type: RangeError,
      op: 'item',
      re: /^item: a tensor with one element, got shape \[2,3\]$/,
    },
  ]);
});

// ---------------------------------------------------------------- wrong dtypes and kinds

describe('errors: wrong dtype or kind', () => {
  runCases([
    {
      name: 'where with a non-bool condition',
      inputs: () => [seq([2]), seq([2], true), seq([2])],
      call: (c, a, b) => nd.where(c!, a!, b!),
      type: TypeError,
      op: 'where',
      re: /^where: condition of dtype bool, got float32$/,
    },
    {
      name: 'maskedFill with a non-bool mask',
      inputs: () => [seq([2]), i32([1, 0])],
      call: (a, m) => a!.maskedFill(m!, 0),
      type: TypeError,
      op: 'maskedFill',
      re: /^maskedFill: mask of dtype bool, got int32$/,
    },
    {
      name: 'mean of an int tensor',
      inputs: () => [i32([1, 2, 3])],
      call: (a) => a!.mean(),
      type: TypeError,
      op: 'mean',
      re: /^mean: a floating-point input, got int32$/,
    },
    {
      name: 'mean of a bool tensor over a dim',
      inputs: () => [nd.tensor([[true, false]])],
      call: (a) => a!.mean(1),
      type: TypeError,
      op: 'mean',
      re: /^mean: a floating-point input, got bool$/,
    },
    {
      name: 'var of an int tensor',
      inputs: () => [i32([1, 2, 3])],
      call: (a) => a!.var(),
      type: TypeError,
      op: 'var',
      re: /^var: a floating-point input, got int32$/,
    },
    {
      name: 'requiresGrad_ on an int tensor',
      inputs: () => [i32([1, 2])],
      call: (a) => a!.requiresGrad_(),
      type: TypeError,
      op: 'requiresGrad_',
      re: /^requiresGrad_: a floating-point tensor .*got int32$/,
    },
    {
      name: 'requiresGrad_(false) on a non-leaf',
      inputs: () => [seq([2], true)],
      call: (a) => a!.exp().requiresGrad_(false),
      type: TypeError,
      op: 'requiresGrad_',
      re: /^requiresGrad_: a leaf tensor .*got a tensor made by exp$/,
    },
    {
      name: 'gather with a float index',
      inputs: () => [seq([2, 3], true), seq([2, 1])],
      call: (a, i) => a!.gather(1, i!),
      type: TypeError,
      op: 'gather',
      re: /^gather: index of dtype int32, got float32$/,
    },
    {
      name: 'indexSelect with a float index',
      inputs: () => [seq([2, 3]), seq([2])],
      call: (a, i) => a!.indexSelect(0, i!),
      type: TypeError,
      op: 'indexSelect',
      re: /^indexSelect: index of dtype int32, got float32$/,
    },
    {
      name: 'getitem with a float tensor index',
      inputs: () => [seq([2, 3]), seq([1])],
      call: (a, i) => a!.get(i!),
      type: TypeError,
      op: 'getitem',
      re: /^getitem: a tensor index of dtype int32, got float32$/,
    },
    {
      name: 'matmul with a number',
      inputs: A23,
      call: (a) => nd.matmul(a!, 3 as unknown as nd.Tensor),
      type: TypeError,
      op: 'matmul',
      re: /^matmul: other to be a Tensor, got number 3$/,
    },
    {
      name: 'add with a string',
      inputs: A23,
      call: (a) => a!.add('x' as unknown as number),
      type: TypeError,
      op: 'add',
      re: /^add: a Tensor or a number, got string x$/,
    },
    {
      name: 'cat of an empty list',
      inputs: () => [],
      call: () => nd.cat([]),
      type: TypeError,
      op: 'cat',
      re: /^cat: a non-empty array of tensors, got an empty array$/,
    },
    {
      name: 'cat with a non-tensor element',
      inputs: A23,
      call: (a) => nd.cat([a!, 5 as unknown as nd.Tensor]),
      type: TypeError,
      op: 'cat',
      re: /^cat: tensors\[1\] to be a Tensor, got number 5$/,
    },
    {
      name: 'neg of a bool tensor',
      inputs: () => [nd.tensor([true, false])],
      call: (a) => a!.neg(),
      type: TypeError,
      op: 'neg',
      re: /^neg: a numeric tensor, got dtype bool$/,
    },
    {
      name: 'sum with a fractional dim',
      inputs: A23,
      call: (a) => a!.sum(0.5),
      type: TypeError,
      op: 'sum',
      re: /^sum: dim must be an integer, got 0.5$/,
    },
  ]);

  it('tensor/zeros with requiresGrad on an int dtype -> TypeError', () => {
    assertThrows(() => nd.tensor([1, 2], { dtype: 'int32', requiresGrad: true }), TypeError, /^requiresGrad_: .*got int32$/);
    assertThrows(() => nd.zeros([2], { dtype: 'int32', requiresGrad: true }), TypeError, /^requiresGrad_: .*got int32$/);
    assertThrows(() => nd.tensor([true], { requiresGrad: true }), TypeError, /^requiresGrad_: .*got bool$/);
  });

  it('an unknown dtype -> TypeError', () => {
    assertThrows(() => nd.zeros([2], { dtype: 'float16' as nd.DType }), TypeError, /^full: dtype must be one of .*got float16$/);
    assertThrows(() => nd.tensor([1], { dtype: 'int8' as nd.DType }), TypeError, /^tensor: dtype must be one of .*got int8$/);
  });
});

// ---------------------------------------------------------------- bad dims

describe('errors: bad dims', () => {
  runCases([
    {
      name: 'sum dim out of range',
      inputs: A23,
      call: (a) => a!.sum(2),
      type: RangeError,
      op: 'sum',
      re: /^sum: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'sum negative dim out of range',
      inputs: A23,
      call: (a) => nd.sum(a!, [0, -3]),
      type: RangeError,
      op: 'sum',
      re: /^sum: dim must be in the range \[-2, 1\], got -3$/,
    },
    {
      name: 'sum with repeated dims',
      inputs: A23,
      call: (a) => a!.sum([1, -1]),
      type: RangeError,
      op: 'sum',
      re: /^sum: dims must not repeat, got \[1,-1\]$/,
    },
    {
      name: 'mean with repeated dims',
      inputs: A23,
      call: (a) => a!.mean([0, 0]),
      type: RangeError,
      op: 'mean',
      re: /^mean: dims must not repeat, got \[0,0\]$/,
    },
    {
      name: 'max dim out of range',
      inputs: A23,
      call: (a) => a!.max(5),
      type: RangeError,
      op: 'max',
      re: /^max: dim must be in the range \[-2, 1\], got 5$/,
    },
    {
      name: 'logsumexp dim out of range',
      inputs: A23,
      call: (a) => a!.logsumexp(-3),
      type: RangeError,
      op: 'logsumexp',
      re: /^logsumexp: dim must be in the range \[-2, 1\], got -3$/,
    },
    {
      name: 'argmax dim out of range',
      inputs: A23,
      call: (a) => a!.argmax(2),
      type: RangeError,
      op: 'argmax',
      re: /^argmax: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'softmax dim out of range',
      inputs: A23,
      call: (a) => a!.softmax(2),
      type: RangeError,
      op: 'softmax',
      re: /^softmax: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'logSoftmax dim out of range',
      inputs: A23,
      call: (a) => nd.logSoftmax(a!, -3),
      type: RangeError,
      op: 'logSoftmax',
      re: /^logSoftmax: dim must be in the range \[-2, 1\], got -3$/,
    },
    {
      name: 'transpose dim out of range',
      inputs: A23,
      call: (a) => a!.transpose(0, 2),
      type: RangeError,
      op: 'transpose',
      re: /^transpose: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'unsqueeze dim out of range',
      inputs: A23,
      call: (a) => a!.unsqueeze(4),
      type: RangeError,
      op: 'unsqueeze',
      re: /^unsqueeze: dim must be in the range \[-3, 2\], got 4$/,
    },
    {
      name: 'flatten with startDim after endDim',
      inputs: A23,
      call: (a) => a!.flatten(1, 0),
      type: RangeError,
      op: 'flatten',
      re: /^flatten: startDim <= endDim, got 1 > 0$/,
    },
    {
      name: 'cat dim out of range',
      inputs: A23,
      call: (a) => nd.cat([a!, a!], 2),
      type: RangeError,
      op: 'cat',
      re: /^cat: dim must be in the range \[-2, 1\], got 2$/,
    },
    {
      name: 'flip dim out of range',
      inputs: A23,
      call: (a) => a!.flip(3),
      type: RangeError,
      op: 'flip',
      re: /^flip: dim must be in the range \[-2, 1\], got 3$/,
    },
    {
      name: 'mT of a 1-D tensor',
      inputs: () => [seq([3])],
      call: (a) => a!.mT,
      type: RangeError,
      op: 'mT',
      re: /^mT: a tensor of at least 2 dims, got \[3\]$/,
    },
  ]);
});

// ---------------------------------------------------------------- bad arguments

describe('errors: bad arguments', () => {
  runCases([
    {
      name: 'clamp with neither bound',
      inputs: A23,
      call: (a) => a!.clamp(),
      type: TypeError,
      op: 'clamp',
      re: /^clamp: at least one of min and max, got neither$/,
    },
    {
      name: 'clamp with a non-numeric bound',
      inputs: A23,
      call: (a) => nd.clamp(a!, '0' as unknown as number),
      type: TypeError,
      op: 'clamp',
      re: /^clamp: numeric bounds, got string$/,
    },
    {
      name: 'dropout p=1.5',
      inputs: A23,
      call: (a) => nd.dropout(a!, 1.5),
      type: RangeError,
      op: 'dropout',
      re: /^dropout: a probability p in \[0, 1\], got 1.5$/,
    },
    {
      name: 'dropout p<0',
      inputs: A23,
      call: (a) => nd.dropout(a!, -0.1),
      type: RangeError,
      op: 'dropout',
      re: /^dropout: a probability p in \[0, 1\], got -0.1$/,
    },
    {
      name: 'dropout p=NaN',
      inputs: A23,
      call: (a) => nd.dropout(a!, NaN),
      type: RangeError,
      op: 'dropout',
      re: /^dropout: a probability p in \[0, 1\], got NaN$/,
    },
    {
      name: 'dropout p as a string',
      inputs: A23,
      call: (a) => nd.dropout(a!, '0.5' as unknown as number),
      type: TypeError,
      op: 'dropout',
      re: /^dropout: a numeric probability p, got string$/,
    },
    {
      name: 'gelu with an unknown approximation',
      inputs: A23,
      call: (a) => nd.gelu(a!, { approximate: 'fast' as 'tanh' }),
      type: TypeError,
      op: 'gelu',
      re: /^gelu: approximate of "none" or "tanh", got fast$/,
    },
    {
      name: 'setitem with a value of the wrong shape (in place)',
      inputs: () => [seq([2, 3]), seq([5])],
      call: (a, v) => a!.set(0, v!),
      type: RangeError,
      op: 'setitem',
      re: /^setitem: a value broadcastable to the selection's shape \[3\], got \[5\]$/,
    },
    {
      name: 'setitem with an index out of range (in place)',
      inputs: () => [seq([2, 3])],
      call: (a) => a!.set([1, 3], 0),
      type: RangeError,
      op: 'setitem',
      re: /^setitem: index in \[-3, 2\] for dim 1 of size 3, got 3$/,
    },
  ]);

  it('setitem on a tensor that requires grad outside noGrad -> GraphError, values untouched', () => {
    const x = seq([2, 3], true);
    const before = snapshot(x);
    assertThrows(() => x.set(0, 1), nd.GraphError, /^setitem: /);
    assertUntouched([x], [before], 'setitem');
  });

  it('arange with step 0 or non-finite bounds -> RangeError', () => {
    assertThrows(() => nd.arange(0, 5, 0), RangeError, /^arange: step must be a non-zero finite number, got 0$/);
    assertThrows(() => nd.arange(0, 5, NaN), RangeError, /^arange: step must be a non-zero finite number, got NaN$/);
    assertThrows(() => nd.arange(0, Infinity), RangeError, /^arange: start and end must be finite, got 0 and Infinity$/);
  });

  it('tensor with a ragged nested array -> RangeError', () => {
    assertThrows(() => nd.tensor([[1, 2], [3]]), RangeError, /^tensor: a rectangular nested array.*, got length 1$/);
    assertThrows(() => nd.tensor([[1, 2], 3] as nd.NestedArray), RangeError, /^tensor: a rectangular nested array, got a scalar at depth 1$/);
    assertThrows(() => nd.tensor([1, [2, 3]] as nd.NestedArray), RangeError, /^tensor: a rectangular nested array, got an array at depth 1/);
    assertThrows(() => nd.tensor([[1], [[2]]] as nd.NestedArray), RangeError, /^tensor: a rectangular nested array, got an array at depth 2/);
    assertThrows(() => nd.tensor([[], [1]]), RangeError, /^tensor: a rectangular nested array.*, got length 1$/);
    // rectangular arrays (also empty ones) are fine
    assert.deepEqual([...nd.tensor([[], []]).shape], [2, 0]);
    assert.deepEqual([...nd.tensor([[[1]], [[2]]]).shape], [2, 1, 1]);
  });

  it('tensor with non-numbers or a typed array of the wrong length', () => {
    assertThrows(() => nd.tensor(['a'] as unknown as nd.NestedArray), TypeError, /^tensor: numbers or booleans, got string$/);
    assertThrows(() => nd.tensor(new Float32Array(4), { shape: [3] }), RangeError, /^tensor: data of length 3 for shape \[3\], got length 4$/);
  });

  it('creation functions check shapes and counts', () => {
    assertThrows(() => nd.zeros([2, -1]), RangeError, /^full: shape must contain non-negative integers, got \[2,-1\]$/);
    assertThrows(() => nd.linspace(0, 1, -1), RangeError, /^linspace: steps must be a non-negative integer, got -1$/);
    assertThrows(() => nd.eye(-1), RangeError, /^eye: shape must contain non-negative integers, got \[-1,-1\]$/);
  });
});

// ---------------------------------------------------------------- state after failures

describe('a failed op leaves its inputs and the autograd state intact', () => {
  it('a tensor that failed several ops is still usable, with the same values and gradients', () => {
    const x = seq([2, 3], true);
    const w = seq([3, 2], true);
    const before = [snapshot(x), snapshot(w)];
    const failing: (() => unknown)[] = [
      () => x.matmul(x),
      () => x.add(w),
      () => nd.cat([x, w], 0),
      () => x.reshape(5),
      () => x.transpose(0, 1).view(6),
      () => x.sum(4),
      () => x.softmax(3),
      () => nd.narrow(x, 0, 1, 5),
      () => x.gather(0, i32([[9, 9, 9]])),
      () => x.expand([1, 3]),
    ];
    for (const f of failing) assert.throws(f);
    assertUntouched([x, w], before, 'after failures');
    x.matmul(w).sum().backward();
    // d/dx sum(x @ w) = row sums of w, broadcast over x's rows
    const wv = Array.from(w.dataSync());
    const rowSums = [0, 1, 2].map((k) => wv[2 * k]! + wv[2 * k + 1]!);
    assert.deepEqual(Array.from(x.grad!.dataSync(), (v) => Math.round(v * 1e5) / 1e5), [...rowSums, ...rowSums].map((v) => Math.round(v * 1e5) / 1e5));
  });

  it('a function that throws inside noGrad, jvp or autograd.grad restores the modes', () => {
    assert.throws(() => nd.noGrad(() => seq([2]).matmul(seq([3]))), RangeError);
    assert.equal(nd.isGradEnabled(), true);
    assert.throws(() => nd.autograd.jvp((a) => a.reshape(7), [seq([2])], [seq([2])]), RangeError);
    // a later jvp is unaffected by the aborted one
    const [, t] = nd.autograd.jvp((a) => a.mul(3), [seq([2])], [nd.ones([2])]);
    assert.deepEqual(Array.from(t.dataSync()), [3, 3]);
    // a plain op after the aborted jvp carries no tangent bookkeeping and builds its graph normally
    const y = seq([2], true).mul(2);
    assert.equal(y.requiresGrad, true);
  });
});
