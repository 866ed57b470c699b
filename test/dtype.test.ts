/**
 * Dtypes: PyTorch's promotion table and torch.result_type rules (0-d tensors, JS scalars), through
 * the array layer and the public API; casts; which dtypes may require grad. Expected values come
 * from torch 1.13 (int64 results map to int32, our only integer dtype).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { NDArray } from '../src/ndarray/ndarray.js';
import { DTYPES, promoteTypes, resultType, type DType, type PromotionOperand } from '../src/ndarray/dtype.js';
import { assertThrows } from './helpers.js';

const ORDER: DType[] = ['bool', 'int32', 'float32', 'float64'];

// torch.promote_types(row, col) for bool, int32, float32, float64
const PROMOTE: DType[][] = [
  ['bool', 'int32', 'float32', 'float64'],
  ['int32', 'int32', 'float32', 'float64'],
  ['float32', 'float32', 'float32', 'float64'],
  ['float64', 'float64', 'float64', 'float64'],
];
// torch.result_type(dimensioned row, 0-d col)
const DIM_ZERO: DType[][] = [
  ['bool', 'int32', 'float32', 'float64'],
  ['int32', 'int32', 'float32', 'float64'],
  ['float32', 'float32', 'float32', 'float32'],
  ['float64', 'float64', 'float64', 'float64'],
];
// torch.result_type(tensor row, scalar True / 2 / 2.5): the same for dimensioned and 0-d tensors
const SCALARS: (number | boolean)[] = [true, 2, 2.5];
const TENSOR_SCALAR: DType[][] = [
  ['bool', 'int32', 'float32'],
  ['int32', 'int32', 'float32'],
  ['float32', 'float32', 'float32'],
  ['float64', 'float64', 'float64'],
];

const T = (dtype: DType, ndim: number): PromotionOperand => ({ kind: 'tensor', dtype, ndim });
const S = (value: number | boolean): PromotionOperand => ({ kind: 'scalar', value });
/** A public-API tensor of dtype with ndim 0 or 1. */
function tens(dtype: DType, ndim: 0 | 1): nd.Tensor {
  return ndim === 0 ? nd.tensor(1, { dtype }) : nd.tensor([1, 0], { dtype });
}

