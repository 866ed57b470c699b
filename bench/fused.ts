/**
 * The fused fast paths (Backend softmax / softmaxBackward / layerNorm / layerNormBackward /
 * adamStep) against what they replace, on one device, in one process, three columns:
 *   before    the code before the fused paths: softmax, logSoftmax and layerNorm as Tensor
 *             composites (written out below as they were), Adam/AdamW as their transform chain;
 *   fallback  the primitives of src/ops/fused.ts on a backend without the fused members (their
 *             composite NDArray forward and Tensor-op vjp), Adam/AdamW as their chain;
 *   fused     the backend's fused kernels.
 * Samples of the three alternate, so load changes on a shared machine hit them alike.
 *
 * Usage: node build/bench/fused.js [--device=wasm|cpu] [--only=<substring>] [--quick] [--cpu-time]
 * --cpu-time times by the process's CPU time (user + system, all threads) instead of wall time:
 * steadier on a loaded machine, meaningful with NEEDLE_THREADS=1.
 */
import * as nd from '../src/index.js';
import { FUSED_MEMBERS } from '../src/ndarray/cpu/fused.js';
import { fmtMs, median, textTable, time } from './util.js';

const args = process.argv.slice(2);
const device = args.find((a) => a.startsWith('--device='))?.slice(9) ?? 'wasm';
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const quick = args.includes('--quick');
const cpuTime = args.includes('--cpu-time');
nd.setDefaultDevice(device);
const backend = nd.getBackend(device) as unknown as Record<string, unknown>;

/** Runs `fn` with the backend's fused members hidden (the op layer takes its fallbacks). */
function unfused<T>(fn: () => T): T {
  const saved = FUSED_MEMBERS.map((k) => backend[k]);
  for (const k of FUSED_MEMBERS) delete backend[k];
  try {
    return fn();
  } finally {
    FUSED_MEMBERS.forEach((k, i) => {
      if (saved[i] !== undefined) backend[k] = saved[i];
    });
  }
}

// the composites as they were before the fused primitives
const oldSoftmax = (x: nd.Tensor, d: number) => {
  const e = nd.exp(nd.sub(x, nd.max(x, d, true).detach()));
  return nd.div(e, nd.sum(e, d, true));
};
const oldLogSoftmax = (x: nd.Tensor, d: number) => nd.sub(x, nd.logsumexp(x, d, true));
const oldLayerNorm = (x: nd.Tensor, w: nd.Tensor, b: nd.Tensor) => {
  const d = nd.sub(x, nd.mean(x, -1, true));
  const v = nd.mean(nd.mul(d, d), -1, true);
  return nd.add(nd.mul(nd.mul(d, nd.rsqrt(nd.add(v, 1e-5))), w), b);
};

type Variant = 'before' | 'fallback' | 'fused';
interface Case {
  name: string;
  /** Makes the timed function of a variant (called with the fused members hidden for 'fallback'). */
  make: (v: Variant) => () => void;
}

function softmaxCases(rows: number, cols: number, log: boolean): Case[] {
  const label = `${log ? 'logSoftmax' : 'softmax'} (${rows}, ${cols})`;
  const f = (v: Variant) => (v === 'before' ? (log ? oldLogSoftmax : oldSoftmax) : log ? nd.logSoftmax : nd.softmax);
  return [
    {
      name: `${label} forward`,
      make: (v) => {
        const x = nd.randn([rows, cols]);
        return () => void nd.noGrad(() => f(v)(x, -1));
      },
    },
    {
      name: `${label} forward + backward`,
      make: (v) => {
        const x = nd.randn([rows, cols]).requiresGrad_(true);
        const g = nd.randn([rows, cols]);
        return () => {
          x.grad = null;
          f(v)(x, -1).backward(g);
        };
      },
    },
  ];
}

function lnCase(backward: boolean): Case {
  return {
    name: `layerNorm (4096, 512) forward${backward ? ' + backward' : ''}`,
    make: (v) => {
      const ln = new nd.nn.LayerNorm(512);
      const x = nd.randn([4096, 512]).requiresGrad_(backward);
      const g = nd.randn([4096, 512]);
      const fwd = () => (v === 'before' ? oldLayerNorm(x, ln.weight!, ln.bias!) : ln.forward(x));
      if (!backward) return () => void nd.noGrad(fwd);
      return () => {
        x.grad = null;
        ln.zeroGrad();
        fwd().backward(g);
      };
    },
  };
}

function adamCase(name: 'Adam' | 'AdamW'): Case {
  return {
    name: `${name} step, 1M params (1000x1000 + 1000)`,
    make: () => {
      const ps = [nd.randn([1000, 1000]).requiresGrad_(true), nd.randn([1000]).requiresGrad_(true)];
      for (const p of ps) p.grad = nd.randn([...p.shape]);
      const opt = new nd.optim[name](ps, { lr: 1e-3, weightDecay: 0.01 });
      return () => opt.step();
    },
  };
}

const cases: Case[] = [
  ...softmaxCases(1000, 1000, false),
  ...softmaxCases(6400, 10, false),
  ...softmaxCases(1000, 1000, true),
  ...softmaxCases(6400, 10, true),
  lnCase(false),
  lnCase(true),
  adamCase('Adam'),
  adamCase('AdamW'),
];

const reps = quick ? 5 : 11;
const minSampleMs = quick ? 20 : 60;

/** Milliseconds per call of one sample of `fn` (wall or CPU time), repeated to last minSampleMs. */
function sample(fn: () => void): number {
  if (!cpuTime) return time(fn, { reps: 1, minSampleMs, warmupMs: 0 }).median;
  let calls = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  do {
    fn();
    calls++;
    const c = process.cpuUsage(c0);
    used = (c.user + c.system) / 1000;
  } while (used < minSampleMs);
  return used / calls;
}

const VARIANTS: Variant[] = ['before', 'fallback', 'fused'];
const rows: string[][] = [];
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  const fns = VARIANTS.map((v) => {
    const hide = v !== 'fused';
    const fn = hide ? unfused(() => c.make(v)) : c.make(v);
    return hide ? () => unfused(fn) : fn;
  });
  for (const fn of fns) time(fn, { reps: 1, minSampleMs: 0, warmupMs: 100 });
  const samples: number[][] = VARIANTS.map(() => []);
  for (let r = 0; r < reps; r++) fns.forEach((fn, i) => samples[i]!.push(sample(fn)));
  const [before, fallback, fused] = samples.map(median) as [number, number, number];
  rows.push([c.name, fmtMs(before), fmtMs(fallback), fmtMs(fused), `${(before / fused).toFixed(2)}x`]);
  console.log(rows[rows.length - 1]!.join('  '));
}
console.log(`\ndevice ${device}, threads ${nd.info().wasm.threads}, ${cpuTime ? 'CPU' : 'wall'} time per call (ms), median of ${reps}`);
console.log(textTable(['case', 'before', 'fallback', 'fused', 'before/fused'], rows));
