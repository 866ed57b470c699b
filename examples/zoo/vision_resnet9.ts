// needle's ResNet9 layout for 1x28x28 images (nd.models.ResNet9MNIST, 430,378 parameters) on the
// full Fashion-MNIST (60,000 train / 10,000 test), Adam with a one-cycle learning rate. Not part
// of the default `npm run zoo:vision` (add `resnet9` to its arguments): it is slower per epoch
// than the small CNN. Target: >= 91% test accuracy (the small CNN is the reported run for it).
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_resnet9.js [--epochs=2]
import * as nd from '../../src/index.js';
import { clock, isMain, loadImages, report, withArgs, type VisionResult } from './vision_common.js';
import { trainClassifier } from './vision_cnn.js';

export const defaults = { epochs: 2, batchSize: 64, lr: 3e-3, seed: 0, logEvery: 200 };

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  nd.manualSeed(cfg.seed);
  const data = await loadImages('fashionMNIST', [1, 28, 28]);
  const model = new nd.models.ResNet9MNIST();
  const { acc, curve } = trainClassifier('resnet9', model, data, cfg);
  return report({
    run: 'resnet9',
    dataset: 'Fashion-MNIST 60k/10k',
    model: 'ResNet9MNIST (needle layout, 1 channel)',
    params: model.numParameters,
    accuracy: acc,
    target: '>= 91%',
    passed: acc >= 0.91,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_resnet9.js',
    notes: `${cfg.epochs} epochs Adam one-cycle max lr ${cfg.lr}, batch ${cfg.batchSize}; test accuracy by epoch ${curve.map((a) => (100 * a).toFixed(2)).join(' / ')}`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
