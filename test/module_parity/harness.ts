/**
 * Module parity with PyTorch: builds the needle-ts module for a fixture case, loads PyTorch's
 * initial state dict into it (so both run identical weights), runs the forward pass in the case's
 * mode, and compares every output, every parameter gradient (by PyTorch name), every input
 * gradient and the state after the forward (running statistics).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { dec, type Enc } from '../parity/harness.js';

/** How to build a module from a case's args, and (optionally) how to call it. */
export interface ModuleSpec {
  build: (args: any, dtype: nd.DType) => nd.nn.Module;
  /** Returns one tensor or a flat list, in the order PyTorch's outputs were flattened. */
  forward?: (m: any, xs: nd.Tensor[], args: any) => nd.Tensor | nd.Tensor[];
}
export type ModuleTable = Record<string, ModuleSpec>;

export interface ModuleCase {
  id: string;
  ctor: string;
  forward: string;
  args: Record<string, unknown>;
  mode: 'train' | 'eval';
  dtype: nd.DType;
  state: Record<string, Enc>;
  inputs: Enc[];
  outputs: Enc[];
  cotangents?: Enc[];
  param_grads?: Record<string, Enc>;
  input_grads?: Enc[];
  state_after: Record<string, Enc>;
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures');

export function moduleAreas(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.startsWith('modules_') && f.endsWith('.json'))
    .map((f) => f.slice(8, -5));
}

export function loadModuleCases(area: string): ModuleCase[] {
  return (JSON.parse(readFileSync(join(FIXTURES, `modules_${area}.json`), 'utf8')) as { cases: ModuleCase[] }).cases;
}

const isFloat = (d: string) => d === 'float32' || d === 'float64';
const tolOut = (d: string) => (d === 'float64' ? { atol: 1e-10, rtol: 1e-9 } : { atol: 2e-5, rtol: 1e-4 });
const tolGrad = (d: string) => (d === 'float64' ? { atol: 1e-9, rtol: 1e-8 } : { atol: 1e-4, rtol: 1e-3 });

/** Runs one case (forward, backward, state) against its fixture. */
export function checkModuleCase(c: ModuleCase, table: ModuleTable): void {
  const spec = table[c.ctor];
  assert.ok(spec, `no module spec ${c.ctor}`);
  const fwdSpec = table[c.forward] ?? spec;
  const m = spec.build(c.args, c.dtype);
  const state: nd.nn.StateDict = {};
  for (const [k, e] of Object.entries(c.state)) state[k] = dec(e);
  m.loadStateDict(state);
  m.train(c.mode === 'train');
  const xs = c.inputs.map((e) => dec(e, { requiresGrad: isFloat(e.dtype) }));
  const raw = fwdSpec.forward ? fwdSpec.forward(m, xs, c.args) : (m.forward as (...a: nd.Tensor[]) => nd.Tensor)(...xs);
  const outs = Array.isArray(raw) ? raw : [raw];
  assert.equal(outs.length, c.outputs.length, `${c.id}: number of outputs`);
  outs.forEach((o, i) => {
    const e = c.outputs[i]!;
    assert.deepEqual([...o.shape], e.shape, `${c.id}: output ${i} shape`);
    assertClose(o, dec(e), { ...tolOut(e.dtype), msg: `${c.id}: output ${i}` });
  });
  for (const [k, e] of Object.entries(c.state_after)) {
    const mine = m.stateDict()[k];
    assert.ok(mine, `${c.id}: state key ${k}`);
    assertClose(mine, dec(e), { ...tolOut(e.dtype), msg: `${c.id}: state after forward ${k}` });
  }
  if (!c.cotangents || !c.param_grads) return;
  const terms = outs.map((o, i) => (o.requiresGrad ? nd.sum(nd.mul(o, dec(c.cotangents![i]!))) : null)).filter((t): t is nd.Tensor => t !== null);
  const loss = terms.reduce((a, b) => nd.add(a, b));
  const params = m.namedParameters();
  const fl = xs.filter((x) => x.requiresGrad);
  const grads = nd.autograd.grad(loss, [...params.map(([, p]) => p), ...fl], { allowUnused: true });
  assert.deepEqual(params.map(([k]) => k).sort(), Object.keys(c.param_grads).sort(), `${c.id}: parameter names`);
  params.forEach(([k], i) => {
    const e = c.param_grads![k]!;
    assertClose(grads[i]!, dec(e), { ...tolGrad(e.dtype), msg: `${c.id}: grad of ${k}` });
  });
  fl.forEach((_, i) => {
    const e = c.input_grads![i]!;
    assertClose(grads[params.length + i]!, dec(e), { ...tolGrad(e.dtype), msg: `${c.id}: grad of input ${i}` });
  });
}