describe('type promotion (PyTorch table)', () => {
  test('DTYPES lists the four dtypes', () => {
    assert.deepEqual([...DTYPES].sort(), [...ORDER].sort());
  });

  test('promoteTypes for all pairs, symmetric', () => {
    ORDER.forEach((a, i) => ORDER.forEach((b, j) => {
      assert.equal(promoteTypes(a, b), PROMOTE[i]![j], `${a} ${b}`);
      assert.equal(nd.promoteTypes(b, a), PROMOTE[i]![j], `${b} ${a}`);
    }));
  });

  test('resultType: dimensioned vs dimensioned and 0-d vs 0-d follow promoteTypes', () => {
    ORDER.forEach((a, i) => ORDER.forEach((b, j) => {
      assert.equal(resultType(T(a, 1), T(b, 2)), PROMOTE[i]![j]);
      assert.equal(resultType(T(a, 0), T(b, 0)), PROMOTE[i]![j]);
    }));
  });

  test('resultType: dimensioned tensor with a 0-d tensor (category rule), either order', () => {
    ORDER.forEach((a, i) => ORDER.forEach((b, j) => {
      assert.equal(resultType(T(a, 1), T(b, 0)), DIM_ZERO[i]![j], `${a}[n] ${b}[]`);
      assert.equal(resultType(T(b, 0), T(a, 3)), DIM_ZERO[i]![j], `${b}[] ${a}[n,n,n]`);
    }));
  });

  test('resultType: tensors with JavaScript scalars', () => {
    ORDER.forEach((a, i) => SCALARS.forEach((s, j) => {
      assert.equal(resultType(T(a, 1), S(s)), TENSOR_SCALAR[i]![j], `${a}[n] ${s}`);
      assert.equal(resultType(S(s), T(a, 0)), TENSOR_SCALAR[i]![j], `${s} ${a}[]`);
    }));
    // the examples
    assert.equal(resultType(T('int32', 1), S(2.5)), 'float32');
    assert.equal(resultType(T('float64', 0), T('float32', 1)), 'float32');
    assert.equal(resultType(T('int32', 1), T('float64', 0)), 'float64');
    assert.equal(resultType(T('bool', 1), S(3)), 'int32');
    // three tiers at once: dim int32, 0-d float64, float scalar -> the 0-d tier's float64
    assert.equal(resultType(T('int32', 2), T('float64', 0), S(1.5)), 'float64');
    assert.equal(resultType(T('bool', 2), T('int32', 0), S(1.5)), 'float32');
    assert.equal(resultType(T('bool', 2), T('bool', 0), S(true)), 'bool');
    assert.equal(resultType(S(1), S(2)), 'int32');
    assert.equal(resultType(S(1), S(2.5)), 'float32');
    assert.equal(resultType(S(false)), 'bool');
  });

  test('through the public API (nd.add / nd.mul / methods)', () => {
    assert.equal(nd.add(nd.tensor([1, 2], { dtype: 'int32' }), 2.5).dtype, 'float32');
    assert.deepEqual(nd.add(nd.tensor([1, 2], { dtype: 'int32' }), 2.5).toArray(), [3.5, 4.5]);
    assert.equal(nd.add(nd.tensor(1, { dtype: 'float64' }), nd.tensor([1, 2])).dtype, 'float32');
    assert.equal(nd.add(nd.tensor([1, 2], { dtype: 'int32' }), nd.tensor(0.5, { dtype: 'float64' })).dtype, 'float64');
    assert.deepEqual(nd.add(nd.tensor([1, 2], { dtype: 'int32' }), nd.tensor(0.5, { dtype: 'float64' })).toArray(), [1.5, 2.5]);
    assert.equal(nd.add(nd.tensor([true, false]), 2).dtype, 'int32');
    assert.deepEqual(nd.add(nd.tensor([true, false]), 2).toArray(), [3, 2]);
    assert.equal(nd.mul(nd.tensor([1, 2], { dtype: 'int32' }), 3).dtype, 'int32');
    assert.equal(nd.mul(nd.tensor([true]), 2.5).dtype, 'float32');
    assert.equal(nd.tensor([1, 2], { dtype: 'float64' }).add(1.5).dtype, 'float64');
    assert.equal(nd.tensor(3, { dtype: 'int32' }).add(2.5).dtype, 'float32');
    assert.equal(nd.tensor(3, { dtype: 'float64' }).add(2).dtype, 'float64');
    // every pair of arithmetic dtypes via add (bool + bool arithmetic is excluded: see the op docs)
    for (const a of ORDER) for (const b of ORDER) for (const [na, nb] of [[1, 1], [1, 0], [0, 1], [0, 0]] as const) {
      if (a === 'bool' && b === 'bool') continue;
      const expect = resultType(T(a, na), T(b, nb));
      assert.equal(nd.add(tens(a, na), tens(b, nb)).dtype, expect, `${a}${na ? '[n]' : '[]'} + ${b}${nb ? '[n]' : '[]'}`);
    }
    // comparisons are bool whatever the operands
    assert.equal(nd.lt(nd.tensor([1], { dtype: 'int32' }), 2.5).dtype, 'bool');
    assert.deepEqual(nd.lt(nd.tensor([2, 3], { dtype: 'int32' }), 2.5).toArray(), [true, false]);
  });
});

describe('casts', () => {
  test('float -> int32 truncates toward zero (torch values)', () => {
    const x = nd.tensor([-2.7, 2.7, -0.5, 0.5, 1.99, -0]);
    const i = x.to('int32');
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(Array.from(i.dataSync()), [-2, 2, 0, 0, 1, 0]);
    assert.deepEqual(Array.from(nd.tensor([-1e6 - 0.5, 1e6 + 0.9], { dtype: 'float64' }).int().dataSync()), [-1000000, 1000000]);
    assert.deepEqual(nd.tensor([-2.7, 2.7], { dtype: 'int32' }).toArray(), [-2, 2]);
  });

  test('-> bool: nonzero (NaN and negatives included) is true', () => {
    const x = nd.tensor([NaN, 0, -0, 0.5, -3, 1e-30, Infinity]);
    assert.deepEqual(x.bool().toArray(), [true, false, false, true, true, true, true]);
    assert.deepEqual(x.to('float64').bool().toArray(), [true, false, false, true, true, true, true]);
    assert.deepEqual(nd.tensor([0, 2, -1], { dtype: 'int32' }).bool().toArray(), [false, true, true]);
    assert.deepEqual(nd.tensor([NaN, 0, 2, 0.25], { dtype: 'bool' }).toArray(), [true, false, true, true]);
    assert.deepEqual(nd.tensor([true, false]).toArray(), [true, false]);
    assert.equal(nd.tensor([true]).dtype, 'bool');
    assert.deepEqual(nd.full([2], NaN, { dtype: 'bool' }).toArray(), [true, true]);
    assert.deepEqual(Array.from(nd.full([2], 5, { dtype: 'bool' }).dataSync()), [1, 1]);
  });

  test('bool -> numbers, float64 -> float32 rounding, int32 -> float', () => {
    assert.deepEqual(Array.from(nd.tensor([true, false]).float().dataSync()), [1, 0]);
    assert.deepEqual(nd.tensor([true, false]).int().toArray(), [1, 0]);
    assert.equal(nd.tensor(0.1, { dtype: 'float64' }).float().item(), 0.10000000149011612);
    assert.deepEqual(nd.tensor([3, -4], { dtype: 'int32' }).double().toArray(), [3, -4]);
    const a = NDArray.fromData([1, 2], [2], 'float32');
    assert.ok(a.astype('float32') === a);
    const t = NDArray.fromData([1.5, -2.5, 0, 3], [2, 2], 'float64').transpose(0, 1);
    assert.deepEqual(Array.from(t.astype('int32').dataSync()), [1, 0, -2, 3]);
    assert.deepEqual(Array.from(t.astype('bool').dataSync()), [1, 0, 1, 1]);
    assert.equal(t.astype('float32').dtype, 'float32');
  });

  test('writes convert to the target dtype (torch setitem semantics)', () => {
    const i = nd.zeros([3], { dtype: 'int32' });
    i.set(0, 2.7);
    i.set(1, -2.7);
    assert.deepEqual(i.toArray(), [2, -2, 0]);
    const b = nd.zeros([3], { dtype: 'bool' });
    b.set(0, 0.5);
    b.set(1, NaN);
    assert.deepEqual(b.toArray(), [true, true, false]);
    b.set(0, 0);
    b.set('1:', nd.tensor([0.0, -7]));
    assert.deepEqual(Array.from(b.dataSync()), [0, 0, 1]);
  });
});

