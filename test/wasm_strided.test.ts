// The strided members (binaryStrided: binary ops of broadcast or strided views without compact
// copies; reduceAxis: reductions over the middle axis of (outer, size, inner)) of the wasm backend
// against the reference kernels (binary on compacted operands; reduce on the axis moved last), bit
// for bit: float32 and float64, every op with a kernel, broadcasts on either side, transposed and
// flipped views, size-1 dims, odd sizes (SIMD tails), NaN, infinities, signed zeros and ties; and
// the array-level ops (binaryNd, reduceNd) on every backend against copies without the members.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { getBackend, type Backend, type BinaryOp, type ReduceOp, type Strided } from '../src/ndarray/backend.js';
import type { DType } from '../src/ndarray/dtype.js';
import { NDArray } from '../src/ndarray/ndarray.js';
import { binaryNd, reduceNd } from '../src/ndarray/compute.js';
import { STRIDED_MEMBERS } from '../src/ndarray/cpu/strided.js';
import { planStrided } from '../src/ndarray/wasm/elementwise.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { mulberry32, sameBits } from './helpers.js';

const wasm = getBackend('wasm');
const cpu = getBackend('cpu');

before(async () => {
  const rt = wasmRuntime!;
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
});

const rand = mulberry32(77);

/** Random values with some NaN, infinities, signed zeros and repeated values. */
function data(n: number, dtype: DType): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (dtype === 'int32') out.push(Math.floor(r * 21) - 10);
    else if (r < 0.03) out.push(NaN);
    else if (r < 0.05) out.push(r < 0.04 ? Infinity : -Infinity);
    else if (r < 0.08) out.push(r < 0.065 ? 0 : -0);
    else if (r < 0.15) out.push(2); // ties
    else out.push(Math.round((rand() * 20 - 10) * 64) / 64 + rand() * 1e-3);
  }
  return out;
}

const arr = (device: string, dtype: DType, shape: number[], values: number[]) => NDArray.fromData(values, shape, dtype, device);

const OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const BOOL_OUT = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Operand layouts: [output shape, view of a, view of b] built from compact bases. */
type Layout = { name: string; shape: number[]; a: (x: NDArray) => NDArray; aShape: number[]; b: (x: NDArray) => NDArray; bShape: number[] };
const id = (x: NDArray) => x;
const LAYOUTS: Layout[] = [
  { name: 'row bias (N, C) + (C)', shape: [37, 19], aShape: [37, 19], a: id, bShape: [19], b: (x) => x.broadcastTo([37, 19]) },
  { name: 'column (N, C) * (N, 1)', shape: [23, 41], aShape: [23, 41], a: id, bShape: [23, 1], b: (x) => x.broadcastTo([23, 41]) },
  { name: 'broadcast left (C) - (N, C)', shape: [9, 33], aShape: [33], a: (x) => x.broadcastTo([9, 33]), bShape: [9, 33], b: id },
  { name: 'column left (N, 1) / (N, C)', shape: [17, 5], aShape: [17, 1], a: (x) => x.broadcastTo([17, 5]), bShape: [17, 5], b: id },
  { name: 'outer (N, 1) op (1, C)', shape: [13, 70], aShape: [13, 1], a: (x) => x.broadcastTo([13, 70]), bShape: [1, 70], b: (x) => x.broadcastTo([13, 70]) },
  { name: 'channels (N, C, L) op (1, C, 1)', shape: [3, 7, 11], aShape: [3, 7, 11], a: id, bShape: [1, 7, 1], b: (x) => x.broadcastTo([3, 7, 11]) },
  { name: '4-d (B, H, T, D) + (T, D)', shape: [2, 3, 5, 8], aShape: [2, 3, 5, 8], a: id, bShape: [5, 8], b: (x) => x.broadcastTo([2, 3, 5, 8]) },
  { name: 'transposed a', shape: [12, 9], aShape: [9, 12], a: (x) => x.permute([1, 0]), bShape: [12, 9], b: id },
  { name: 'flipped rows of b', shape: [6, 21], aShape: [6, 21], a: id, bShape: [6, 21], b: (x) => x.flip([0]) },
  { name: 'stepped slice', shape: [5, 16], aShape: [10, 16], a: (x) => x.slice([{ step: 2 }]), bShape: [16], b: (x) => x.broadcastTo([5, 16]) },
  { name: 'size-1 dims', shape: [1, 29, 1, 3], aShape: [1, 29, 1, 3], a: id, bShape: [29, 1, 1], b: (x) => x.broadcastTo([1, 29, 1, 3]) },
  { name: 'long rows (a thread split)', shape: [64, 4099], aShape: [64, 4099], a: id, bShape: [4099], b: (x) => x.broadcastTo([64, 4099]) },
];

