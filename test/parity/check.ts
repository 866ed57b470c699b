/**
 * The pure half of the torch-parity helper: decoding a fixture case and checking needle-ts
 * against it (shape, dtype, forward values, every input's gradient, the second-order term and the
 * jvp). It imports nothing from Node (no node:assert, no node:fs; the library through
 * src/api.ts, which both entry points re-export), so the same code runs in Node (test/parity.test.ts
 * through harness.ts) and in a browser page (web/parity.ts, bundled by tools/build_web.mjs).
 * Mismatches throw a {@link ParityError} naming the case and what differs.
 */
import * as nd from '../../src/api.js';

/** needle-ts side of a case module: op name -> function of (inputs, params). */
export type OpTable = Record<string, (xs: nd.Tensor[], params: any) => nd.Tensor>;

type Num = number | string;
export interface Enc {
  shape: number[];
  dtype: string;
  data: Num[];
}
export interface Case {
  id: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Enc[];
  out: Enc;
  cotangent?: Enc;
  grads?: Enc[];
  w?: Enc[];
  ggrads?: Enc[];
  tangents?: Enc[];
  jvp?: Enc;
  /** False where finite differences are meaningless (ties, float32 round trips, huge inputs). */
  gradcheck?: boolean;
  /** torch's second derivative is wrong for this case (see tools/cases); gradcheck judges it. */
  ggrads_wrong_in_torch?: boolean;
}

/** A parity mismatch. */
export class ParityError extends Error {
  override name = 'ParityError';
}

export const num = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

/** Decodes an encoded tensor. */
export function dec(e: Enc, opts: { requiresGrad?: boolean; dtype?: nd.DType } = {}): nd.Tensor {
  const dtype = (opts.dtype ?? e.dtype) as nd.DType;
  const t = nd.tensor(new Float64Array(e.data.map(num)), { shape: e.shape, dtype: dtype === 'bool' ? 'bool' : dtype });
  return opts.requiresGrad ? t.requiresGrad_(true) : t;
}

export const isFloat = (dtype: string): boolean => dtype === 'float32' || dtype === 'float64';

/** The tolerances of a comparison: order 0 forward values, 1 gradients and jvps, 2 second order. */
export function tol(dtype: string, order: number): { atol: number; rtol: number } {
  if (dtype === 'float64') return { atol: 1e-10 * 10 ** order, rtol: 1e-9 * 10 ** order };
  return order === 0 ? { atol: 1e-5, rtol: 1e-5 } : { atol: 2e-5 * order, rtol: 1e-4 * order };
}

function values(x: nd.Tensor | readonly number[]): number[] {
  return x instanceof nd.Tensor ? Array.from(x.dataSync(), Number) : Array.from(x);
}

/**
 * Null when elementwise |a - e| <= atol + rtol * |e| (NaN matches NaN, infinities must match),
 * else a message naming the worst element.
 */
