// The README's "Training a model" snippet (random data; the real training job is the CLI's).
import * as nd from '../src/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

nd.manualSeed(0);
const model = new nd.models.MLPResNet(784, 100, 3);            // needle's MLP-ResNet
const opt = new nd.optim.Adam(model.parameters(), { lr: 1e-3 });
const lossFn = new nd.nn.CrossEntropyLoss();
const x = nd.randn([100, 784]);
const y = nd.randint(0, 10, [100]);
for (let step = 0; step < 5; step++) {
  opt.zeroGrad();
  const loss = lossFn.forward(model.forward(x), y);
  loss.backward();
  opt.step();
  console.log(`step ${step}: loss ${loss.item().toFixed(4)}`);
}
await nd.save(model.stateDict(), join(tmpdir(), 'model.safetensors'));   // loads into PyTorch's nn too
