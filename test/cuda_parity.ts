/**
 * Kernel-level parity of a backend with the cpu reference: every member of the Backend contract
 * on every dtype, with special values (NaN, infinities, signed zeros, int32 extremes), unaligned
 * offsets (the scalar paths) and aligned ones (the vector paths), strided views of up to 10 dims,
 * and reductions in all three shapes (warp per row, block per row, split rows). Shared by
 * test/cuda_emu.test.ts (host emulation) and test/cuda_device.test.ts (a real GPU).
 *
 * Exact equality is expected wherever the reference's result is exactly defined by IEEE
 * arithmetic (+ - * /, comparisons, conversions, min/max, sums of integers, Adam); float32
 * transcendental functions and float sums get a few-ulp tolerance.
 */
import assert from 'node:assert/strict';
import type { AdamStepSpec, Backend, BinaryOp, Dense, ReduceOp, Strided, UnaryOp } from '../src/ndarray/backend.js';
import { BINARY_OPS, COMPARISON_OPS, REDUCE_OPS, UNARY_OPS } from '../src/ndarray/backend.js';
import { cpuBackend } from '../src/ndarray/cpu/index.js';
import type { DType } from '../src/ndarray/dtype.js';

const DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool'];

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values for a dtype: random, with special values sprinkled in. */
function values(d: DType, n: number, seed: number, special = true): number[] {
  const r = rng(seed);
  const sp: Record<DType, number[]> = {
    float32: [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -2.5, 3.4e38, 1e-40],
    float64: [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -2.5, 1e308, 5e-324],
    int32: [0, 1, -1, 2147483647, -2147483648, 7, -7, 65536],
    bool: [0, 1],
  };
  return Array.from({ length: n }, (_, i) => {
    if (special && i % 7 === 3) return sp[d][(i >> 3) % sp[d].length]!;
    const u = r();
    switch (d) {
      case 'bool': return u < 0.5 ? 0 : 1;
      case 'int32': return Math.floor((u - 0.5) * 200);
      default: return (u - 0.5) * 8;
    }
  });
}

/** A storage of `be` holding `data` after `offset` elements of padding. */
function put(be: Backend, d: DType, data: readonly number[], offset = 0): Dense {
  const s = be.allocate(d, data.length + offset + 3);
  be.fill({ storage: s, offset: 0 }, data.length + offset + 3, 0);
  be.write(s, offset, data);
  return { storage: s, offset };
}

function get(be: Backend, x: Dense, n: number): number[] {
  return Array.from(be.readSync(x.storage, x.offset, n), Number);
}

/** Runs `fn` on both backends with the same inputs and compares `outputs`. */
function both(
  be: Backend,
  inputs: { d: DType; data: readonly number[]; offset?: number }[],
  outputs: { d: DType; n: number; offset?: number }[],
  fn: (b: Backend, ins: Dense[], outs: Dense[]) => void,
  cmp: (got: number[], want: number[], i: number) => void,
): void {
  const run = (b: Backend) => {
    const ins = inputs.map((x) => put(b, x.d, x.data, x.offset ?? 0));
    const outs = outputs.map((o) => put(b, o.d, new Array<number>(o.n).fill(0), o.offset ?? 0));
    fn(b, ins, outs);
    return outs.map((o, i) => get(b, o, outputs[i]!.n));
  };
  const want = run(cpuBackend);
  const got = run(be);
  got.forEach((g, i) => cmp(g, want[i]!, i));
}

/** Exact equality (NaN equals NaN; -0 and 0 differ). */
export function exact(msg: string): (got: number[], want: number[]) => void {
  return (got, want) => {
    assert.equal(got.length, want.length, msg);
    for (let i = 0; i < got.length; i++) {
      if (!Object.is(got[i], want[i])) assert.fail(`${msg}: element ${i}: got ${got[i]}, expected ${want[i]}`);
    }
  };
}

