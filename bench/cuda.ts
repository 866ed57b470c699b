/**
 * Issue #7's targets on the GPU, with PyTorch measured in the same call (bench/cuda_torch.py):
 *
 *   mlp_resnet  one training step of MLPResNet(784, 100, 3 blocks, BatchNorm1d, dropout 0.1, 10
 *               classes), batch 100, SGD(lr 0.01): zero grad, forward, cross-entropy, backward, step.
 *               Target: needle <= PyTorch.
 *   resnet9     the same step of needle's ResNet9 on 3x32x32, batch 128. Target: <= 2x PyTorch.
 *   sgemm       float32 8192 x 8192 @ 8192 x 8192 (full FP32, TF32 off in both). Target: >= 0.95x
 *               PyTorch's matmul (cuBLAS called directly).
 *   axpb        y = x * 2.5 + 1.5 on 2^28 float32 (1 GiB), GB/s counting read x + write y (8 bytes per
 *               element); needle runs two kernels. Target: >= 75% of the copy bandwidth (y.copy_(x)).
 *   copy        x.clone() on the same 2^28 float32 (needle: a device-to-device copy).
 *
 * Training data (random inputs and labels) is on the device before timing; steps are timed in
 * chunks with a synchronize at each chunk's end, and the median chunk's time per step is shown.
 * Usage: node build/bench/cuda.js [--quick] [--only=mlp_resnet,resnet9,sgemm,axpb,copy]
 *        [--python=/opt/torch/.venv/bin/python] [--json=path] [--record] [--tf32]
 * --record appends the table, dated, to docs/cuda.md ("Measured runs").
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import { registerBackend, setDefaultDevice, listDevices } from '../src/ndarray/backend.js';
import * as cuda from '../src/ndarray/cuda/public.js';
import { loadCuda } from '../src/platform/cuda.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
const quick = args.includes('--quick');
const only = opt('only')?.split(',') ?? null;
const want = (k: string) => !only || only.includes(k);
const python = opt('python') ?? '/opt/torch/.venv/bin/python';

interface Row {
  key: string;
  label: string;
  unit: 'ms' | 'TFLOP/s' | 'GB/s';
  needle: number | null;
  torch: number | null;
  target: string;
  /** Whether the target is met (null: not measured). */
  met: boolean | null;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median milliseconds per call of `fn` over `samples` chunks of `reps` calls, synchronizing each chunk. */
function timeIt(fn: () => void, reps: number, samples: number, warm = 3): number {
  for (let i = 0; i < warm; i++) fn();
  cuda.synchronize();
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    cuda.synchronize();
    ms.push((performance.now() - t0) / reps);
  }
  return median(ms);
}