describe('requires grad only for floating dtypes', () => {
  test('int32 and bool tensors cannot require grad', () => {
    for (const dt of ['int32', 'bool'] as const) {
      assertThrows(() => nd.tensor([1, 0], { dtype: dt, requiresGrad: true }), TypeError,
        new RegExp(`^requiresGrad_: a floating-point tensor .*, got ${dt}$`));
      const t = nd.tensor([1, 0], { dtype: dt });
      assertThrows(() => t.requiresGrad_(), TypeError, /^requiresGrad_: /);
      assertThrows(() => t.requiresGrad_(true), TypeError, /^requiresGrad_: /);
      assert.equal(t.requiresGrad, false);
      t.requiresGrad_(false);
      assert.equal(t.requiresGrad, false);
    }
    assertThrows(() => nd.arange(3).requiresGrad_(), TypeError, /^requiresGrad_: .*, got int32$/);
  });

  test('float32 and float64 can', () => {
    for (const dt of ['float32', 'float64'] as const) {
      const t = nd.tensor([1, 2], { dtype: dt });
      assert.ok(t.requiresGrad_() === t);
      assert.equal(t.requiresGrad, true);
      assert.equal(nd.tensor([1], { dtype: dt, requiresGrad: true }).requiresGrad, true);
    }
  });

  test('unknown dtypes are TypeErrors in the error grammar', () => {
    assertThrows(() => nd.tensor([1], { dtype: 'int64' as DType }), TypeError,
      /^tensor: dtype must be one of float32, float64, int32, bool, got int64$/);
    assertThrows(() => nd.zeros([2], { dtype: 'half' as DType }), TypeError, /^full: dtype must be one of/);
  });
});

describe('int32 pow', () => {
  /** x ** y in exact integer arithmetic, wrapped to int32 (negative exponents truncate 1/x^|y|). */
  const exact = (x: number, y: number): number => {
    if (y < 0) return x === 1 ? 1 : x === -1 ? (y % 2 ? -1 : 1) : 0;
    return Number(BigInt.asIntN(32, BigInt(x) ** BigInt(y)));
  };
  const xs = [0, 1, -1, 2, -2, 3, -3, 7, 37, -37, 65536, 2147483647, -2147483648];
  const ys = [-3, -1, 0, 1, 2, 3, 13, 30, 31, 32, 40];
  const grid = xs.flatMap((x) => ys.map((y) => [x, y] as const));

  test('tensor ** tensor wraps like two\'s-complement integer arithmetic (PyTorch\'s integer pow)', () => {
    const a = nd.tensor(grid.map(([x]) => x), { dtype: 'int32' });
    const b = nd.tensor(grid.map(([, y]) => y), { dtype: 'int32' });
    const got = nd.pow(a, b);
    assert.equal(got.dtype, 'int32');
    assert.deepEqual(Array.from(got.dataSync()), grid.map(([x, y]) => exact(x, y)));
  });

  test('int32 tensor with an integer scalar, both orders', () => {
    const a = nd.tensor(xs, { dtype: 'int32' });
    for (const y of ys) {
      assert.deepEqual(Array.from(nd.pow(a, y).dataSync()), xs.map((x) => exact(x, y)), `x ** ${y}`);
    }
    const e = nd.tensor(ys, { dtype: 'int32' });
    for (const x of [-3, 2, 7]) {
      assert.deepEqual(Array.from(nd.pow(x, e).dataSync()), ys.map((y) => exact(x, y)), `${x} ** y`);
    }
  });
});
