/** Keeps docs/ops.md complete: every public op function is listed there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ops from '../src/ops/primitives.js';
import * as act from '../src/functional/activation.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('docs/ops.md lists every public op', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'ops.md'), 'utf8');
  const names = [...Object.keys(ops), ...Object.keys(act)].filter(
    (k) => typeof (ops as Record<string, unknown>)[k] === 'function' || typeof (act as Record<string, unknown>)[k] === 'function',
  );
  // op definition objects (*Op, *Ops tables) are internal; sumToShape is the engine's helper
  const publicFns = names.filter((n) => !/Ops?$/.test(n) && n !== 'sumToShape');
  const missing = publicFns.filter((n) => !new RegExp(`\\b${n}\\b`).test(doc));
  assert.deepEqual(missing, [], `not in docs/ops.md: ${missing.join(', ')}`);
});
