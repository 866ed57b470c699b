/**
 * The one torch-parity helper: loads fixtures written by tools/gen_fixtures.py and checks
 * shape, dtype, forward values, every input's gradient, the jvp and the second-order term, and
 * runs float64 finite-difference checks (first and second order) on the same cases.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';
import { assertClose } from '../helpers.js';

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

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures');

/** Loads test/fixtures/ops_<module>.json. */
export function loadCases(module: string): Case[] {
  const text = readFileSync(join(FIXTURES, `ops_${module}.json`), 'utf8');
  return (JSON.parse(text) as { cases: Case[] }).cases;
}

/** All fixture modules present. */
export function fixtureModules(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.startsWith('ops_') && f.endsWith('.json'))
    .map((f) => f.slice(4, -5));
}

const num = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

/** Decodes an encoded tensor. */
export function dec(e: Enc, opts: { requiresGrad?: boolean; dtype?: nd.DType } = {}): nd.Tensor {
  const dtype = (opts.dtype ?? e.dtype) as nd.DType;
  const t = nd.tensor(new Float64Array(e.data.map(num)), { shape: e.shape, dtype: dtype === 'bool' ? 'bool' : dtype });
  return opts.requiresGrad ? t.requiresGrad_(true) : t;
}

const isFloat = (dtype: string) => dtype === 'float32' || dtype === 'float64';

function tol(dtype: string, order: number): { atol: number; rtol: number } {
  if (dtype === 'float64') return { atol: 1e-10 * 10 ** order, rtol: 1e-9 * 10 ** order };
  return order === 0 ? { atol: 1e-5, rtol: 1e-5 } : { atol: 2e-5 * order, rtol: 1e-4 * order };
}

/** Checks one case against its fixture. */
export function checkCase(c: Case, fn: (xs: nd.Tensor[], p: any) => nd.Tensor): void {
  const xs = c.inputs.map((e) => dec(e, { requiresGrad: isFloat(e.dtype) }));
  const floats = xs.filter((x) => isFloat(x.dtype));
  const out = fn(xs, c.params);
  assert.deepEqual([...out.shape], c.out.shape, `${c.id}: shape`);
  assert.equal(out.dtype, c.out.dtype, `${c.id}: dtype`);
  assertClose(out, c.out.data.map(num), { ...tol(c.out.dtype, 0), msg: `${c.id}: forward` });
  if (!c.grads || !c.cotangent) return;
  const v = dec(c.cotangent);
  const grads = out.requiresGrad
    ? nd.autograd.grad(out, floats, { gradOutputs: v, createGraph: true, allowUnused: true })
    : floats.map((x) => nd.zerosLike(x));
  grads.forEach((g, i) => {
    const e = c.grads![i]!;
    assert.deepEqual([...g.shape], e.shape, `${c.id}: grad ${i} shape`);
    assert.equal(g.dtype, e.dtype, `${c.id}: grad ${i} dtype`);
    assertClose(g, e.data.map(num), { ...tol(e.dtype, 1), msg: `${c.id}: grad of input ${i}` });
  });
  if (c.ggrads && c.w && !c.ggrads_wrong_in_torch) {
    const terms = grads.map((g, i) => nd.sum(nd.mul(g, dec(c.w![i]!)))).filter((t) => t.requiresGrad);
    const gg = terms.length > 0
      ? nd.autograd.grad(terms.reduce((a, b) => nd.add(a, b)), floats, { allowUnused: true })
      : floats.map((x) => nd.zerosLike(x));
    gg.forEach((g, i) => {
      const e = c.ggrads![i]!;
      assertClose(g, e.data.map(num), { ...tol(e.dtype, 2), msg: `${c.id}: second-order grad of input ${i}` });
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
    assertClose(jt, c.jvp.data.map(num), { ...tol(c.jvp.dtype, 1), msg: `${c.id}: jvp` });
  }
}

/**
 * float64 central-difference checks of the first derivative (vjp) and the second (the gradient
 * of <vjp(v), w>), on the case's inputs cast to float64.
 */
export function gradcheckCase(c: Case, fn: (xs: nd.Tensor[], p: any) => nd.Tensor): void {
  if (!c.grads || c.gradcheck === false) return;
  const xs = c.inputs.map((e) => dec(e, { dtype: isFloat(e.dtype) ? 'float64' : (e.dtype as nd.DType) }));
  const fIdx = xs.map((x, i) => (isFloat(x.dtype) ? i : -1)).filter((i) => i >= 0);
  const call = (fx: nd.Tensor[]) => {
    const all = xs.slice();
    fIdx.forEach((i, k) => (all[i] = fx[k]!));
    return nd.cast(fn(all, c.params), 'float64');
  };
  const floats = fIdx.map((i) => xs[i]!);
  const opts = { eps: 1e-6, atol: 1e-6, rtol: 1e-4 };
  nd.autograd.gradcheck((...fx) => call(fx), floats, opts);
  // second order: h(x) = <vjp_f(x, v), w> is a scalar whose gradient is the HVP-like term
  const v = dec(c.cotangent!, { dtype: 'float64' });
  const ws = c.w!.map((w) => dec(w, { dtype: 'float64' }));
  const h = (...fx: nd.Tensor[]): nd.Tensor => {
    const out = call(fx);
    if (!out.requiresGrad) return nd.zeros([], { dtype: 'float64' });
    const gs = nd.autograd.grad(out, fx.filter((t) => t.requiresGrad), { gradOutputs: v, createGraph: true, allowUnused: true });
    return gs.map((g, i) => nd.sum(nd.mul(g, ws[i]!))).reduce((a, b) => nd.add(a, b));
  };
  nd.autograd.gradcheck(h, floats, { ...opts, atol: 1e-5, rtol: 1e-3 });
  // forward mode against central differences along the tangent direction
  if (c.tangents) {
    const ts = c.tangents.map((t) => dec(t, { dtype: 'float64' }));
    const [, jt] = nd.autograd.jvp((...fx) => call(fx), floats.map((x) => x.detach()), ts);
    const eps = 1e-6;
    const shifted = (sgn: number) => call(floats.map((x, i) => nd.add(x.detach(), nd.mul(ts[i]!, sgn * eps))));
    const numeric = nd.div(nd.sub(shifted(1), shifted(-1)), 2 * eps);
    assertClose(jt, numeric, { atol: 1e-6, rtol: 1e-4, msg: `${c.id}: jvp vs finite differences` });
  }
}
