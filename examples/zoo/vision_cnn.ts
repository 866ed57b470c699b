// A small CNN (nd.models.SmallCNN: two conv blocks 1->16->32 and a 128-wide hidden layer) on the
// full Fashion-MNIST (60,000 train / 10,000 test), Adam with a one-cycle learning rate, three
// epochs. Target: >= 91% test accuracy in about 10-15 minutes of CPU.
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_cnn.js [--epochs=3 --lr=0.003]
import * as nd from '../../src/index.js';
import { accuracy, clock, isMain, loadImages, loader, report, withArgs, type Split, type VisionResult } from './vision_common.js';

export const defaults = { epochs: 3, batchSize: 64, lr: 3e-3, hidden: 128, seed: 0, logEvery: 200 };

/** Config of {@link trainClassifier}. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  logEvery: number;
}

/**
 * Trains `model` on the training split with Adam and a one-cycle schedule (stepped every batch),
 * printing the running loss and, after every epoch, the test accuracy. Returns the last test
 * accuracy and the per-epoch ones.
 */
export function trainClassifier(name: string, model: nd.nn.Module & { forward(x: nd.Tensor): nd.Tensor }, data: Split, cfg: TrainConfig): { acc: number; curve: number[] } {
  const t0 = performance.now();
  const opt = new nd.optim.Adam(model.parameters(), { lr: cfg.lr });
  const batches = loader(data.xTrain, data.yTrain, cfg.batchSize, cfg.seed);
  const sched = new nd.optim.OneCycleLR(opt, cfg.lr, { epochs: cfg.epochs, stepsPerEpoch: batches.length });
  const curve: number[] = [];
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    let run = 0;
    let k = 0;
    for (const [x, y] of batches) {
      opt.zeroGrad();
      const loss = nd.nn.functional.crossEntropy(model.forward(x!), y!);
      loss.backward();
      opt.step();
      sched.step();
      run = 0.98 * run + 0.02 * loss.item();
      k++;
      if (k % cfg.logEvery === 0) {
        const s = (performance.now() - t0) / 1000;
        console.log(`${name} epoch ${epoch + 1} step ${k}/${batches.length}: loss ${(run / (1 - 0.98 ** k)).toFixed(4)}, ${s.toFixed(0)} s`);
      }
    }
    curve.push(accuracy(model, (x) => model.forward(x), data.xTest, data.yTest, 500));
    console.log(`${name} epoch ${epoch + 1}/${cfg.epochs}: test accuracy ${(100 * curve.at(-1)!).toFixed(2)}%, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return { acc: curve.at(-1)!, curve };
}

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  nd.manualSeed(cfg.seed);
  const data = await loadImages('fashionMNIST', [1, 28, 28]);
  const model = new nd.models.SmallCNN({ hidden: cfg.hidden });
  const { acc, curve } = trainClassifier('cnn', model, data, cfg);
  return report({
    run: 'cnn',
    dataset: 'Fashion-MNIST 60k/10k',
    model: `SmallCNN 16-32${cfg.hidden ? `, hidden ${cfg.hidden}` : ''}`,
    params: model.numParameters,
    accuracy: acc,
    target: '>= 91%',
    passed: acc >= 0.91,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_cnn.js',
    notes: `${cfg.epochs} epochs Adam one-cycle max lr ${cfg.lr}, batch ${cfg.batchSize}; test accuracy by epoch ${curve.map((a) => (100 * a).toFixed(2)).join(' / ')}`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
