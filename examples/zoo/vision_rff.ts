// A random-Fourier-features classifier on MNIST (8,000 train / 2,000 test): 2,000 fixed features
// sqrt(2/D) cos(x Omega^T + b) with Omega ~ N(0, 1/sigma^2) (a Gaussian kernel of bandwidth sigma)
// and a linear head trained with SGD on the precomputed features. Target: >= 90% test accuracy.
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_rff.js [--features=2000 --sigma=5]
import * as nd from '../../src/index.js';
import { accuracy, clock, isMain, loadImages, loader, report, withArgs, type VisionResult } from './vision_common.js';

export const defaults = { features: 2000, sigma: 5, epochs: 30, batchSize: 100, lr: 2, momentum: 0.9, weightDecay: 0, seed: 0 };

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  nd.manualSeed(cfg.seed);
  const { xTrain, yTrain, xTest, yTest } = await loadImages('mnist');
  const model = new nd.models.RandomFourierFeatures(784, cfg.features, 10, { sigma: cfg.sigma });
  // the features are fixed: compute them once for both splits
  const fTrain = nd.noGrad(() => model.features(xTrain));
  const fTest = nd.noGrad(() => model.features(xTest));
  console.log(`rff: features computed in ${t.wall().toFixed(1)} s`);
  const opt = new nd.optim.SGD(model.head.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  const data = loader(fTrain, yTrain, cfg.batchSize, cfg.seed);
  const sched = new nd.optim.CosineAnnealingLR(opt, cfg.epochs * data.length);
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    let sum = 0;
    let n = 0;
    for (const [f, y] of data) {
      opt.zeroGrad();
      const loss = nd.nn.functional.crossEntropy(model.head.forward(f!), y!);
      loss.backward();
      opt.step();
      sched.step();
      sum += loss.item() * f!.shape[0]!;
      n += f!.shape[0]!;
    }
    if ((epoch + 1) % 5 === 0 || epoch === 0) console.log(`rff epoch ${epoch + 1}/${cfg.epochs}: train loss ${(sum / n).toFixed(4)}`);
  }
  const acc = accuracy(model, (f) => model.head.forward(f), fTest, yTest);
  const trainAcc = accuracy(model, (f) => model.head.forward(f), fTrain, yTrain);
  // the end-to-end forward (features + head) gives the same predictions
  const check = accuracy(model, (x) => model.forward(x), xTest.get('0:500'), yTest.get('0:500'));
  const checkHead = accuracy(model, (f) => model.head.forward(f), fTest.get('0:500'), yTest.get('0:500'));
  if (check !== checkHead) throw new Error(`internal: RandomFourierFeatures.forward disagrees with head(features): ${check} vs ${checkHead}`);
  return report({
    run: 'rff',
    dataset: 'MNIST 8k/2k',
    model: `RandomFourierFeatures D=${cfg.features}, sigma ${cfg.sigma}`,
    params: model.numParameters,
    accuracy: acc,
    target: '>= 90%',
    passed: acc >= 0.9,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_rff.js',
    notes: `head: ${cfg.epochs} epochs SGD lr ${cfg.lr} (cosine), momentum ${cfg.momentum}, weight decay ${cfg.weightDecay}; train accuracy ${(100 * trainAcc).toFixed(2)}%`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
