#!/usr/bin/env node
// `npm test`: the whole suite on every device configuration, one after the other:
//   1. wasm (the default device), threads = cores     (spec reporter)
//   2. cpu, the reference backend (NEEDLE_DEVICE=cpu)
//   3. wasm with 1 thread, 4. wasm with 4 threads, 5. wasm with 2 threads and every kernel
//      split (the data-race / determinism stress: NEEDLE_GRAIN_SCALE makes small inputs split)
// Usage: node tools/test_all.mjs [--only=wasm,cpu,t1,t4,split] [extra node --test args]
import { spawnSync } from 'node:child_process';

const configs = [
  { key: 'wasm', label: 'wasm backend (default), threads = cores', env: {}, reporter: 'spec' },
  { key: 'cpu', label: 'cpu reference backend', env: { NEEDLE_DEVICE: 'cpu' }, reporter: 'dot' },
  { key: 't1', label: 'wasm backend, 1 thread', env: { NEEDLE_THREADS: '1' }, reporter: 'dot' },
  { key: 't4', label: 'wasm backend, 4 threads', env: { NEEDLE_THREADS: '4' }, reporter: 'dot' },
  // tiny grains: even small test inputs take the threaded path of every kernel
  { key: 'split', label: 'wasm backend, 2 threads, every kernel split', env: { NEEDLE_THREADS: '2', NEEDLE_GRAIN_SCALE: '0.0001' }, reporter: 'dot' },
];
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice(7).split(',')) : null;
const extra = process.argv.slice(2).filter((a) => !a.startsWith('--only='));
const results = [];
for (const c of configs) {
  if (only && !only.has(c.key)) continue;
  console.log(`\n=== npm test: ${c.label} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--test', `--test-reporter=${c.reporter}`, ...extra, 'build/test/'], {
    stdio: 'inherit',
    env: { ...process.env, ...c.env },
  });
  results.push({ label: c.label, ok: r.status === 0, seconds: (Date.now() - t0) / 1000 });
  if (r.status !== 0) break;
}
console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.label}  (${r.seconds.toFixed(1)} s)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