describe('wasm binaryStrided against the reference binary on compact copies', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const L of LAYOUTS) {
      test(`${dtype}: ${L.name}`, () => {
        const n = L.shape.reduce((p, d) => p * d, 1);
        const av = data(L.aShape.reduce((p, d) => p * d, 1), dtype);
        const bv = data(L.bShape.reduce((p, d) => p * d, 1), dtype);
        for (const op of OPS) {
          const a = L.a(arr('wasm', dtype, L.aShape, av));
          const b = L.b(arr('wasm', dtype, L.bShape, bv));
          const outDt: DType = BOOL_OUT.has(op) ? 'bool' : dtype;
          const out = NDArray.empty(L.shape, outDt, 'wasm');
          const handled = wasm.binaryStrided!(op, a, b, out, n);
          const ref = NDArray.empty(L.shape, outDt, 'cpu');
          cpu.binary(op, L.a(arr('cpu', dtype, L.aShape, av)).compact(), L.b(arr('cpu', dtype, L.bShape, bv)).compact(), ref, n);
          if (!handled) {
            // declined layouts must leave the output alone for the caller's compact path
            assert.equal(planStrided(a as Strided, b as Strided), null, `${op} declined a layout with a plan`);
            continue;
          }
          sameBits(out, ref, `${op}`);
          // the cpu reference member agrees too
          const cref = NDArray.empty(L.shape, outDt, 'cpu');
          assert.ok(cpu.binaryStrided!(op, L.a(arr('cpu', dtype, L.aShape, av)), L.b(arr('cpu', dtype, L.bShape, bv)), cref, n));
          sameBits(cref, ref, `${op} (cpu reference)`);
        }
      });
    }
  }

  test('declines what it has no kernel for: pow, logical ops, int32, a broadcast last dim in both', () => {
    const a = arr('wasm', 'float32', [4, 5], data(20, 'float32'));
    const b = arr('wasm', 'float32', [5], data(5, 'float32')).broadcastTo([4, 5]);
    const out = NDArray.empty([4, 5], 'float32', 'wasm');
    assert.equal(wasm.binaryStrided!('pow', a, b, out, 20), false);
    const ai = arr('wasm', 'int32', [4, 5], data(20, 'int32'));
    const bi = arr('wasm', 'int32', [5], data(5, 'int32')).broadcastTo([4, 5]);
    assert.equal(wasm.binaryStrided!('add', ai, bi, NDArray.empty([4, 5], 'int32', 'wasm'), 20), false);
    const col = arr('wasm', 'float32', [4, 1], data(4, 'float32')).broadcastTo([4, 5]);
    assert.equal(planStrided(col as Strided, col as Strided), null);
  });
});

