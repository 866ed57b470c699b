// Runs the vision zoo one run after another and prints a summary table (`npm run zoo:vision`).
// Arguments pick runs (default: softmax two-layer rff newton cnn; `resnet9` is opt-in):
//   node build/examples/zoo/vision.js [softmax] [two-layer] [rff] [newton] [cnn] [resnet9]
import { table, type VisionResult } from './vision_common.js';
import * as softmax from './vision_softmax.js';
import * as twoLayer from './vision_two_layer.js';
import * as rff from './vision_rff.js';
import * as newton from './vision_newton.js';
import * as cnn from './vision_cnn.js';
import * as resnet9 from './vision_resnet9.js';

const runs: Record<string, () => Promise<VisionResult>> = {
  softmax: () => softmax.run(),
  'two-layer': () => twoLayer.run(),
  rff: () => rff.run(),
  newton: () => newton.run(),
  cnn: () => cnn.run(),
  resnet9: () => resnet9.run(),
};
const picked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const names = picked.length > 0 ? picked : ['softmax', 'two-layer', 'rff', 'newton', 'cnn'];
for (const n of names) if (!(n in runs)) throw new RangeError(`zoo:vision: a run of ${Object.keys(runs).join(', ')}, got ${n}`);
const results: VisionResult[] = [];
for (const n of names) {
  console.log(`\n=== ${n} ===`);
  results.push(await runs[n]!());
}
console.log(`\n${table(results)}`);
if (results.some((r) => !r.passed)) process.exitCode = 1;
