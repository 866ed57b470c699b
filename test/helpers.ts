/** Shared test helpers: tolerance comparisons and small constructors. */
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';

/** Flattens a tensor or nested array to plain numbers. */
export function flat(x: nd.Tensor | unknown): number[] {
  if (x instanceof nd.Tensor) return Array.from(x.dataSync(), Number);
  if (Array.isArray(x)) return (x as unknown[]).flatMap((v) => flat(v));
  if (typeof x === 'boolean') return [x ? 1 : 0];
  return [x as number];
}

/** Asserts elementwise |a - e| <= atol + rtol * |e| (NaN matches NaN, infinities must match). */
export function assertClose(actual: nd.Tensor | unknown, expected: nd.Tensor | unknown, opts: { atol?: number; rtol?: number; msg?: string } = {}): void {
  const a = flat(actual);
  const e = flat(expected);
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  assert.equal(a.length, e.length, `${opts.msg ?? ''} length ${a.length} != ${e.length}`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (!Number.isFinite(y) && x === y) continue;
    const err = Math.abs(x - y);
    const tol = atol + rtol * Math.abs(y);
    if (!(err <= tol)) {
      if (worst < 0 || err > worstErr || Number.isNaN(err)) {
        worst = i;
        worstErr = err;
      }
    }
  }
  if (worst >= 0) {
    assert.fail(`${opts.msg ?? 'values differ'}: worst at flat index ${worst}: got ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Asserts a tensor's shape. */
export function assertShape(t: nd.Tensor, shape: readonly number[], msg?: string): void {
  assert.deepEqual([...t.shape], [...shape], msg);
}

/** Asserts that `fn` throws `type` with a message matching `re` (the error grammar). */
export function assertThrows(fn: () => unknown, type: new (...a: never[]) => Error, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.match((err as Error).message, re);
    return true;
  });
}

/** Seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deterministic random tensor maker, as each test file defines it. */
export type RandomTensor = (shape: number[], opts: { seed: number; dtype: nd.DType; device: string }) => nd.Tensor;

/**
 * float64 checks of `f`'s first and second derivative (through createGraph) and of its jvp, by
 * central differences; with `forwardOverReverse`, also the jvp of the gradient. Directions and
 * cotangents come from `rnd`.
 */
export function checkDerivatives(
  f: (...xs: nd.Tensor[]) => nd.Tensor, inputs: nd.Tensor[], rnd: RandomTensor, forwardOverReverse = false,
): void {
  const opts = { eps: 1e-6, atol: 1e-6, rtol: 1e-4 };
  nd.autograd.gradcheck(f, inputs, opts);
  const out = f(...inputs.map((x) => x.detach()));
  const v = rnd([...out.shape], { seed: 31, dtype: 'float64', device: inputs[0]!.device });
  const ws = inputs.map((x, i) => rnd([...x.shape], { seed: 40 + i, dtype: 'float64', device: x.device }));
  const h = (...xs: nd.Tensor[]) => {
    const gs = nd.autograd.grad(f(...xs), xs, { gradOutputs: v, createGraph: true, allowUnused: true });
    return gs.map((g, i) => nd.sum(nd.mul(g, ws[i]!))).reduce((a, b) => nd.add(a, b));
  };
  nd.autograd.gradcheck(h, inputs, { ...opts, atol: 1e-5, rtol: 1e-3 });
  const ts = inputs.map((x, i) => rnd([...x.shape], { seed: 50 + i, dtype: 'float64', device: x.device }));
  const [, jt] = nd.autograd.jvp(f, inputs.map((x) => x.detach()), ts);
  const eps = 1e-6;
  const shifted = (s: number) => f(...inputs.map((x, i) => nd.add(x.detach(), nd.mul(ts[i]!, s * eps))));
  assertClose(jt, nd.div(nd.sub(shifted(1), shifted(-1)), 2 * eps), { atol: 1e-6, rtol: 1e-4, msg: 'jvp' });
  if (!forwardOverReverse) return;
  // forward over reverse: the jvp of a gradient equals its finite difference
  const gradF = (...xs: nd.Tensor[]) => nd.autograd.grad(f(...xs), xs[0]!, { gradOutputs: v, createGraph: true })[0]!;
  const [, jg] = nd.autograd.jvp((...xs) => gradF(...xs.map((x) => x.requiresGrad_(true))), inputs.map((x) => x.detach()), ts);
  const gShift = (s: number) => gradF(...inputs.map((x, i) => nd.add(x.detach(), nd.mul(ts[i]!, s * eps)).requiresGrad_(true)));
  assertClose(jg, nd.div(nd.sub(gShift(1), gShift(-1)), 2 * eps), { atol: 1e-5, rtol: 1e-3, msg: 'jvp of the gradient' });
}

type HasData = { dataSync(): ArrayLike<number | bigint> };

/**
 * Checks two arrays element by element (as numbers, after their lengths): `check(p, q)` returns
 * null when the pair agrees, else what is wrong, which fails with `msg` and the element's index.
 */
export function eachElement(a: HasData, b: HasData, msg: string, check: (p: number, q: number) => string | null): void {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.equal(x.length, y.length, msg);
  for (let i = 0; i < x.length; i++) {
    const wrong = check(Number(x[i]), Number(y[i]));
    if (wrong !== null) assert.fail(`${msg}: element ${i}: ${wrong}`);
  }
}

/** Bitwise equality of two arrays' values (NaN equals NaN; -0 differs from 0). */
export function sameBits(a: HasData, b: HasData, msg: string): void {
  eachElement(a, b, msg, (p, q) => ((p !== p && q !== q) || Object.is(p, q) ? null : `${p} != ${q}`));
}
