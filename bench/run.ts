/**
 * `npm run bench`: needle-ts (cpu backend) against TensorFlow.js (cpu backend) in the same process.
 * Prints a table of median times, GFLOP/s for matmul and conv, and the ratio tfjs / needle (above
 * 1 means needle is faster), then writes the same table to docs/benchmarks.md.
 *
 * Usage: node build/bench/run.js [--quick] [--no-write] [--only=<substring>] [--device=cpu|wasm]
 *
 * --device picks needle's device (default cpu: this file is the cpu-backend anchor; the wasm
 * backend's suite is bench/perf.ts). docs/benchmarks.md is written for the cpu device only.
 */
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as nd from '../src/index.js';
import { registerTfjsGradients } from './tfjs_grads.js';
import { fmtMs, markdownTable, textTable, time, type TimingOptions } from './util.js';

type Fn = () => void;

interface Case {
  group: string;
  name: string;
  /** Floating-point operations per call (for GFLOP/s), when meaningful. */
  flops?: number;
  needle: () => Fn | string;
  tfjs: () => Fn;
  opts?: TimingOptions;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const noWrite = args.includes('--no-write');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const device = args.find((a) => a.startsWith('--device='))?.slice('--device='.length) ?? 'cpu';
// before any tensor below is made (the cases are built at import)
nd.setDefaultDevice(device);

/** A float32 tfjs tensor with the same values as a needle tensor. */
function tfOf(t: nd.Tensor): tf.Tensor {
  return tf.tensor(t.dataSync() as Float32Array, [...t.shape], 'float32');
}

/** Runs a tfjs computation and frees everything it made (tfjs cpu is synchronous). */
function tfRun(f: () => tf.Tensor | tf.Tensor[]): Fn {
  return () => {
    const r = tf.tidy(f);
    if (Array.isArray(r)) for (const x of r) x.dispose();
    else r.dispose();
  };
}

const cases: Case[] = [];

// ---- matmul ------------------------------------------------------------------------------------
for (const n of [64, 128, 256, 512, 1024]) {
  const a = nd.randn([n, n]);
  const b = nd.randn([n, n]);
  const big = n >= 512;
  cases.push({
    group: 'matmul',
    name: `matmul ${n}x${n}`,
    flops: 2 * n * n * n,
    needle: () => () => { nd.matmul(a, b); },
    tfjs: () => {
      const ta = tfOf(a), tb = tfOf(b);
      return tfRun(() => tf.matMul(ta, tb));
    },
    opts: big ? { reps: 7, minSampleMs: 0, warmupMs: 0 } : { reps: 11 },
  });
}

// ---- elementwise (1M float32) ------------------------------------------------------------------
const N = 1 << 20;
{
  const x = nd.randn([N]);
  const y = nd.randn([N]);
  let tx: tf.Tensor, ty: tf.Tensor;
  const tfInputs = () => {
    tx ??= tfOf(x);
    ty ??= tfOf(y);
  };
  const ew = (name: string, needle: Fn, tfF: () => tf.Tensor) =>
    cases.push({
      group: 'elementwise',
      name: `${name} (1M)`,
      needle: () => needle,
      tfjs: () => { tfInputs(); return tfRun(tfF); },
    });
  ew('add x+y', () => { nd.add(x, y); }, () => tf.add(tx, ty));
  ew('mul x*y', () => { nd.mul(x, y); }, () => tf.mul(tx, ty));
  ew('exp', () => { nd.exp(x); }, () => tf.exp(tx));
  ew('relu', () => { nd.relu(x); }, () => tf.relu(tx));
  ew('a*x+b (scalars)', () => { nd.add(nd.mul(x, 2.5), 1.5); }, () => tf.add(tf.mul(tx, 2.5), 1.5));
}

// ---- reductions --------------------------------------------------------------------------------
{
  const x = nd.randn([1024, 1024]);
  let tx: tf.Tensor;
  const red = (name: string, needle: Fn, tfF: () => tf.Tensor) =>
    cases.push({
      group: 'reduction',
      name,
      needle: () => needle,
      tfjs: () => { tx ??= tfOf(x); return tfRun(tfF); },
    });
  red('sum all (1024x1024)', () => { x.sum(); }, () => tf.sum(tx));
  red('sum last axis (1024x1024)', () => { x.sum(-1); }, () => tf.sum(tx, -1));
  red('max axis 0 (1024x1024)', () => { x.max(0); }, () => tf.max(tx, 0));
}

// ---- conv2d ------------------------------------------------------------------------------------
{
  const [B, C, O, H, W, K] = [8, 16, 16, 32, 32, 3];
  const x = nd.randn([B, C, H, W]);
  const w = nd.randn([O, C, K, K]);
  cases.push({
    group: 'conv',
    name: `conv2d ${B}x${C}x${H}x${W}, ${C}->${O}, 3x3, pad 1`,
    flops: 2 * B * O * H * W * C * K * K,
    needle: () => {
      const conv = (nd as unknown as Record<string, unknown>)['conv2d'];
      if (typeof conv !== 'function') return 'skipped (not available)';
      const f = conv as (...a: unknown[]) => nd.Tensor;
      // PyTorch order conv2d(input, weight, bias, opts); fall back to conv2d(input, weight, opts).
      const attempts: (() => nd.Tensor)[] = [
        () => f(x, w, null, { stride: 1, padding: 1 }),
        () => f(x, w, { stride: 1, padding: 1 }),
      ];
      for (const at of attempts) {
        try {
          const out = at();
          if (out.shape.join(',') === [B, O, H, W].join(',')) return () => { at(); };
        } catch {
          // try the next calling convention
        }
      }
      return 'skipped (conv2d call failed)';
    },
    tfjs: () => {
      // NHWC input, HWIO filter
      const tx = tf.transpose(tfOf(x), [0, 2, 3, 1]);
      const tw = tf.transpose(tfOf(w), [2, 3, 1, 0]);
      return tfRun(() => tf.conv2d(tx as tf.Tensor4D, tw as tf.Tensor4D, 1, 'same'));
    },
  });
}

// ---- MLP forward + backward --------------------------------------------------------------------
{
  const [batch, din, hid, dout] = [100, 784, 100, 10];
  const X = nd.randn([batch, din]);
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % dout);
  const Y = nd.tensor(labels, { dtype: 'int32', shape: [batch, 1] });
  const W1 = nd.mul(nd.randn([din, hid]), Math.sqrt(2 / din)).detach().requiresGrad_();
  const b1 = nd.zeros([hid], { requiresGrad: true });
  const W2 = nd.mul(nd.randn([hid, dout]), Math.sqrt(2 / hid)).detach().requiresGrad_();
  const b2 = nd.zeros([dout], { requiresGrad: true });
  const params = [W1, b1, W2, b2];
  cases.push({
    group: 'mlp',
    name: `MLP ${din}-${hid}-${dout} fwd+bwd (batch ${batch})`,
    // matmuls: layer 1 forward + dW1 (the input needs no gradient), layer 2 forward + dW2 + dh
    flops: 2 * batch * (2 * din * hid + 3 * hid * dout),
    needle: () => () => {
      for (const p of params) p.grad = null;
      const h = nd.relu(nd.add(nd.matmul(X, W1), b1));
      const logits = nd.add(nd.matmul(h, W2), b2);
      const logp = nd.logSoftmax(logits, -1);
      const loss = nd.neg(nd.mean(nd.gather(logp, 1, Y)));
      loss.backward();
    },
    tfjs: () => {
      const tX = tfOf(X);
      const tY = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), dout), 'float32');
      const tp = params.map(tfOf);
      const lossFn = (w1: tf.Tensor, c1: tf.Tensor, w2: tf.Tensor, c2: tf.Tensor): tf.Scalar => {
        const h = tf.relu(tf.add(tf.matMul(tX, w1), c1));
        const logits = tf.add(tf.matMul(h, w2), c2);
        const logp = tf.logSoftmax(logits, -1);
        return tf.neg(tf.mean(tf.sum(tf.mul(logp, tY), -1))) as tf.Scalar;
      };
      const g = tf.grads(lossFn as (...a: tf.Tensor[]) => tf.Tensor);
      return tfRun(() => g(tp));
    },
  });
}

