/**
 * The one torch-parity helper: loads fixtures written by tools/gen_fixtures.py and checks
 * shape, dtype, forward values, every input's gradient, the jvp and the second-order term (the
 * pure comparison lives in check.ts, which also runs inside the browser demo page), and runs
 * float64 finite-difference checks (first and second order) on the same cases.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { dec, isFloat, type Case } from './check.js';

export { checkCase, dec, ParityError, type Case, type Enc, type OpTable } from './check.js';

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
