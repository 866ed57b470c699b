/**
 * The browser demo (web/) in a real browser: Debian's Chromium (/usr/bin/chromium, headless),
 * driven by playwright-core, loads the page from the local cross-origin-isolated server
 * (tools/serve.mjs) and checks that it
 * - is cross-origin isolated and runs the wasm backend on threads,
 * - trains the small CNN for 200+ steps with the loss falling and the test accuracy shown,
 * - classifies a digit drawn on the canvas with the mouse (10 probabilities summing to 1),
 * - saves its weights as a safetensors download that Node loads to the same predictions,
 * - loads a safetensors file written in Node (through the file input) and predicts as Node does,
 *   both a SmallCNN state dict and a `needle-ts train`-style checkpoint of an MLP-ResNet,
 * - passes a subset of the op-parity fixtures through the same checker as test/parity.test.ts;
 * and saves a screenshot to build/artifacts/demo.png (UPDATE_SCREENSHOT=1 also copies it to
 * docs/img/demo.png, the README's).
 *
 * Runs once per `npm test`: skipped in the non-default device configurations of
 * tools/test_all.mjs (NEEDLE_DEVICE / NEEDLE_THREADS set), with NEEDLE_BROWSER_TEST=0, and where
 * /usr/bin/chromium (or $NEEDLE_CHROMIUM) is missing (.ci/run installs it through apt).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import * as nd from '../src/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'build', 'artifacts');
const CHROMIUM = process.env['NEEDLE_CHROMIUM'] ?? '/usr/bin/chromium';
/** The flags this machine needs (no sandbox as root; no background networking: the network is closed). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEPS = 200;
const N_COMPARE = 20;

function skipReason(): string | false {
  if (process.env['NEEDLE_BROWSER_TEST'] === '0') return 'NEEDLE_BROWSER_TEST=0';
  if (process.env['NEEDLE_DEVICE'] !== undefined || process.env['NEEDLE_THREADS'] !== undefined) {
    return 'runs once, in the default configuration of npm test (NEEDLE_DEVICE / NEEDLE_THREADS are set)';
  }
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
  return false;
}

const skip = skipReason();
if (skip) console.log(`# browser test skipped: ${skip}`);

/** The page's hooks (web/app.ts NeedleHooks), as far as the test uses them. */
interface Hooks {
  ready: boolean;
  arch: { kind: string };
  state(): { step: number; running: boolean; busy: boolean; ema: number | null; accuracy: number | null; samplesPerSec: number; source: string; errors: string[] };
  history(): { raw: { step: number; value: number }[]; smooth: { step: number; value: number }[]; acc: { step: number; value: number }[] };
  predictTest(start: number, n: number): number[][];
  lastProbs(): number[] | null;
  runParity(): Promise<{ total: number; passed: number; failed: number; failures: string[] }>;
  nd: { info(): { defaultDevice: string; wasm: { available: boolean; threads: number; workersReady: number; relaxedSimd: boolean } } };
}
declare const __needle: Hooks;

type Mnist = { test: { images: Uint8Array; labels: Uint8Array; n: number }; train: { images: Uint8Array; labels: Uint8Array; n: number } };

/** Test images start .. start + n - 1 of the demo's mnist.bin as float32 pixels in [0, 1]. */
function testPixels(mnist: Mnist, start: number, n: number): Float32Array {
  return Float32Array.from(mnist.test.images.subarray(start * 784, (start + n) * 784), (v) => v / 255);
}

/** Node's class probabilities for a SmallCNN state dict on `n` images. */
function nodeProbs(dict: Record<string, nd.Tensor>, pixels: Float32Array, n: number): number[][] {
  const model = new nd.models.SmallCNN();
  model.loadStateDict(dict);
  model.eval();
  const p = nd.noGrad(() => nd.softmax(model.forward(nd.tensor(pixels, { shape: [n, 1, 28, 28] })), -1)).dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * 10, (i + 1) * 10), Number));
}

function maxDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  return worst;
}

