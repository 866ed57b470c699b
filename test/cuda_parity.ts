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
import type { AdamStepSpec, Backend, BinaryOp, Dense, PhiloxSpec, ReduceOp, Strided, UnaryOp } from '../src/ndarray/backend.js';
import { BINARY_OPS, COMPARISON_OPS, REDUCE_OPS, UNARY_OPS } from '../src/ndarray/backend.js';
import { cpuBackend } from '../src/ndarray/cpu/index.js';
import { philoxInto, uniform53 } from '../src/ndarray/cpu/philox.js';
import type { DType } from '../src/ndarray/dtype.js';
import * as nd from '../src/index.js';

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

/** The float64 uniforms of draws 0..n-1 of a Philox stream (Backend.philoxBernoulli's u). */
function philoxUniforms(sp: PhiloxSpec, n: number): number[] {
  const words: number[] = [];
  const block = new Uint32Array(4);
  for (let c = sp.counter; words.length < sp.phase + 2 * n; c++) {
    philoxInto(c >>> 0, Math.floor(c / 4294967296) >>> 0, 0, 0, sp.key0 >>> 0, sp.key1 >>> 0, block);
    words.push(...block);
  }
  return Array.from({ length: n }, (_, i) => uniform53(words[sp.phase + 2 * i]!, words[sp.phase + 2 * i + 1]!));
}

