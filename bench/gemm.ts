/**
 * GEMM micro-benchmark of the wasm backend's matmul kernel (assembly/gemm.ts), called through the
 * backend directly (no tensor overhead). Prints median GFLOP/s for square float32 products and
 * the small shapes of MLP training (forward and both backward forms), on the threads the runtime
 * has (set NEEDLE_THREADS=1 for one thread), with the WebAssembly path forced (no BLAS).
 *
 * Usage: node build/bench/gemm.js [--sizes=64,128,...] [--f64] [--reps=N] [--path=wasm|auto]
 *   [--tasks=N] (force the split; default automatic) [--fresh] (a new output per call, as
 *   nd.matmul allocates: until the heap reuses blocks, writing C then faults in fresh pages,
 *   ~7% of a 1024^3 product on the 2-core VM measured)
 */
import '../src/index.js';
import { getBackend, type Dense, type MatmulSpec } from '../src/ndarray/backend.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { setMatmulPath, setMatmulTasks, type MatmulPath } from '../src/ndarray/wasm/matmul.js';
import type { DType } from '../src/ndarray/dtype.js';
import { performance } from 'node:perf_hooks';
import { median, time } from './util.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const sizes = (opt('sizes') ?? '64,128,256,512,1024,2048').split(',').map(Number);
const dtype: DType = args.includes('--f64') ? 'float64' : 'float32';
const reps = Number(opt('reps') ?? 9);
const fresh = args.includes('--fresh');
setMatmulPath((opt('path') ?? 'wasm') as MatmulPath);
setMatmulTasks(Number(opt('tasks') ?? 0));

const rt = wasmRuntime;
if (!rt) throw new Error('the wasm backend is unavailable');
const be = getBackend('wasm');

// wait for the workers to start
const t0 = Date.now();
while (rt.pool.ready < rt.pool.threads - 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));

function operand(len: number): Dense {
  const storage = be.allocate(dtype, len);
  const d = (storage as unknown as { data: Float32Array | Float64Array }).data;
  for (let i = 0; i < len; i++) d[i] = Math.random() - 0.5;
  return { storage, offset: 0 };
}

/**
 * [wall-clock GFLOP/s, GFLOP per CPU-second of this process]: the second divides by the time all
 * its threads ran, so it stays meaningful on a machine whose cores other processes share (it then
 * shows what a thread reaches while it runs, and the ratio of the two shows the contention).
 */
function gflops(m: number, n: number, k: number, transA = false, transB = false, batch = 1): [number, number] {
  const a = operand(batch * m * k);
  const b = operand(batch * k * n);
  const c = operand(batch * m * n);
  const spec: MatmulSpec = { batch, m, n, k, transA, transB, strideA: m * k, strideB: k * n };
  const flop = 2 * batch * m * n * k;
  const call = fresh
    ? (): void => be.matmul(a, b, { storage: be.allocate(dtype, batch * m * n), offset: 0 }, spec)
    : (): void => be.matmul(a, b, c, spec);
  const est = time(call, { reps: 3, minSampleMs: 10, warmupMs: 100 }).median;
  const inner = Math.max(1, Math.ceil(30 / est));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) call();
    const t1 = performance.now();
    const dc = process.cpuUsage(c0);
    wall.push((t1 - t0) / inner);
    cpu.push((dc.user + dc.system) / 1000 / inner);
  }
  return [flop / (median(wall) * 1e6), flop / (median(cpu) * 1e6)];
}

const fmt = ([w, c]: [number, number]): string => `${w.toFixed(1).padStart(6)} GFLOP/s  (${c.toFixed(1).padStart(5)} per CPU-s)`;

console.log(`gemm ${dtype}, threads ${rt.pool.threads} (ready ${rt.pool.ready + 1}), relaxed SIMD ${rt.relaxed}${fresh ? ', a fresh output per call' : ''}`);
for (const s of sizes) console.log(`  ${(s + '^3').padEnd(26)} ${fmt(gflops(s, s, s))}`);
const small: [string, number, number, number, boolean, boolean][] = [
  ['100x784 @ 784x100', 100, 100, 784, false, false],
  ['dW: (100x784)T @ 100x100', 784, 100, 100, true, false],
  ['dX: 100x100 @ (784x100)T', 100, 784, 100, false, true],
  ['100x100 @ 100x10', 100, 10, 100, false, false],
  ['dW: (100x100)T @ 100x10', 100, 10, 100, true, false],
  ['dX: 100x10 @ (100x10)T', 100, 100, 10, false, true],
];
for (const [name, m, n, k, ta, tb] of small) {
  const g = gflops(m, n, k, ta, tb);
  const us = (2 * m * n * k) / (g[0] * 1e3);
  console.log(`  ${name.padEnd(26)} ${fmt(g)}  ${us.toFixed(1).padStart(7)} us`);
}
process.exit(0);