/** |got - want| <= atol + rtol * |want|, NaN matching NaN and infinities matching exactly. */
export function close(msg: string, rtol: number, atol = 0): (got: number[], want: number[]) => void {
  return (got, want) => {
    assert.equal(got.length, want.length, msg);
    for (let i = 0; i < got.length; i++) {
      const g = got[i]!, w = want[i]!;
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      if (!Number.isFinite(w) && g === w) continue;
      if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) assert.fail(`${msg}: element ${i}: got ${g}, expected ${w}`);
    }
  };
}

/** Ops whose float32 result the GPU computes with CUDA's float functions (a few ulp from the reference). */
const APPROX_UNARY = new Set<UnaryOp>(['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'rsqrt']);

export interface ParityCase {
  name: string;
  run(be: Backend): void | Promise<void>;
}

function unaryOut(op: UnaryOp, d: DType): DType {
  return op === 'isnan' || op === 'logicalNot' ? 'bool' : d;
}

/** Random strided views over a storage of `base` elements (shape, strides, offset). */
function views(seed: number): { shape: number[]; strides: number[]; offset: number; base: number }[] {
  const r = rng(seed);
  const out: { shape: number[]; strides: number[]; offset: number; base: number }[] = [];
  // hand-picked: transpose, flip, broadcast, step, 0-d, size-1 dims, contiguous, empty
  out.push({ shape: [3, 4], strides: [1, 3], offset: 0, base: 12 });
  out.push({ shape: [4, 5], strides: [-5, 1], offset: 15, base: 20 });
  out.push({ shape: [3, 6], strides: [0, 1], offset: 2, base: 8 });
  out.push({ shape: [5], strides: [3], offset: 1, base: 16 });
  out.push({ shape: [], strides: [], offset: 4, base: 6 });
  out.push({ shape: [2, 1, 3, 1], strides: [3, 7, 1, 9], offset: 0, base: 6 });
  out.push({ shape: [40], strides: [1], offset: 3, base: 45 });
  out.push({ shape: [2, 0, 3], strides: [3, 3, 1], offset: 0, base: 6 });
  // 10 dims of 2: more than the kernels' 8 after coalescing (permuted so nothing merges)
  const perm = [9, 0, 8, 1, 7, 2, 6, 3, 5, 4];
  out.push({ shape: new Array<number>(10).fill(2), strides: perm.map((p) => 2 ** p), offset: 0, base: 1024 });
  for (let t = 0; t < 12; t++) {
    const nd = 1 + Math.floor(r() * 5);
    const shape = Array.from({ length: nd }, () => 1 + Math.floor(r() * 4));
    // a compact base, permuted, with some dims reversed or stepped
    const baseShape = shape.map((s) => s * (r() < 0.3 ? 2 : 1));
    const baseStrides: number[] = [];
    let acc = 1;
    for (let i = nd - 1; i >= 0; i--) {
      baseStrides[i] = acc;
      acc *= baseShape[i]!;
    }
    let offset = 0;
    const strides = shape.map((s, i) => {
      const step = baseShape[i]! / s;
      let st = baseStrides[i]! * step;
      if (r() < 0.3) {
        offset += (s - 1) * st;
        st = -st;
      }
      return st;
    });
    const order = shape.map((_, i) => i).sort(() => r() - 0.5);
    out.push({ shape: order.map((i) => shape[i]!), strides: order.map((i) => strides[i]!), offset, base: acc });
  }
  return out;
}

export function parityCases(): ParityCase[] {
  const cases: ParityCase[] = [];
  const add = (name: string, run: (be: Backend) => void | Promise<void>) => cases.push({ name, run });

  add('write / readSync / read round trips, bool normalized', async (be) => {
    for (const d of DTYPES) {
      const data = values(d, 300, 1);
      const x = put(be, d, data, 5);
      assert.deepEqual(get(be, x, 300), get(cpuBackend, put(cpuBackend, d, data, 5), 300), d);
      const asyncRead = Array.from(await be.read(x.storage, 7, 100), Number);
      assert.deepEqual(asyncRead, get(cpuBackend, put(cpuBackend, d, data, 5), 300).slice(2, 102), `${d} read`);
    }
    const b = put(be, 'bool', [0, 2, NaN, -1, 0.5, 0]);
    assert.deepEqual(get(be, b, 6), [0, 1, 1, 1, 1, 0]);
  });

  add('fill (vector and scalar paths) converts like the typed arrays', (be) => {
    for (const d of DTYPES) for (const v of [NaN, 1.5, -3.7, 300, 2 ** 33 + 5, -0]) for (const [n, off] of [[1, 0], [7, 1], [1000, 0], [1001, 3]] as const) {
      both(be, [], [{ d, n, offset: off }], (b, _i, [o]) => b.fill(o!, n, v), exact(`fill ${d} ${v} n=${n} off=${off}`));
    }
  });

  add('cast between every pair of dtypes', (be) => {
    for (const a of DTYPES) for (const o of DTYPES) {
      const data = values(a, 401, 2);
      both(be, [{ d: a, data, offset: 1 }], [{ d: o, n: 401 }], (b, [x], [y]) => b.cast(x!, y!, 401), exact(`cast ${a} -> ${o}`));
    }
  });

  add('unary: every op on every dtype', (be) => {
    for (const op of UNARY_OPS) for (const d of DTYPES) for (const off of [0, 1]) {
      let data = values(d, 1003, 3);
      // integer inputs of exp and the like: keep results below 2^53, where libms agree after wrapping
      if (d === 'int32' && APPROX_UNARY.has(op)) data = data.map((x) => x % 20);
      const od = unaryOut(op, d);
      const cmp = d === 'float32' && APPROX_UNARY.has(op) ? close(`${op} ${d}`, 1e-6, 1e-30)
        : d !== 'float32' && APPROX_UNARY.has(op) ? close(`${op} ${d}`, 1e-14, 1e-300) : exact(`${op} ${d} off=${off}`);
      both(be, [{ d, data, offset: off }], [{ d: od, n: 1003, offset: off }], (b, [x], [y]) => b.unary(op, x!, y!, 1003), cmp);
    }
  });

  add('binary: every op on every dtype', (be) => {
    for (const op of BINARY_OPS) for (const d of DTYPES) for (const off of [0, 2]) {
      let a = values(d, 517, 4), c = values(d, 517, 5);
      // int32 powers beyond 2^53 round (then wrap) differently in different libms: keep them exact
      if (op === 'pow' && d === 'int32') {
        a = a.map((x) => (x % 21) - 10);
        c = c.map((x) => Math.abs(x) % 10);
      }
      const od = COMPARISON_OPS.has(op) ? 'bool' : d;
      const cmp = op === 'pow' && d !== 'int32' && d !== 'bool' ? close(`pow ${d}`, d === 'float32' ? 1e-6 : 1e-14, 1e-300) : exact(`${op} ${d} off=${off}`);
      both(be, [{ d, data: a, offset: off }, { d, data: c }], [{ d: od, n: 517 }], (b, [x, y], [z]) => b.binary(op, x!, y!, z!, 517), cmp);
    }
  });

  add('binaryScalar: every op, both orders, float32-exact and other scalars', (be) => {
    for (const op of BINARY_OPS) for (const d of DTYPES) for (const s of [2.5, 0.1, -3, NaN, 0, 1e10]) for (const rev of [false, true]) {
      let a = values(d, 301, 6);
      if (op === 'pow' && d === 'int32') a = a.map((x) => (x % 21) - 10);
      if (op === 'pow' && d === 'int32' && (s === 1e10 || s === 0.1 || s === 2.5) && rev) continue;
      const od = COMPARISON_OPS.has(op) ? 'bool' : d;
      const cmp = op === 'pow' && d !== 'int32' && d !== 'bool' ? close(`pow ${d}`, d === 'float32' ? 1e-6 : 1e-14, 1e-300) : exact(`${op} ${d} s=${s} rev=${rev}`);
      both(be, [{ d, data: a, offset: 1 }], [{ d: od, n: 301 }], (b, [x], [z]) => b.binaryScalar(op as BinaryOp, x!, s, z!, 301, rev), cmp);
    }
  });

  add('where', (be) => {
    for (const d of DTYPES) {
      const c = values('bool', 333, 7), a = values(d, 333, 8), bb = values(d, 333, 9);
      both(be, [{ d: 'bool', data: c }, { d, data: a, offset: 1 }, { d, data: bb }], [{ d, n: 333 }],
        (b, [x, y, z], [o]) => b.where(x!, y!, z!, o!, 333), exact(`where ${d}`));
    }
  });

  add('compact, setitem and setitemScalar over strided views (up to 10 dims)', (be) => {
    for (const d of DTYPES) {
      views(10).forEach((v, vi) => {
        const n = v.shape.reduce((p, q) => p * q, 1);
        const base = values(d, v.base, 11 + vi);
        const src = values(d, n, 12 + vi);
        const view = (x: Dense): Strided => ({ storage: x.storage, offset: v.offset, shape: v.shape, strides: v.strides });
        both(be, [{ d, data: base }], [{ d, n }], (b, [x], [o]) => b.compact(view(x!), o!), exact(`compact ${d} view ${vi} ${JSON.stringify(v)}`));
        if (v.strides.includes(0)) return; // a broadcast destination has no defined result
        both(be, [{ d, data: src }], [{ d, n: v.base }], (b, [s], [o]) => {
          b.write(o!.storage, 0, base);
          b.setitem(view(o!), s!);
        }, exact(`setitem ${d} view ${vi}`));
        both(be, [], [{ d, n: v.base }], (b, _i, [o]) => {
          b.write(o!.storage, 0, base);
          b.setitemScalar(view(o!), d === 'bool' ? 1 : -2.5);
        }, exact(`setitemScalar ${d} view ${vi}`));
      });
    }
  });

  add('reduce: every op and dtype, warp / block / split rows, NaN rows', (be) => {
    const shapes: [number, number][] = [[1, 1], [3, 5], [7, 33], [4, 1000], [2, 3000], [1, 40000], [3, 50000]];
    for (const op of REDUCE_OPS) for (const d of DTYPES) for (const [outer, size] of shapes) for (const special of [false, true]) {
      if (special && size > 3000) continue;
      const isArg = op === 'argmax' || op === 'argmin';
      const od: DType = isArg ? 'int32' : d;
      let data = values(d, outer * size, 13, special);
      if (op === 'prod' && (d === 'float32' || d === 'float64')) data = data.map((x) => (Number.isFinite(x) ? 1 + x / 64 : x));
      const approx = (op === 'sum' || op === 'prod') && (d === 'float32' || d === 'float64');
      const cmp = approx ? close(`${op} ${d} ${outer}x${size}`, d === 'float32' ? 1e-4 : 1e-12, d === 'float32' ? 1e-3 : 1e-10) : exact(`${op} ${d} ${outer}x${size} special=${special}`);
      // int32 products past 2^53 round differently in another order: keep them exact
      if (op === 'prod' && d === 'int32') data = data.map((x) => (size <= 40 && x % 5 === 0 ? 2 : x % 2 ? -1 : 1));
      both(be, [{ d, data, offset: 1 }], [{ d: od, n: outer, offset: 2 }], (b, [x], [o]) => b.reduce(op as ReduceOp, x!, o!, outer, size), cmp);
    }
  });

  add('matmul: transposes, batches, broadcast operands, int32 and k = 0', (be) => {
    const cases: [number, number, number, number, boolean, boolean, number, number][] = [
      [1, 3, 4, 5, false, false, 20, 20], [1, 17, 33, 19, true, false, 0, 0], [1, 16, 16, 16, false, true, 0, 0],
      [3, 5, 6, 7, true, true, 35, 42], [4, 2, 3, 4, false, false, 0, 12], [2, 9, 1, 9, false, false, 81, 9], [2, 3, 3, 0, false, false, 0, 0],
    ];
    for (const d of ['float32', 'float64', 'int32'] as DType[]) for (const [batch, m, n, k, tA, tB, sA, sB] of cases) {
      const na = (batch - 1) * sA + m * k, nb = (batch - 1) * sB + k * n;
      const a = values(d, Math.max(na, 1), 14, false), bvals = values(d, Math.max(nb, 1), 15, false);
      const cmp = d === 'int32' ? exact(`matmul ${d}`) : close(`matmul ${d} ${batch}x${m}x${n}x${k} ${tA} ${tB}`, d === 'float32' ? 1e-5 : 1e-12, d === 'float32' ? 1e-3 : 1e-10);
      both(be, [{ d, data: a, offset: 1 }, { d, data: bvals }], [{ d, n: batch * m * n, offset: 1 }],
        (b, [x, y], [o]) => b.matmul(x!, y!, o!, { batch, m, n, k, transA: tA, transB: tB, strideA: sA, strideB: sB }), cmp);
    }
  });

  add('gather and scatterAdd (bool on the host)', (be) => {
    const sp = { outer: 3, inner: 4, dim: 5, idxDim: 6 };
    const r = rng(16);
    const idx = Array.from({ length: sp.outer * sp.idxDim * sp.inner }, () => Math.floor(r() * sp.dim));
    for (const d of DTYPES) {
      const src = values(d, sp.outer * sp.dim * sp.inner, 17, false);
      both(be, [{ d, data: src, offset: 1 }, { d: 'int32', data: idx }], [{ d, n: idx.length }],
        (b, [s, i], [o]) => b.gather(s!, i!, o!, sp), exact(`gather ${d}`));
      const upd = values(d, idx.length, 18, false).map((x) => (d === 'float32' || d === 'float64' ? Math.round(x * 4) / 4 : x));
      both(be, [{ d: 'int32', data: idx }, { d, data: upd }], [{ d, n: sp.outer * sp.dim * sp.inner, offset: 1 }],
        (b, [i, u], [o]) => b.scatterAdd(o!, i!, u!, sp), exact(`scatterAdd ${d}`));
    }
  });

  add('softmax, logSoftmax and their backward (warp and block rows, infinite and NaN rows)', (be) => {
    for (const d of ['float32', 'float64'] as DType[]) for (const [outer, size] of [[5, 10], [3, 1500], [2, 1]] as const) for (const log of [false, true]) {
      const x = values(d, outer * size, 19, false);
      if (size === 10) {
        x[3] = -Infinity;
        x[12] = Infinity;
        x[25] = NaN;
        for (let i = 30; i < 40; i++) x[i] = -Infinity;
      }
      // log-softmax values near 0 are differences of numbers near log(size): an absolute tolerance
      const tol = close(`softmax ${d} ${outer}x${size} log=${log}`, d === 'float32' ? 1e-5 : 1e-12, d === 'float32' ? (log ? 2e-5 : 1e-6) : 1e-13);
      both(be, [{ d, data: x, offset: 1 }], [{ d, n: outer * size }], (b, [a], [o]) => b.softmax!(a!, o!, outer, size, log), tol);
      const y = values(d, outer * size, 20, false).map((v) => (log ? -Math.abs(v) : Math.abs(v) / 8));
      const g = values(d, outer * size, 21, false);
      both(be, [{ d, data: y }, { d, data: g, offset: 1 }], [{ d, n: outer * size }], (b, [yy, gg], [o]) => b.softmaxBackward!(yy!, gg!, o!, outer, size, log), tol);
    }
  });

  add('layerNorm forward and backward (with and without affine, warp and block rows)', (be) => {
    for (const d of ['float32', 'float64'] as DType[]) for (const [outer, size] of [[6, 10], [3, 1500]] as const) for (const affine of [true, false]) {
      const x = values(d, outer * size, 22, false), w = values(d, size, 23, false), bias = values(d, size, 24, false);
      const tol = close(`layerNorm ${d} ${outer}x${size} affine=${affine}`, d === 'float32' ? 2e-5 : 1e-11, d === 'float32' ? 2e-5 : 1e-12);
      both(be, [{ d, data: x, offset: 1 }, { d, data: w }, { d, data: bias }], [{ d, n: outer * size }, { d, n: outer }, { d, n: outer }],
        (b, [xx, ww, bb], [o, m, r]) => b.layerNorm!(xx!, affine ? ww! : null, affine ? bb! : null, o!, m!, r!, outer, size, 1e-5),
        tol);
      const g = values(d, outer * size, 25, false);
      for (const which of [[true, true, true], [true, false, false], [false, true, false], [false, false, true]] as const) {
        both(be, [{ d, data: g }, { d, data: x }, { d, data: w }], [{ d, n: outer * size }, { d, n: size }, { d, n: size }, { d, n: outer }, { d, n: outer }],
          (b, [gg, xx, ww], [gx, gw, gb, m, r]) => {
            const o = b.allocate(d, outer * size);
            b.layerNorm!(xx!, affine ? ww! : null, null, { storage: o, offset: 0 }, m!, r!, outer, size, 1e-5);
            b.layerNormBackward!(gg!, xx!, affine ? ww! : null, m!, r!, which[0] ? gx! : null, which[1] ? gw! : null, which[2] ? gb! : null, outer, size);
          },
          (got, want, i) => close(`layerNormBackward ${d} ${outer}x${size} out ${i} ${which}`, d === 'float32' ? 1e-4 : 1e-10, d === 'float32' ? 1e-4 : 1e-10)(got, want));
      }
    }
  });

  add('adamStep matches the reference bit for bit (Adam, AdamW, maximize, in place)', (be) => {
    for (const d of ['float32', 'float64'] as DType[]) for (const sp of [
      { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, maximize: false, step: 1 },
      { lr: 3e-4, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, decoupled: true, maximize: false, step: 7 },
      { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, decoupled: false, maximize: true, step: 3 },
    ] as AdamStepSpec[]) {
      const n = 1001;
      const p = values(d, n, 26, false), g = values(d, n, 27, false), m = values(d, n, 28, false).map((v) => v / 10), v = values(d, n, 29, false).map((x) => x * x);
      both(be, [{ d, data: p }, { d, data: g, offset: 1 }, { d, data: m }, { d, data: v }], [{ d, n }, { d, n }, { d, n }],
        (b, [pp, gg, mm, vv], [po, mo, vo]) => b.adamStep!({ param: pp!, grad: gg!, expAvg: mm!, expAvgSq: vv!, paramOut: po!, expAvgOut: mo!, expAvgSqOut: vo! }, n, sp),
        (got, want, i) => exact(`adam ${d} out ${i} ${JSON.stringify(sp)}`)(got, want));
      both(be, [{ d, data: g }], [{ d, n }, { d, n }, { d, n }], (b, [gg], [pp, mm, vv]) => {
        b.write(pp!.storage, 0, p);
        b.write(mm!.storage, 0, m);
        b.write(vv!.storage, 0, v);
        b.adamStep!({ param: pp!, grad: gg!, expAvg: mm!, expAvgSq: vv!, paramOut: pp!, expAvgOut: mm!, expAvgSqOut: vv! }, n, sp);
      }, (got, want, i) => exact(`adam in place ${d} out ${i}`)(got, want));
    }
  });

  return cases;
}