export function closeMismatch(actual: nd.Tensor | readonly number[], expected: nd.Tensor | readonly number[], atol: number, rtol: number): string | null {
  const a = values(actual);
  const e = values(expected);
  if (a.length !== e.length) return `length ${a.length} != ${e.length}`;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (!Number.isFinite(y) && x === y) continue;
    const err = Math.abs(x - y);
    if (!(err <= atol + rtol * Math.abs(y)) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  return worst < 0 ? null : `worst at flat index ${worst}: got ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`;
}

function expectClose(actual: nd.Tensor, expected: Enc, t: { atol: number; rtol: number }, msg: string): void {
  const m = closeMismatch(actual, expected.data.map(num), t.atol, t.rtol);
  if (m !== null) throw new ParityError(`${msg}: ${m}`);
}

function expectEqual(actual: unknown, expected: unknown, msg: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new ParityError(`${msg}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

/**
 * Cases whose float32 forward runs an algorithm with its own rounding: Winograd F(4x4, 3x3)
 * convolution (src/ops/winograd.ts) differs from the direct sum by a few 1e-6 of the output's
 * largest magnitude, not of each element, so the absolute tolerance of their forward and jvp
 * (a convolution too) scales with that magnitude.
 */
const SCALED_FORWARD = /^conv2d\/wino-/;

/** {@link tol} for `e`, its atol scaled by e's largest magnitude for {@link SCALED_FORWARD} cases. */
function forwardTol(c: Case, e: Enc, order: number): { atol: number; rtol: number } {
  const t = tol(e.dtype, order);
  if (!SCALED_FORWARD.test(c.id) || e.dtype !== 'float32') return t;
  const scale = e.data.reduce((m: number, v) => Math.max(m, Math.abs(num(v))), 0);
  return { atol: t.atol * Math.max(1, scale), rtol: t.rtol };
}

/** Checks one case against its fixture; throws a {@link ParityError} on a mismatch. */
export function checkCase(c: Case, fn: (xs: nd.Tensor[], p: any) => nd.Tensor): void {
  const xs = c.inputs.map((e) => dec(e, { requiresGrad: isFloat(e.dtype) }));
  const floats = xs.filter((x) => isFloat(x.dtype));
  const out = fn(xs, c.params);
  expectEqual([...out.shape], c.out.shape, `${c.id}: shape`);
  expectEqual(out.dtype, c.out.dtype, `${c.id}: dtype`);
  expectClose(out, c.out, forwardTol(c, c.out, 0), `${c.id}: forward`);
  if (!c.grads || !c.cotangent) return;
  const v = dec(c.cotangent);
  const grads = out.requiresGrad
    ? nd.autograd.grad(out, floats, { gradOutputs: v, createGraph: true, allowUnused: true })
    : floats.map((x) => nd.zerosLike(x));
  grads.forEach((g, i) => {
    const e = c.grads![i]!;
    expectEqual([...g.shape], e.shape, `${c.id}: grad ${i} shape`);
    expectEqual(g.dtype, e.dtype, `${c.id}: grad ${i} dtype`);
    expectClose(g, e, tol(e.dtype, 1), `${c.id}: grad of input ${i}`);
  });
  if (c.ggrads && c.w && !c.ggrads_wrong_in_torch) {
    const terms = grads.map((g, i) => nd.sum(nd.mul(g, dec(c.w![i]!)))).filter((t) => t.requiresGrad);
    const gg = terms.length > 0
      ? nd.autograd.grad(terms.reduce((a, b) => nd.add(a, b)), floats, { allowUnused: true })
      : floats.map((x) => nd.zerosLike(x));
    gg.forEach((g, i) => {
      const e = c.ggrads![i]!;
      expectClose(g, e, tol(e.dtype, 2), `${c.id}: second-order grad of input ${i}`);
    });
  }
  if (c.tangents && c.jvp) {
    const fIdx = xs.map((x, i) => (isFloat(x.dtype) ? i : -1)).filter((i) => i >= 0);
    const f = (...fx: nd.Tensor[]) => {
      const all = xs.slice();
      fIdx.forEach((i, k) => (all[i] = fx[k]!));
      return fn(all, c.params);
    };
    const prim = floats.map((x) => x.detach());
    const [, jt] = nd.autograd.jvp(f, prim, c.tangents.map((t) => dec(t)));
    expectClose(jt, c.jvp, forwardTol(c, c.jvp, 1), `${c.id}: jvp`);
  }
}

/** What {@link runCases} returns. */
export interface ParityReport {
  total: number;
  passed: number;
  failed: number;
  /** One line per failed case: its id and the mismatch (or the error it threw). */
  failures: string[];
  /** Ids of the cases that ran. */
  ids: string[];
}

/** Runs cases against op tables (module name -> table; a case's `module` field picks it, default 'core'). */
export function runCases(cases: (Case & { module?: string })[], tables: Record<string, OpTable>): ParityReport {
  const failures: string[] = [];
  for (const c of cases) {
    const fn = tables[c.module ?? 'core']?.[c.op];
    try {
      if (!fn) throw new ParityError(`no op ${c.op} in table ${c.module ?? 'core'}`);
      checkCase(c, fn);
    } catch (e) {
      failures.push(`${c.id}: ${(e as Error).message}`);
    }
  }
  return { total: cases.length, passed: cases.length - failures.length, failed: failures.length, failures, ids: cases.map((c) => c.id) };
}
