/**
 * PyTorch parity for every op case in test/fixtures/ops_*.json: forward, gradients, jvp and
 * second-order terms against torch, then float64 finite-difference checks (first and second
 * order). Every op in the tables must have cases, and every case an op.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCase, fixtureModules, gradcheckCase, loadCases, type OpTable } from './parity/harness.js';
import { CORE_OPS } from './parity/core_ops.js';
import { TABLES } from './parity/tables.js';

const ALL: Record<string, OpTable> = { core: CORE_OPS, ...TABLES };

for (const mod of fixtureModules()) {
  const table = ALL[mod];
  describe(`parity: ${mod}`, () => {
    test('has an op table', () => assert.ok(table, `no op table registered for fixture module ${mod}`));
    if (!table) return;
    const cases = loadCases(mod);
    test('every op in the table has a case', () => {
      const covered = new Set(cases.map((c) => c.op));
      const missing = Object.keys(table).filter((k) => !covered.has(k));
      assert.deepEqual(missing, []);
    });
    for (const c of cases) {
      const fn = table[c.op];
      test(`${c.id} vs torch`, () => {
        assert.ok(fn, `no op ${c.op} in table ${mod}`);
        checkCase(c, fn!);
      });
      if (c.grads && c.gradcheck !== false && c.inputs.some((e) => e.dtype.startsWith('float'))) {
        test(`${c.id} float64 finite differences (vjp, 2nd order, jvp)`, () => gradcheckCase(c, fn!));
      }
    }
  });
}
