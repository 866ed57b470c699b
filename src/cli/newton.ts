/**
 * `needle-ts train newton-logistic`: L2-regularized logistic regression of two image classes
 * (default MNIST 3 vs 5) on 2x2-average-pooled 14x14 pixels plus a bias, fitted by Newton's method
 * (nd.models.newtonMinimize: Hessians by double backward, Cholesky solves) instead of an
 * optimizer, as examples/zoo/vision_newton.ts does. The fitted weights are saved as a checkpoint
 * of {@link PooledLogistic}, so `eval` and `sample` treat it as a two-class image classifier.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nd from '../index.js';
import { UsageError } from './args.js';
import { count, packageVersion, println, useDevice, PROG, type CheckpointMeta, type NewtonArgs } from './common.js';
import { checkDatasetName, loadImageData, type ImageData, type ImageTensors } from './data.js';
import type { SolveContext } from './models.js';

/** Pooled pixels (196) and a constant 1. */
export const NEWTON_FEATURES = 197;
/** Newton stops when the gradient norm is at most this. */
export const NEWTON_TOL = 1e-8;

/**
 * Binary logistic regression on 28x28 images: features = 2x2 average pooling to 14x14 (196) and a
 * constant 1, in float64; z = features . w. `forward` returns two-class logits [0, z] (N, 2), so
 * that softmax gives p(label 1) = sigmoid(z) and cross-entropy is the logistic loss.
 *
 * Shape: x (N, 784) or (N, 1, 28, 28) -> logits (N, 2) float64.
 */
export class PooledLogistic extends nd.nn.Module {
  /** The weights, (197) float64: 196 pooled pixels, then the bias. */
  w: nd.nn.Parameter;

  constructor() {
    super();
    this.w = new nd.nn.Parameter(nd.zeros([NEWTON_FEATURES], { dtype: 'float64' }));
  }

  /** (N, 784) float images in [0, 1] -> (N, 197) float64 features. */
  static features(x: nd.Tensor): nd.Tensor {
    const n = x.shape[0]!;
    const pooled = nd.avgPool2d(x.reshape([n, 1, 28, 28]), 2).reshape([n, 196]).double();
    return nd.cat([pooled, nd.ones([n, 1], { dtype: 'float64' })], 1);
  }

  forward(x: nd.Tensor): nd.Tensor {
    const z = PooledLogistic.features(x).matmul(this.w).reshape([-1, 1]);
    return nd.cat([nd.zerosLike(z), z], 1);
  }
}

function selectPair(split: ImageTensors, pair: readonly [number, number]): ImageTensors {
  const labels = split.y.dataSync();
  const idx: number[] = [];
  const lab: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === pair[0] || labels[i] === pair[1]) {
      idx.push(i);
      lab.push(labels[i] === pair[1] ? 1 : 0);
    }
  }
  const index = nd.tensor(Int32Array.from(idx), { dtype: 'int32', shape: [idx.length] });
  return { x: nd.indexSelect(split.x, 0, index), y: nd.tensor(Int32Array.from(lab), { dtype: 'int32', shape: [lab.length] }) };
}

/** The images of classes pair[0] (relabeled 0) and pair[1] (relabeled 1), in their order. */
export function binaryImageData(data: ImageData, pair: readonly [number, number]): ImageData {
  return {
    ...data,
    train: selectPair(data.train, pair),
    test: selectPair(data.test, pair),
    classes: [data.classes[pair[0]]!, data.classes[pair[1]]!],
  };
}

/** `--classes A,B`: two different class indices 0..9. */
export function parseClassPair(cmd: string, raw: string): [number, number] {
  const m = /^\s*(\d)\s*,\s*(\d)\s*$/.exec(raw);
  if (!m || m[1] === m[2]) throw new UsageError(`${cmd}: --classes two different classes 0-9 as A,B (e.g. 3,5), got ${JSON.stringify(raw)}`);
  return [Number(m[1]), Number(m[2])];
}

/** Flags of `train` that only optimizer-trained models take. */
const OPTIMIZER_FLAGS = ['batch-size', 'lr', 'optimizer', 'momentum', 'schedule', 'clip-grad', 'patience', 'val-split', 'seq-len', 'resume'] as const;

