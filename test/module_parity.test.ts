/** Every module case in test/fixtures/modules_*.json against PyTorch (forward, gradients, state). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModuleCase, loadModuleCases, moduleAreas } from './module_parity/harness.js';
import { MODULE_TABLES } from './module_parity/tables.js';

for (const area of moduleAreas()) {
  describe(`module parity: ${area}`, () => {
    const table = MODULE_TABLES[area];
    test('has a module table', () => assert.ok(table, `no module table registered for ${area}`));
    if (!table) return;
    for (const c of loadModuleCases(area)) {
      test(`${c.id} (${c.mode}) vs torch`, () => checkModuleCase(c, table));
    }
  });
}
