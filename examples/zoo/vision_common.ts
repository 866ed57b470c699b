// Helpers shared by the vision zoo scripts (examples/zoo/vision_*.ts): data, accuracy, timing,
// `--key=value` overrides and the summary table.
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';

/** One row of the summary table. */
export interface VisionResult {
  run: string;
  dataset: string;
  model: string;
  params: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** What the run must reach, e.g. '>= 87%'. */
  target: string;
  passed: boolean;
  /** Wall-clock seconds of the whole run (data loading included). */
  seconds: number;
  /** CPU seconds of this process over the run (user + system). */
  cpuSeconds: number;
  command: string;
  notes: string;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

/** Overrides a configuration from `--key=value` arguments; unknown keys are an error. */
export function withArgs<T extends object>(defaults: T, argv: readonly string[] = process.argv.slice(2)): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const a of argv) {
    const m = /^--([A-Za-z0-9]+)=(.*)$/.exec(a);
    if (!m) continue;
    const k = m[1]!;
    const v = m[2]!;
    if (!(k in out)) throw new RangeError(`withArgs: a key of ${Object.keys(out).join(', ')}, got ${k}`);
    const d = out[k];
    out[k] = typeof d === 'number' ? Number(v) : typeof d === 'boolean' ? v === 'true' || v === '1' : v;
  }
  return out as T;
}

/** Wall and CPU clocks started now. */
export function clock(): { wall: () => number; cpu: () => number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return {
    wall: () => (performance.now() - t0) / 1000,
    cpu: () => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1e6;
    },
  };
}

/** Train and test tensors of a data set: images (N, ...shape) float32 in [0, 1], labels (N) int32. */
export interface Split {
  xTrain: nd.Tensor;
  yTrain: nd.Tensor;
  xTest: nd.Tensor;
  yTest: nd.Tensor;
}

/** MNIST (8,000 / 2,000) or Fashion-MNIST (60,000 / 10,000) from `nd.datasets` as tensors. */
export async function loadImages(name: 'mnist' | 'fashionMNIST', shape: number[] = [784]): Promise<Split> {
  const ds = name === 'mnist' ? await nd.datasets.mnist() : await nd.datasets.fashionMNIST();
  const [xTrain, yTrain] = nd.datasets.toTensors(ds.train, { shape });
  const [xTest, yTest] = nd.datasets.toTensors(ds.test, { shape });
  return { xTrain, yTrain, xTest, yTest };
}

/** A shuffling loader over (x, y) with its own seeded generator. */
export function loader(x: nd.Tensor, y: nd.Tensor, batchSize: number, seed: number): nd.utils.data.DataLoader<nd.Tensor[]> {
  return new nd.utils.data.DataLoader(new nd.utils.data.TensorDataset(x, y), { batchSize, shuffle: true, generator: new nd.Generator(seed) });
}

/** Accuracy of `forward` on (x, y), in eval mode, in batches of `batchSize`. */
export function accuracy(model: nd.nn.Module, forward: (x: nd.Tensor) => nd.Tensor, x: nd.Tensor, y: nd.Tensor, batchSize = 1000): number {
  const n = x.shape[0]!;
  const was = model.training;
  model.eval();
  let correct = 0;
  nd.noGrad(() => {
    for (let i = 0; i < n; i += batchSize) {
      const j = Math.min(n, i + batchSize);
      const pred = forward(x.get(`${i}:${j}`)).argmax(1);
      correct += nd.eq(pred, y.get(`${i}:${j}`)).int().sum().item();
    }
  });
  model.train(was);
  return correct / n;
}

/** Formats a result line and returns the result (for the scripts' own output). */
export function report(r: VisionResult): VisionResult {
  const ok = r.passed ? 'PASS' : 'MISS';
  console.log(
    `[${ok}] ${r.run} (${r.model} on ${r.dataset}): test accuracy ${(100 * r.accuracy).toFixed(2)}% (target ${r.target}) ` +
      `in ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU; ${r.params.toLocaleString('en-US')} parameters${r.notes ? `; ${r.notes}` : ''}`,
  );
  return r;
}

/** The markdown summary table of several runs. */
export function table(results: readonly VisionResult[]): string {
  const rows = [
    '| run | model | data (train / test) | params | test accuracy | target | wall s | CPU s | |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.run} | ${r.model} | ${r.dataset} | ${r.params.toLocaleString('en-US')} | ${(100 * r.accuracy).toFixed(2)}% | ` +
        `${r.target} | ${r.seconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${r.passed ? 'pass' : 'MISS'} |`,
    ),
  ];
  return rows.join('\n');
}