/** `train newton-logistic`: loads the two classes, runs Newton's method, reports and saves. */
export async function solveNewton(ctx: SolveContext): Promise<number> {
  const { cmd, name, entry, flags, outDir, io, t0 } = ctx;
  for (const k of OPTIMIZER_FLAGS) {
    if (flags[k] !== undefined) {
      throw new UsageError(`${cmd}: --${k} only for models trained by an optimizer (${name} takes Newton steps: --epochs caps them, --weight-decay is the L2 penalty), got it for ${name}`);
    }
  }
  const dataset = typeof flags['dataset'] === 'string' ? flags['dataset'] : entry.dataset;
  checkDatasetName(cmd, entry.task, dataset, entry.datasets);
  const pair = parseClassPair(cmd, typeof flags['classes'] === 'string' ? flags['classes'] : '3,5');
  const device = useDevice(cmd, flags['device'] as string | undefined);
  const args: NewtonArgs = {
    dataset,
    classes: pair,
    maxSteps: (flags['epochs'] as number | undefined) ?? entry.defaults.epochs,
    l2: (flags['weight-decay'] as number | undefined) ?? entry.defaults.weightDecay ?? 0.01,
    tol: NEWTON_TOL,
    ...(flags['limit'] !== undefined ? { limit: flags['limit'] as number } : {}),
    seed: (flags['seed'] as number | undefined) ?? 0,
    device,
  };
  nd.manualSeed(args.seed);
  const say = (line = '') => println(io.stdout, line);
  say(`${PROG} train ${name}`);
  const data = binaryImageData(await loadImageData(cmd, dataset, 'flat', args.limit), pair);
  const nTrain = data.train.y.shape[0]!;
  const nTest = data.test.y.shape[0]!;
  if (nTrain === 0 || nTest === 0) {
    throw new UsageError(`${cmd}: --limit large enough for images of classes ${pair[0]} and ${pair[1]} in both splits, got ${count(nTrain)} train / ${count(nTest)} test`);
  }
  const [ca, cb] = data.classes as [string, string];
  say(`  data      ${dataset} (${data.source}): ${ca} (label 0) vs ${cb} (label 1), ${count(nTrain)} train / ${count(nTest)} test images, 2x2-average-pooled to 14x14 plus a bias (197 float64 features)`);
  const model = new PooledLogistic();
  say(`  model     ${model.constructor.name} (logistic regression), ${count(NEWTON_FEATURES)} parameters`);
  say(`  training  Newton's method (Hessian by double backward, Cholesky solve, backtracking line search), L2 ${args.l2}, at most ${args.maxSteps} steps until |grad| <= ${args.tol}, device ${device}`);
  say(`  output    ${outDir}/`);

  const x = PooledLogistic.features(data.train.x);
  const y = data.train.y.double();
  const f = (w: nd.Tensor) => nd.models.logisticRegressionLoss(w, x, y, { l2: args.l2 });
  const tn = performance.now();
  const r = nd.models.newtonMinimize(f, nd.zeros([NEWTON_FEATURES], { dtype: 'float64' }), { tol: args.tol, maxSteps: args.maxSteps });
  const seconds = (performance.now() - tn) / 1000;
  const w = String(r.steps).length;
  r.losses.forEach((l, i) => say(`step ${String(i).padStart(w)}  loss ${l.toFixed(12)}  |grad| ${r.gradNorms[i]!.toExponential(2)}`));
  const gradNorm = r.gradNorms.at(-1)!;
  const converged = gradNorm <= args.tol;
  say(
    converged
      ? `converged in ${r.steps} Newton step${r.steps === 1 ? '' : 's'} (|grad| ${gradNorm.toExponential(1)} <= ${args.tol}), ${seconds.toFixed(1)} s`
      : `stopped after ${r.steps} Newton steps (--epochs) with |grad| ${gradNorm.toExponential(1)} > ${args.tol}, ${seconds.toFixed(1)} s`,
  );
  model.loadStateDict({ w: r.w });
  model.eval();

  const { TensorDataset, DataLoader } = nd.utils.data;
  const ce = new nd.nn.CrossEntropyLoss();
  const train = await nd.train.evaluate(model, new DataLoader(new TensorDataset(data.train.x, data.train.y), { batchSize: 1000 }), { loss: ce });
  const test = await nd.train.evaluate(model, new DataLoader(new TensorDataset(data.test.x, data.test.y), { batchSize: 1000 }), { loss: ce });
  const pct = (v: number | undefined) => `${(100 * (v ?? NaN)).toFixed(2)}%`;
  say(`train accuracy ${pct(train.accuracy)} (objective ${r.losses.at(-1)!.toFixed(8)} with the L2 term)`);
  say(`test accuracy ${pct(test.accuracy)} (loss ${test.loss.toFixed(4)}, ${count(test.samples)} images)`);

  const meta: CheckpointMeta = JSON.parse(JSON.stringify({
    model: name,
    config: { classes: 2, pair },
    task: entry.task,
    dataset,
    classes: data.classes,
    args,
    version: await packageVersion(),
  })) as CheckpointMeta;
  const ckDir = join(outDir, 'checkpoints');
  await mkdir(ckDir, { recursive: true });
  const last = join(ckDir, 'last.safetensors');
  await nd.saveCheckpoint(last, { model, epoch: r.steps, extra: { meta } });
  const best = join(ckDir, 'best.safetensors');
  await copyFile(last, best);
  const metrics = join(outDir, 'metrics.jsonl');
  await writeFile(metrics, r.losses.map((l, i) => `${JSON.stringify({ step: i, loss: l, gradNorm: r.gradNorms[i] })}\n`).join(''));
  const summaryPath = join(outDir, 'summary.json');
  const summary = {
    model: name,
    dataset,
    classes: data.classes,
    steps: r.steps,
    converged,
    losses: r.losses,
    gradNorms: r.gradNorms,
    train: { loss: train.loss, accuracy: train.accuracy ?? null, samples: train.samples },
    test: { loss: test.loss, accuracy: test.accuracy ?? null, samples: test.samples },
    trainSeconds: seconds,
    totalSeconds: (performance.now() - t0) / 1000,
    args,
  };
  await writeFile(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  say(`wrote ${[metrics, last, best, summaryPath].join(', ')}`);
  say(`done in ${nd.train.formatDuration((performance.now() - t0) / 1000)}`);
  return 0;
}