describe('browser demo (web/) in headless Chromium', { skip, timeout: 120_000 }, () => {
  let browser: Browser;
  let page: Page;
  let server: { url: string; close(): Promise<void> };
  let mnist: Mnist;
  const pageErrors: string[] = [];
  const t0 = Date.now();
  const lap = (what: string) => console.log(`# browser: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const web = await import(pathToFileURL(join(ROOT, 'tools', 'build_web.mjs')).href);
    // the type check is build:web's job (and slow); the test builds what the page loads
    await web.buildWeb({ typecheck: false });
    mnist = web.parseMnistBin(new Uint8Array(readFileSync(join(ROOT, 'web', 'dist', 'mnist.bin'))));
    lap('web/dist built');
    const { startServer } = await import(pathToFileURL(join(ROOT, 'tools', 'serve.mjs')).href);
    server = await startServer({ root: join(ROOT, 'web'), port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1240, height: 780 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as unknown as { __needle?: Hooks }).__needle?.ready === true, null, { timeout: 30_000 });
    lap('page ready');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    lap('done');
  });

  test('web/dist/mnist.bin holds the split of nd.datasets.mnist()', async () => {
    const { train, test: tst } = await nd.datasets.mnist();
    for (const [mine, ref] of [[mnist.train, train], [mnist.test, tst]] as const) {
      assert.equal(mine.n, ref.n);
      assert.deepEqual(Array.from(mine.labels), Array.from(ref.labels));
      const px = Float32Array.from(mine.images, (v) => v / 255);
      assert.ok(px.every((v, i) => v === ref.images[i]), 'pixels k/255 equal');
    }
  });

  test('the page is cross-origin isolated and runs wasm on threads', async () => {
    const env = await page.evaluate(() => ({ isolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency, info: __needle.nd.info() }));
    console.log(`# browser: ${JSON.stringify(env)}`);
    assert.equal(env.isolated, true, 'crossOriginIsolated (COOP/COEP headers from tools/serve.mjs)');
    assert.equal(env.info.defaultDevice, 'wasm');
    assert.ok(env.info.wasm.available);
    assert.ok(env.info.wasm.threads >= 1);
    if (env.cores >= 2) assert.ok(env.info.wasm.threads >= 2, `threads on a ${env.cores}-core machine, got ${env.info.wasm.threads}`);
    assert.match((await page.textContent('#info')) ?? '', /cross-origin isolated/);
  });

  test(`trains ${STEPS}+ steps: the loss falls and the test accuracy is shown`, async () => {
    await page.click('#start');
    await page.waitForFunction((n) => __needle.state().step >= n, STEPS, { timeout: 60_000, polling: 200 });
    await page.click('#stop');
    // Stop ends the loop after the current step, then evaluates on the test split
    await page.waitForFunction(() => !__needle.state().busy, null, { timeout: 20_000 });
    assert.match((await page.textContent('#train-status')) ?? '', /^stopped at step \d+$/);
    lap('trained');
    const { state, history } = await page.evaluate(() => ({ state: __needle.state(), history: __needle.history() }));
    const first = history.raw.slice(0, 10).reduce((a, p) => a + p.value, 0) / 10;
    const last = history.smooth[history.smooth.length - 1]!.value;
    console.log(
      `# browser: ${state.step} steps, loss ${first.toFixed(3)} (first 10) -> ${last.toFixed(3)} (smoothed), ` +
        `accuracy ${(state.accuracy! * 100).toFixed(2)}%, ${state.samplesPerSec.toFixed(0)} samples/s`,
    );
    assert.ok(state.step >= STEPS);
    assert.ok(last < 0.5 * first, `the smoothed loss ${last} below half of the first losses ${first}`);
    assert.ok(state.accuracy! > 0.8, `test accuracy after ${state.step} steps, got ${state.accuracy}`);
    assert.ok(history.acc.length >= 2, `accuracy points on the chart, got ${JSON.stringify(history.acc)}`);
    assert.match((await page.textContent('#stat-acc')) ?? '', /^\d+\.\d\d%$/);
    assert.match((await page.textContent('#stat-speed')) ?? '', /^\d+/);
    assert.ok(state.samplesPerSec > 0);
  });

  test('op-parity fixtures pass inside the page (the checker of test/parity)', async () => {
    const report = await page.evaluate(() => __needle.runParity());
    console.log(`# browser: parity ${report.passed}/${report.total}`);
    assert.deepEqual(report.failures, []);
    assert.ok(report.total >= 20, `at least 20 cases, got ${report.total}`);
    assert.match((await page.textContent('#parity-result')) ?? '', new RegExp(`^${report.total} / ${report.total} op cases match`));
  });

  test("the page's safetensors download predicts the same in Node", async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    assert.equal(download.suggestedFilename(), 'needle-mnist.safetensors');
    const file = join(ARTIFACTS, 'page-model.safetensors');
    await download.saveAs(file);
    const { tensors, metadata } = nd.deserializeWithMetadata(readFileSync(file));
    assert.equal(metadata?.['model'], 'small-cnn');
    const inNode = nodeProbs(tensors, testPixels(mnist, 0, N_COMPARE), N_COMPARE);
    const inPage = await page.evaluate((n) => __needle.predictTest(0, n), N_COMPARE);
    const diff = maxDiff(inPage, inNode);
    console.log(`# browser: page -> Node weights, max |p_page - p_node| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `predictions differ by ${diff}`);
  });

  test('a digit drawn with the mouse gets 10 class probabilities', async () => {
    const box = (await page.locator('#pad').boundingBox())!;
    const at = (x: number, y: number) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
    // a 7: the top bar, then the diagonal
    await page.mouse.move(...at(80, 70));
    await page.mouse.down();
    await page.mouse.move(...at(200, 70), { steps: 12 });
    await page.mouse.move(...at(130, 230), { steps: 16 });
    await page.mouse.up();
    await page.waitForSelector('#probs[data-ready="1"]', { timeout: 10_000 });
    const probs = await page.evaluate(() => __needle.lastProbs());
    assert.ok(probs && probs.length === 10, 'ten probabilities');
    const sum = probs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to 1, got ${sum}`);
    assert.ok(probs.every((p) => p >= 0 && p <= 1));
    const shown = (await page.textContent('#prediction'))?.trim();
    assert.equal(shown, String(probs.indexOf(Math.max(...probs))));
    console.log(`# browser: drawn 7 -> predicted ${shown} (${(Math.max(...probs) * 100).toFixed(1)}%)`);
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    if (process.env['UPDATE_SCREENSHOT'] === '1') {
      mkdirSync(join(ROOT, 'docs', 'img'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'demo.png'), join(ROOT, 'docs', 'img', 'demo.png'));
    }
  });

  test('a safetensors file written in Node loads through the file input and predicts as Node does', async () => {
    // a SmallCNN trained a few steps in Node (so the BatchNorm running statistics are not trivial)
    nd.manualSeed(7);
    const model = new nd.models.SmallCNN();
    const opt = new nd.optim.Adam(model.parameters(), { lr: 2e-3 });
    for (let s = 0; s < 5; s++) {
      const x = nd.tensor(Float32Array.from(mnist.train.images.subarray(s * 32 * 784, (s + 1) * 32 * 784), (v) => v / 255), { shape: [32, 1, 28, 28] });
      const y = nd.tensor(Int32Array.from(mnist.train.labels.subarray(s * 32, (s + 1) * 32)), { shape: [32], dtype: 'int32' });
      const loss = nd.nn.functional.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    const file = join(ARTIFACTS, 'node-model.safetensors');
    writeFileSync(file, nd.serialize(model.stateDict(), { written: 'test/browser.test.ts' }));
    await page.setInputFiles('#load-input', file);
    await page.waitForFunction(() => __needle.state().source === 'node-model.safetensors' && __needle.state().accuracy !== null, null, { timeout: 20_000 });
    assert.match((await page.textContent('#weights-status')) ?? '', /loaded node-model\.safetensors: SmallCNN 16-32/);
    const dict = nd.deserialize(readFileSync(file));
    const inNode = nodeProbs(dict, testPixels(mnist, 0, N_COMPARE), N_COMPARE);
    const inPage = await page.evaluate((n) => __needle.predictTest(0, n), N_COMPARE);
    const diff = maxDiff(inPage, inNode);
    console.log(`# browser: Node -> page weights, max |p_page - p_node| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `predictions differ by ${diff}`);
  });

  test('a needle-ts train checkpoint of an MLP-ResNet (optimizer state included) loads and predicts as Node does', async () => {
    nd.manualSeed(11);
    const model = new nd.models.MLPResNet(784, 100, 3, 10);
    const opt = new nd.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nd.tensor(Float32Array.from(mnist.train.images.subarray(0, 64 * 784), (v) => v / 255), { shape: [64, 784] });
    const y = nd.tensor(Int32Array.from(mnist.train.labels.subarray(0, 64)), { shape: [64], dtype: 'int32' });
    const loss = nd.nn.functional.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    const file = join(ARTIFACTS, 'node-checkpoint.safetensors');
    writeFileSync(file, nd.checkpointToBytes({ model, optimizer: opt, epoch: 1 }));
    await page.setInputFiles('#load-input', file);
    await page.waitForFunction(() => __needle.state().source === 'node-checkpoint.safetensors' && __needle.state().accuracy !== null, null, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => __needle.arch.kind), 'mlp-resnet');
    assert.match((await page.textContent('#weights-status')) ?? '', /MLP-ResNet 784-100, 3 blocks/);
    model.eval();
    const pixels = testPixels(mnist, 0, N_COMPARE);
    const p = nd.noGrad(() => nd.softmax(model.forward(nd.tensor(pixels, { shape: [N_COMPARE, 784] })), -1)).dataSync();
    const inNode = Array.from({ length: N_COMPARE }, (_, i) => Array.from(p.subarray(i * 10, (i + 1) * 10), Number));
    const inPage = await page.evaluate((n) => __needle.predictTest(0, n), N_COMPARE);
    const diff = maxDiff(inPage, inNode);
    console.log(`# browser: Node checkpoint (MLP-ResNet) -> page, max |p_page - p_node| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `predictions differ by ${diff}`);
  });

  test('no errors in the page', async () => {
    const errors = await page.evaluate(() => __needle.state().errors);
    assert.deepEqual([...errors, ...pageErrors], []);
  });
});