/** The next double above a non-negative x. */
function nextUp(x: number): number {
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  b[0]! += 1n;
  return f[0]!;
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

  add('philoxBernoulli is bitwise the reference stream (every phase, 64-bit counters, every dtype)', (be) => {
    const starts = [
      { key0: 0, key1: 0, counter: 0 },
      { key0: 0x9e3779b9, key1: 0x12345, counter: 17 },
      { key0: 0xffffffff, key1: 0xffffffff, counter: 2 ** 32 - 3 }, // the low word carries into the high one
      { key0: 42, key1: 7, counter: 2 ** 52 + 12345 },
    ];
    for (const st of starts) for (const phase of [0, 1, 2, 3]) for (const n of [1, 2, 7, 1023, 4099]) {
      const sp = { ...st, phase };
      // the uniforms of the stream: p = u[j] and the next double up decide element j on all 53 bits
      // (every word, every shift), which a random p would almost never test
      const u = philoxUniforms(sp, n);
      const picks = n <= 7 ? u.map((_, j) => j) : [0, 1, 2, 3, 4, 5, n >> 1, n - 2, n - 1];
      const cases: [DType, number, number][] = [['float32', 0.3, 1 / 0.7], ['float64', 0.5, 2], ['float32', 0, 3], ['float64', 1, 1.1]];
      for (const j of picks) cases.push(['float64', u[j]!, 1], ['float32', nextUp(u[j]!), 2]);
      if (n === 7 || n === 1023) cases.push(['int32', 0.4, -5], ['bool', 0.6, 1], ['float32', 0.9, 2 ** 40 + 0.3]);
      for (const [d, p, value] of cases) {
        const off = n % 3;
        // two more elements compared: nothing is written past n
        both(be, [], [{ d, n: n + 2, offset: off }], (b, _i, [o]) => b.philoxBernoulli!(o!, n, sp, p, value),
          exact(`philoxBernoulli ${d} n=${n} ${JSON.stringify(sp)} p=${p}`));
      }
    }
  });

  add('reduceAxis: every op and dtype, one thread per column and split columns, NaN columns', (be) => {
    // (outer, size, inner): odd sizes; few long columns take the two-pass split path
    const shapes: [number, number, number][] = [
      [1, 1, 1], [2, 1, 3], [3, 7, 5], [1, 1023, 2], [4, 33, 7], [2, 1000, 40], [1, 5, 1023], [3, 130, 700], [1, 4099, 2], [2, 2048, 5],
    ];
    for (const op of REDUCE_OPS) for (const d of DTYPES) for (const [outer, size, inner] of shapes) for (const special of [false, true]) {
      const n = outer * size * inner;
      const isArg = op === 'argmax' || op === 'argmin';
      const od: DType = isArg ? 'int32' : d;
      let data = values(d, n, 31 + size, special);
      const float = d === 'float32' || d === 'float64';
      if (op === 'prod' && float) data = data.map((x) => (Number.isFinite(x) ? 1 + x / 64 : x));
      // huge finite values overflow or not depending on the order of a split sum
      if ((op === 'sum' || op === 'prod') && float) data = data.map((x) => (Math.abs(x) > 1e30 ? 1.5 : x));
      // int32 products past 2^53 round differently in another order: keep them exact
      if (op === 'prod' && d === 'int32') data = data.map((x) => (x % 5 === 0 ? 2 : x % 2 ? -1 : 1)).map((x, i) => (i % 97 === 0 ? x : Math.abs(x)));
      const approx = (op === 'sum' || op === 'prod') && float;
      const what = `reduceAxis ${op} ${d} ${outer}x${size}x${inner} special=${special}`;
      const cmp = approx ? close(what, d === 'float32' ? 1e-6 : 1e-12, d === 'float32' ? 1e-5 : 1e-10) : exact(what);
      // two more outputs compared: nothing is written past outer * inner
      both(be, [{ d, data, offset: 1 }], [{ d: od, n: outer * inner + 2, offset: 2 }], (b, [x], [o]) => b.reduceAxis!(op as ReduceOp, x!, o!, outer, size, inner), cmp);
    }
    // an empty axis: sums 0, products 1
    for (const op of ['sum', 'prod'] as const) {
      both(be, [{ d: 'float32', data: [] }], [{ d: 'float32', n: 6 }], (b, [x], [o]) => b.reduceAxis!(op, x!, o!, 2, 0, 3), exact(`reduceAxis ${op} of an empty axis`));
    }
  });

  add('binaryStrided: every op and dtype over strided, flipped and broadcast views; false past 8 dims', (be) => {
    const vs = views(40);
    vs.push({ shape: [7], strides: [1], offset: 0, base: 7 }, { shape: [1023], strides: [-1], offset: 1022, base: 1023 }, { shape: [1], strides: [5], offset: 2, base: 4 });
    vs.forEach((v, vi) => {
      const n = v.shape.reduce((p, q) => p * q, 1);
      if (n === 0) return;
      // the second operand: the same shape, compact with some dims broadcast (stride 0) or reversed
      const r = rng(41 + vi);
      let acc = 1;
      let bOff = 0;
      const bStrides = new Array<number>(v.shape.length);
      for (let i = v.shape.length - 1; i >= 0; i--) {
        const u = r();
        if (u < 0.3) bStrides[i] = 0;
        else {
          bStrides[i] = u < 0.5 ? -acc : acc;
          if (u < 0.5) bOff += (v.shape[i]! - 1) * acc;
          acc *= v.shape[i]!;
        }
      }
      const bBase = acc + bOff + 2;
      const tooDeep = v.shape.filter((s) => s > 1).length > 8;
      for (const op of BINARY_OPS) for (const d of DTYPES) {
        let av = values(d, v.base, 42 + vi), bv = values(d, bBase, 43 + vi);
        if (op === 'pow' && d === 'int32') {
          av = av.map((x) => (x % 21) - 10);
          bv = bv.map((x) => Math.abs(x) % 10);
        }
        const od: DType = COMPARISON_OPS.has(op) ? 'bool' : d;
        const run = (b: Backend): { handled: boolean; got: number[] } => {
          const x = put(b, d, av), y = put(b, d, bv);
          const o = put(b, od, new Array<number>(n).fill(0), 1);
          const handled = b.binaryStrided!(op, { ...x, offset: v.offset, shape: v.shape, strides: v.strides },
            { ...y, offset: bOff, shape: v.shape, strides: bStrides }, o, n);
          return { handled, got: get(b, o, n + 2) };
        };
        const want = run(cpuBackend);
        const got = run(be);
        const what = `binaryStrided ${op} ${d} view ${vi} ${JSON.stringify(v)} b strides ${JSON.stringify(bStrides)}`;
        if (tooDeep) {
          // the 10-dim view: not handled, nothing written
          assert.equal(got.handled, false, what);
          assert.ok(got.got.every((x) => x === 0), what);
          continue;
        }
        assert.equal(got.handled, true, what);
        const cmp = op === 'pow' && d !== 'int32' && d !== 'bool' ? close(what, d === 'float32' ? 1e-6 : 1e-14, 1e-300) : exact(what);
        cmp(got.got, want.got);
      }
    });
  });

  add('batchNorm and batchNormBackward (affine or not, running statistics, odd shapes, one block per channel)', (be) => {
    const shapes: [number, number, number][] = [[2, 1, 1], [2, 3, 1], [4, 5, 7], [3, 2, 1023], [7, 3, 33], [128, 6, 1], [1, 2, 3000]];
    for (const d of ['float32', 'float64'] as DType[]) for (const [n, c, inner] of shapes) for (const affine of [true, false]) {
      const m = n * inner, size = n * c * inner;
      const x = values(d, size, 50 + inner, false).map((v, i) => v + (i % 3)); // a nonzero mean
      const w = values(d, c, 51, false), bias = values(d, c, 52, false);
      const rm = values(d, c, 53, false), rv = values(d, c, 54, false).map(Math.abs);
      const f = d === 'float32' ? Math.fround : (v: number) => v;
      const sp = { n, c, inner, eps: 1e-5 };
      const mom = 0.1;
      const what = `batchNorm ${d} (${n}, ${c}, ${inner}) affine=${affine}`;
      const tol = (i: number) => close(`${what} out ${i}`, d === 'float32' ? 1e-5 : 1e-11, d === 'float32' ? 1e-5 : 1e-11);
      for (const withRunning of affine ? [true, false] : [false]) {
        both(be, [{ d, data: x, offset: 1 }, { d, data: w }, { d, data: bias }, { d, data: rm }, { d, data: rv }],
          [{ d, n: size + 2, offset: 1 }, { d, n: c }, { d, n: c }, { d, n: c }, { d, n: c }, { d, n: c }],
          (b, [xx, ww, bb, mm, vv], [o, mu, va, rs, mo, vo]) => b.batchNorm!(xx!, affine ? ww! : null, affine ? bb! : null, o!, mu!, va!, rs!, sp,
            withRunning ? { mean: mm!, var: vv!, meanOut: mo!, varOut: vo!, keep: f(1 - mom), momentum: f(mom), unbias: f(m / (m - 1)) } : null),
          (got, want, i) => tol(i)(got, want));
      }
      const g = values(d, size, 55, false);
      for (const which of [[true, true, true], [true, false, false], [false, true, false], [false, false, true]] as const) {
        both(be, [{ d, data: g, offset: 1 }, { d, data: x }, { d, data: w }], [{ d, n: size + 2 }, { d, n: c + 1 }, { d, n: c + 1 }, { d, n: c }, { d, n: c }],
          (b, [gg, xx, ww], [gx, gw, gb, mu, rs]) => {
            const tmp = (k: number) => ({ storage: b.allocate(d, k), offset: 0 });
            b.batchNorm!(xx!, affine ? ww! : null, null, tmp(size), mu!, tmp(c), rs!, sp, null);
            b.batchNormBackward!(gg!, xx!, affine ? ww! : null, mu!, rs!, which[0] ? gx! : null, which[1] ? gw! : null, which[2] ? gb! : null, sp);
          },
          (got, want, i) => close(`batchNormBackward ${d} (${n}, ${c}, ${inner}) affine=${affine} out ${i} ${which}`, d === 'float32' ? 1e-4 : 1e-10, d === 'float32' ? 1e-4 : 1e-10)(got, want));
      }
    }
  });

  add('im2col and col2im (stride, dilation, padding, odd sizes; col2im bitwise in the reference order)', (be) => {
    type G = [planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, ph: number, pw: number, trim: number];
    const geos: G[] = [
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], [3, 7, 5, 3, 2, 1, 2, 1, 1, 1, 0, 0], [2, 9, 9, 3, 3, 2, 2, 2, 1, 2, 1, 0],
      [1, 31, 33, 5, 4, 3, 1, 1, 3, 3, 4, 0], [4, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1023, 1, 7, 1, 1, 1, 1, 0, 3, 0],
      [2, 10, 11, 3, 3, 2, 3, 1, 1, 1, 1, 1], // less padding after than before (one window row and column fewer)
    ];
    for (const [planes, h, w, kh, kw, sh, sw, dh, dw, ph, pw, trim] of geos) {
      const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1 - trim;
      const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1 - trim;
      const sp = { planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw };
      const what = JSON.stringify(sp);
      const ncols = planes * kh * kw * oh * ow, nimg = planes * h * w;
      for (const d of DTYPES) {
        both(be, [{ d, data: values(d, nimg, 60 + h, false), offset: 1 }], [{ d, n: ncols + 2, offset: 3 }],
          (b, [x], [o]) => b.im2col!(x!, o!, sp), exact(`im2col ${d} ${what}`));
        if (d === 'bool') continue;
        // int32 runs the reference on a host copy
        both(be, [{ d, data: values(d, ncols, 61 + w, false), offset: 2 }], [{ d, n: nimg + 2, offset: 1 }],
          (b, [c], [o]) => b.col2im!(c!, o!, sp), exact(`col2im ${d} ${what}`));
      }
    }
  });

  return cases;
}