// ---- run -----------------------------------------------------------------------------------------
interface Row {
  c: Case;
  needleMs: number | null;
  tfjsMs: number;
  note?: string;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  registerTfjsGradients();
  tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner
  await tf.setBackend('cpu');
  await tf.ready();
  const t0 = Date.now();
  console.log(`machine: ${machine()}`);
  console.log(`needle-ts ${device} backend vs TensorFlow.js ${tf.version_core} (${tf.getBackend()} backend); medians in ms\n`);
  const rows: Row[] = [];
  for (const c of cases) {
    if (only && !c.name.includes(only) && c.group !== only) continue;
    let opts: TimingOptions = c.opts ?? {};
    if (quick) opts = { ...opts, reps: 3, minSampleMs: Math.min(opts.minSampleMs ?? 20, 5), warmupMs: 0 };
    const nf = c.needle();
    let needleMs: number | null = null;
    let note: string | undefined;
    if (typeof nf === 'string') note = nf;
    else needleMs = time(nf, opts).median;
    const tfjsMs = time(c.tfjs(), opts).median;
    const row: Row = { c, needleMs, tfjsMs };
    if (note !== undefined) row.note = note;
    rows.push(row);
    process.stdout.write(`  ${c.name}: needle ${needleMs === null ? note : fmtMs(needleMs) + ' ms'}, tfjs ${fmtMs(tfjsMs)} ms\n`);
  }
  const gf = (flops: number | undefined, ms: number | null) =>
    flops === undefined || ms === null ? '' : (flops / ms / 1e6).toFixed(2);
  const header = ['benchmark', 'needle ms', 'tfjs ms', 'needle GFLOP/s', 'tfjs GFLOP/s', 'tfjs/needle'];
  const cells = rows.map((r) => [
    r.c.name,
    r.needleMs === null ? '-' : fmtMs(r.needleMs),
    fmtMs(r.tfjsMs),
    gf(r.c.flops, r.needleMs),
    gf(r.c.flops, r.tfjsMs),
    r.needleMs === null ? (r.note ?? '') : (r.tfjsMs / r.needleMs).toFixed(2) + 'x',
  ]);
  console.log('\n' + textTable(header, cells));
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`\n(ratio > 1: needle faster; total ${secs} s)`);

  if (!noWrite && !quick && !only && device !== 'cpu') console.log('(docs/benchmarks.md holds the cpu backend: not written for this device)');
  if (!noWrite && !quick && !only && device === 'cpu') {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const docs = path.resolve(here, '..', '..', 'docs');
    fs.mkdirSync(docs, { recursive: true });
    const md = [
      '# Benchmarks',
      '',
      'Generated by `npm run bench` (bench/run.ts): needle-ts on its plain-TypeScript `cpu` backend',
      `against TensorFlow.js ${tf.version_core} on its \`cpu\` backend, in the same Node process.`,
      'Times are medians of 11 timed samples (7 for matmul n >= 512) after a warm-up; fast ops are',
      'repeated inside a sample (each sample lasts at least 20 ms) and the per-call time is reported.',
      'The ratio is tfjs time / needle time, so above 1 means needle-ts is faster. Inputs are float32;',
      'matmul is square n x n @ n x n; elementwise and reductions use 1M (2^20) elements; conv2d is',
      'NCHW for needle-ts and NHWC for TensorFlow.js; the MLP step is forward + backward of',
      '784-100-10 with ReLU, logSoftmax and mean NLL (its GFLOP/s counts the five matmuls only);',
      'tfjs computes the MLP gradients with `tf.grads` (gradient kernels registered by bench/tfjs_grads.ts).',
      '',
      `- date: ${new Date().toISOString().slice(0, 10)}`,
      `- machine: ${machine()}`,
      `- run time: ${secs} s`,
      '',
      markdownTable(header, cells),
      '',
    ].join('\n');
    fs.writeFileSync(path.join(docs, 'benchmarks.md'), md);
    console.log(`wrote ${path.join(docs, 'benchmarks.md')}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
