// The two-layer ReLU network of homework 0 on MNIST (8,000 train / 2,000 test), trained with its
// hand-derived gradients (nd.models.TwoLayerNet.manualBackward) and SGD; before training, the
// manual gradients are checked against autograd on one batch. Target: >= 94% test accuracy.
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_two_layer.js [--hidden=256 --epochs=20]
import * as nd from '../../src/index.js';
import { accuracy, clock, isMain, loadImages, loader, report, withArgs, type VisionResult } from './vision_common.js';

export const defaults = { hidden: 256, epochs: 20, batchSize: 100, lr: 0.1, momentum: 0.9, weightDecay: 1e-3, seed: 0 };

/** Largest |manual - autograd| over every parameter's gradient on (x, y). */
function gradientGap(net: nd.models.TwoLayerNet, x: nd.Tensor, y: nd.Tensor): number {
  const { grads } = net.manualGradients(x, y);
  const ref = nd.autograd.grad(nd.nn.functional.crossEntropy(net.forward(x), y), net.parameters());
  return Math.max(...grads.map((g, i) => nd.sub(g, ref[i]!).abs().max().item()));
}

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  nd.manualSeed(cfg.seed);
  const { xTrain, yTrain, xTest, yTest } = await loadImages('mnist');
  const net = new nd.models.TwoLayerNet(784, cfg.hidden, 10);
  const gap = gradientGap(net, xTrain.get('0:100'), yTrain.get('0:100'));
  console.log(`two-layer: max |manual - autograd| gradient difference on one batch: ${gap.toExponential(2)}`);
  const opt = new nd.optim.SGD(net.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  const data = loader(xTrain, yTrain, cfg.batchSize, cfg.seed);
  const sched = new nd.optim.CosineAnnealingLR(opt, cfg.epochs * data.length);
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    let sum = 0;
    let n = 0;
    for (const [x, y] of data) {
      opt.zeroGrad();
      sum += net.manualBackward(x!, y!).item() * x!.shape[0]!;
      n += x!.shape[0]!;
      opt.step();
      sched.step();
    }
    console.log(`two-layer epoch ${epoch + 1}/${cfg.epochs}: train loss ${(sum / n).toFixed(4)}`);
  }
  const acc = accuracy(net, (x) => net.forward(x), xTest, yTest);
  const trainAcc = accuracy(net, (x) => net.forward(x), xTrain, yTrain);
  return report({
    run: 'two-layer',
    dataset: 'MNIST 8k/2k',
    model: `TwoLayerNet 784-${cfg.hidden}-10 (manual grad)`,
    params: net.numParameters,
    accuracy: acc,
    target: '>= 94%',
    passed: acc >= 0.94 && gap < 1e-4,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_two_layer.js',
    notes: `${cfg.epochs} epochs SGD lr ${cfg.lr} (cosine), momentum ${cfg.momentum}, weight decay ${cfg.weightDecay}, batch ${cfg.batchSize}; train accuracy ${(100 * trainAcc).toFixed(2)}%; manual vs autograd gradient gap ${gap.toExponential(1)}`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