/**
 * The nd.scope check shared by the emulation and the GPU test: trains Linear - BatchNorm1d - ReLU -
 * Linear with Adam on cuda for `steps` steps, each step inside nd.scope or not, and returns the
 * final parameters and buffers and the allocator's bytes after each step (after a collection of
 * earlier garbage first). `seen` receives each step's forward output.
 */
export function scopedTrainingRun(
  allocator: { collect(): void; stats(): { allocatedBytes: number } },
  scoped: boolean,
  size: { features: number; hidden: number; classes: number; batch: number; lr: number; steps: number },
  seen: (t: nd.Tensor) => void = () => {},
): { values: number[][]; bytes: number[] } {
  nd.manualSeed(3);
  const model = new nd.nn.Sequential(new nd.nn.Linear(size.features, size.hidden), new nd.nn.BatchNorm1d(size.hidden), new nd.nn.ReLU(), new nd.nn.Linear(size.hidden, size.classes));
  model.to('cuda');
  const opt = new nd.optim.Adam(model.parameters(), { lr: size.lr });
  const x = nd.randn([size.batch, size.features]).to('cuda');
  const y = nd.randint(0, size.classes, [size.batch], { dtype: 'int32' }).to('cuda');
  const step = () => {
    opt.zeroGrad();
    const out = model.forward(x) as nd.Tensor;
    seen(out);
    nd.nn.functional.crossEntropy(out, y).backward();
    opt.step();
  };
  allocator.collect();
  const bytes: number[] = [];
  for (let i = 0; i < size.steps; i++) {
    if (scoped) nd.scope(step);
    else step();
    bytes.push(allocator.stats().allocatedBytes);
  }
  return { values: [...model.parameters(), ...model.buffers()].map((p) => Array.from(p.dataSync(), Number)), bytes };
}