async function main(): Promise<void> {
  if (!listDevices().includes('cuda')) {
    const r = await loadCuda();
    if (!r.backend) {
      console.log(`cuda unavailable: ${r.reason}`);
      process.exit(2);
    }
    registerBackend(r.backend);
  }
  setDefaultDevice('cuda');
  if (args.includes('--tf32')) cuda.setAllowTF32(true);
  const info = cuda.deviceInfo()!;
  console.log(`device: ${info.name} (sm ${info.computeCapability}, ${info.multiprocessors} SMs), driver ${info.driverVersion}, NVRTC ${info.nvrtcVersion} (${info.nvrtcTarget}), ${info.cublas}, TF32 ${info.allowTF32 ? 'on' : 'off'}`);

  const needle: Record<string, number> = {};
  const checks: Record<string, string> = {};

  if (want('sgemm')) {
    const n = quick ? 2048 : 8192;
    const a = nd.randn([n, n]).to('cuda'), b = nd.randn([n, n]).to('cuda');
    const c = nd.matmul(a, b);
    const ha = a.dataSync() as Float32Array, hb = b.dataSync() as Float32Array, hc = c.dataSync() as Float32Array;
    let worst = 0;
    for (let t = 0; t < 8; t++) {
      const i = (t * 977) % n, j = (t * 1543) % n;
      let s = 0;
      for (let k = 0; k < n; k++) s += ha[i * n + k]! * hb[k * n + j]!;
      worst = Math.max(worst, Math.abs(s - hc[i * n + j]!) / Math.sqrt(n));
    }
    checks['sgemm'] = worst < 1e-3 ? 'ok' : `max error ${worst}`;
    const ms = timeIt(() => void nd.matmul(a, b), quick ? 3 : 5, quick ? 3 : 7, 2);
    needle['sgemm'] = (2 * n ** 3) / (ms * 1e-3) / 1e12;
    cuda.dispose(a, b, c);
  }

  if (want('axpb') || want('copy')) {
    const n = quick ? 1 << 24 : 1 << 28;
    const x = nd.full([n], 1.25, { device: 'cuda' });
    if (want('axpb')) {
      const y = nd.add(nd.mul(x, 2.5), 1.5);
      const ys = y.dataSync() as Float32Array;
      checks['axpb'] = ys[0] === 4.625 && ys[n - 1] === 4.625 ? 'ok' : `y[0] = ${ys[0]}`;
      cuda.dispose(y);
      const ms = timeIt(() => {
        const t = nd.mul(x, 2.5);
        cuda.dispose(t, nd.add(t, 1.5));
      }, 5, quick ? 3 : 9);
      needle['axpb'] = (8 * n) / (ms * 1e-3) / 1e9;
      const ms1 = timeIt(() => cuda.dispose(nd.mul(x, 2.5)), 5, quick ? 3 : 9);
      needle['scale'] = (8 * n) / (ms1 * 1e-3) / 1e9;
    }
    if (want('copy')) {
      const ms = timeIt(() => cuda.dispose(x.clone()), 5, quick ? 3 : 9);
      needle['copy'] = (8 * n) / (ms * 1e-3) / 1e9;
    }
    cuda.dispose(x);
  }

  const trainStep = (model: nd.nn.Module & { forward(x: nd.Tensor): nd.Tensor }, inShape: number[], batch: number, steps: number, samples: number): number => {
    model.to('cuda');
    model.train();
    const sgd = new nd.optim.SGD(model.parameters(), { lr: 0.01 });
    const lossFn = new nd.nn.CrossEntropyLoss();
    const data = Array.from({ length: 4 }, () => ({
      x: nd.randn([batch, ...inShape]).to('cuda'),
      y: nd.randint(0, 10, [batch], { dtype: 'int32' }).to('cuda'),
    }));
    let i = 0;
    let last: nd.Tensor | null = null;
    // each step inside nd.scope: its intermediates go back to the caching allocator when it
    // ends, as PyTorch's go back when their last reference drops (without it they wait for a
    // collection, and the allocator meanwhile asks the driver for more: NEEDLE_BENCH_SCOPE=0)
    const scoped = process.env['NEEDLE_BENCH_SCOPE'] !== '0';
    const body = () => {
      const { x, y } = data[i++ % data.length]!;
      sgd.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      sgd.step();
      return loss;
    };
    const step = () => {
      last = scoped ? nd.scope(body) : body();
    };
    const ms = timeIt(step, steps, samples, 5);
    const l = last as nd.Tensor | null;
    const v = l ? l.item() : NaN;
    checks[model.constructor.name] = Number.isFinite(v) ? `ok (loss ${v.toFixed(3)})` : `loss ${v}`;
    return ms;
  };

  if (want('mlp_resnet')) needle['mlp_resnet'] = trainStep(new nd.models.MLPResNet(784, 100, 3, 10), [784], 100, quick ? 10 : 50, quick ? 3 : 7);
  if (want('resnet9')) needle['resnet9'] = trainStep(new nd.models.ResNet9(), [3, 32, 32], 128, quick ? 3 : 10, quick ? 3 : 7);
  const counters = cuda.counters();
  const mem = cuda.memoryStats();
  console.log(`needle: ${JSON.stringify(needle)}; checks ${JSON.stringify(checks)}`);
  console.log(`kernels ${counters.kernels} (${counters.compiled} compiled in ${counters.compileMs.toFixed(0)} ms), launches ${counters.launches}, peak ${(mem.peakAllocatedBytes / 2 ** 30).toFixed(2)} GiB, driver allocations ${mem.deviceAllocs}, cache hits ${mem.cacheHits}, collections ${mem.collections}`);

  // PyTorch, same cases, same process tree
  let torch: Record<string, number> = {};
  let torchNote = '';
  if (fs.existsSync(python)) {
    const r = spawnSync(python, [path.join(ROOT, 'bench', 'cuda_torch.py'), ...(quick ? ['--quick'] : []), ...(only ? [`--only=${only.join(',')}`] : [])], { encoding: 'utf8', timeout: 400_000 });
    if (r.status === 0) {
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: Record<string, number>; torch: string; device: string };
      torch = out.results;
      torchNote = `PyTorch ${out.torch} on ${out.device}`;
    } else {
      torchNote = `PyTorch failed: ${(r.stderr || r.error?.message || '').slice(-400)}`;
    }
  } else {
    torchNote = `no PyTorch at ${python}`;
  }
  console.log(torchNote);

  const rows: Row[] = [];
  const t = (k: string) => torch[k] ?? null;
  const nv = (k: string) => needle[k] ?? null;
  const lower = (k: string, label: string, factor: number, target: string) => {
    const a = nv(k), b = t(k);
    rows.push({ key: k, label, unit: 'ms', needle: a, torch: b, target, met: a !== null && b !== null ? a <= factor * b : null });
  };
  if (want('mlp_resnet')) lower('mlp_resnet', 'MLPResNet train step, batch 100', 1, '<= PyTorch');
  if (want('resnet9')) lower('resnet9', 'ResNet9 train step, 3x32x32, batch 128', 2, '<= 2x PyTorch');
  if (want('sgemm')) {
    const a = nv('sgemm'), b = t('sgemm');
    rows.push({ key: 'sgemm', label: `sgemm ${quick ? 2048 : 8192}`, unit: 'TFLOP/s', needle: a, torch: b, target: '>= 0.95x cuBLAS', met: a !== null && b !== null ? a >= 0.95 * b : null });
  }
  if (want('axpb')) {
    const a = nv('axpb'), copy = t('copy') ?? nv('copy');
    rows.push({ key: 'axpb', label: `a*x+b, 2^${quick ? 24 : 28} float32 (2 kernels)`, unit: 'GB/s', needle: a, torch: t('axpb'), target: '>= 75% of copy', met: a !== null && copy !== null ? a >= 0.75 * copy : null, note: copy !== null ? `copy ${copy.toFixed(0)} GB/s` : '' });
    rows.push({ key: 'scale', label: 'a*x alone (1 kernel)', unit: 'GB/s', needle: nv('scale'), torch: null, target: '(kernel quality)', met: null });
  }
  if (want('copy')) rows.push({ key: 'copy', label: 'copy (clone)', unit: 'GB/s', needle: nv('copy'), torch: t('copy'), target: '', met: null });

  const fmt = (v: number | null, u: string) => (v === null ? 'n/a' : u === 'ms' ? v.toFixed(3) : v.toFixed(u === 'GB/s' ? 0 : 1));
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `### ${date}, ${info.name} (${info.cublas}, NVRTC ${info.nvrtcVersion}, driver ${info.driverVersion}${info.allowTF32 ? ', TF32 on' : ''})`,
    '',
    `${torchNote}${quick ? '; --quick sizes' : ''}`,
    '',
    '| benchmark | unit | needle-ts | PyTorch | target | met |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.label} | ${r.unit} | ${fmt(r.needle, r.unit)} | ${fmt(r.torch, r.unit)} | ${r.target}${r.note ? ` (${r.note})` : ''} | ${r.met === null ? '' : r.met ? 'yes' : 'NO'} |`),
    '',
    `Checks: ${Object.entries(checks).map(([k, v]) => `${k} ${v}`).join('; ')}.`,
    '',
  ];
  console.log(`\n${lines.join('\n')}`);
  const json = opt('json');
  if (json) fs.writeFileSync(json, JSON.stringify({ date, device: info, needle, torch, torchNote, checks, rows, counters, memory: mem }, null, 1));
  if (args.includes('--record')) {
    const file = path.join(ROOT, 'docs', 'cuda.md');
    const md = fs.readFileSync(file, 'utf8');
    const marker = '<!-- runs: bench/cuda.ts --record appends below -->';
    fs.writeFileSync(file, md.includes(marker) ? md.replace(marker, `${marker}\n\n${lines.join('\n')}`) : `${md}\n${lines.join('\n')}`);
  }
}

await main();