describe('binaryNd with the strided member equals the compacting path (every op, every device)', () => {
  for (const device of ['wasm', 'cpu']) {
    const PLAIN = `${device}-no-strided`;
    const copy: Record<string, unknown> = { ...getBackend(device), name: PLAIN };
    for (const k of STRIDED_MEMBERS) delete copy[k];
    nd.registerBackend(copy as unknown as Backend);
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      test(`${device} ${dtype}`, () => {
        for (const L of LAYOUTS.slice(0, 10)) {
          const av = data(L.aShape.reduce((p, d) => p * d, 1), dtype);
          const bv = data(L.bShape.reduce((p, d) => p * d, 1), dtype);
          for (const op of [...OPS, 'pow'] as BinaryOp[]) {
            if (dtype === 'int32' && (op === 'div' || op === 'pow')) continue;
            const mine = binaryNd(op, L.a(arr(device, dtype, L.aShape, av)), L.b(arr(device, dtype, L.bShape, bv)));
            const ref = binaryNd(op, L.a(arr(PLAIN, dtype, L.aShape, av)), L.b(arr(PLAIN, dtype, L.bShape, bv)));
            sameBits(mine, ref, `${L.name} ${op}`);
          }
        }
      });
    }
  }
});

const REDUCE_OPS: ReduceOp[] = ['sum', 'max', 'min', 'prod', 'argmax', 'argmin'];

describe('reduceAxis against the reference reduction of the axis moved last', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 2], [1, 5, 3], [2, 7, 8], [3, 4, 9], [1, 100, 100], [4, 33, 17], [2, 1, 13], [5, 9, 1031],
  ];
  for (const dtype of ['float32', 'float64', 'int32'] as const) {
    for (const [outer, size, inner] of shapes) {
      test(`${dtype} (${outer}, ${size}, ${inner})`, () => {
        const vals = data(outer * size * inner, dtype);
        for (const op of REDUCE_OPS) {
          const isArg = op === 'argmax' || op === 'argmin';
          const outDt: DType = isArg ? 'int32' : dtype;
          const ref = NDArray.empty([outer, inner], outDt, 'cpu');
          const moved = arr('cpu', dtype, [outer, size, inner], vals).permute([0, 2, 1]).compact();
          cpu.reduce(op, moved, ref, outer * inner, size);
          for (const [name, be] of [['wasm', wasm], ['cpu', cpu]] as const) {
            const out = NDArray.empty([outer, inner], outDt, name);
            be.reduceAxis!(op, arr(name, dtype, [outer, size, inner], vals), out, outer, size, inner);
            sameBits(out, ref, `${name} ${op}`);
          }
        }
      });
    }
  }

  test('reduceNd over leading, middle and size-1-separated axes equals the permuting path', () => {
    const PLAIN = 'wasm-no-strided';
    const cases: [number[], number[]][] = [
      [[100, 50], [0]], [[6, 7, 8], [1]], [[6, 7, 8], [0, 1]], [[4, 1, 5, 6], [0, 2]], [[3, 4, 5], [0, 2]], [[2, 3, 4, 5], [1, 2]],
    ];
    for (const [shape, axes] of cases) {
      const vals = data(shape.reduce((p, d) => p * d, 1), 'float32');
      for (const op of REDUCE_OPS) {
        if ((op === 'argmax' || op === 'argmin') && axes.length > 1) continue;
        for (const keepdim of [false, true]) {
          const mine = reduceNd(op, arr('wasm', 'float32', shape, vals), axes, keepdim);
          const ref = reduceNd(op, arr(PLAIN, 'float32', shape, vals), axes, keepdim);
          assert.deepEqual(mine.shape, ref.shape);
          // sums over the moved axis run in SIMD lanes on wasm: equal to float64 rounding
          if (op === 'sum' || op === 'prod') {
            const x = mine.dataSync();
            const y = ref.dataSync();
            for (let i = 0; i < x.length; i++) {
              const p = x[i]!;
              const q = y[i]!;
              assert.ok((p !== p && q !== q) || p === q || Math.abs(p - q) <= 1e-6 * Math.abs(q), `${op} ${shape} ${axes} at ${i}: ${p} vs ${q}`);
            }
          } else sameBits(mine, ref, `${op} ${shape} ${axes}`);
        }
      }
    }
  });
});
