/**
 * needle-ts in the browser: trains a small CNN (or MLP-ResNet) on MNIST digits in the page, with a
 * live loss/accuracy chart; classifies digits drawn on a canvas; saves and loads the weights as
 * safetensors; runs a subset of the op-parity fixtures in the page. Bundled by tools/build_web.mjs
 * (web/dist/app.js, next to the kernel worker web/dist/needle-worker.js); served by tools/serve.mjs
 * with the COOP/COEP headers that make the page cross-origin isolated (threads).
 *
 * `window.__needle` exposes hooks for the browser test (test/browser.test.ts).
 */
import * as nd from '../src/browser.js';
import { runCases, type Case, type ParityReport } from '../test/parity/check.js';
import { CORE_OPS } from '../test/parity/core_ops.js';
import { TABLES } from '../test/parity/tables.js';
import { LossAccuracyChart, type Point } from './chart.js';
import { gather, parseMnist, PIXELS, type Mnist } from './data.js';
import { toMnist } from './digit.js';

// ------------------------------------------------------------------------------ models

/** The architectures the page builds (and recognizes in a loaded file). */
export type Arch =
  | { kind: 'small-cnn'; channels: [number, number]; hidden: number; classes: number }
  | { kind: 'mlp-resnet'; hidden: number; blocks: number; classes: number };

const ARCHS: Record<string, Arch> = {
  'small-cnn': { kind: 'small-cnn', channels: [16, 32], hidden: 0, classes: 10 },
  'mlp-resnet': { kind: 'mlp-resnet', hidden: 100, blocks: 3, classes: 10 },
};

function buildModel(arch: Arch): nd.nn.Sequential {
  return arch.kind === 'small-cnn'
    ? new nd.models.SmallCNN({ channels: arch.channels, hidden: arch.hidden, numClasses: arch.classes })
    : new nd.models.MLPResNet(PIXELS, arch.hidden, arch.blocks, arch.classes);
}

function describeArch(arch: Arch): string {
  return arch.kind === 'small-cnn'
    ? `SmallCNN ${arch.channels[0]}-${arch.channels[1]}${arch.hidden > 0 ? `, hidden ${arch.hidden}` : ''}`
    : `MLP-ResNet 784-${arch.hidden}, ${arch.blocks} blocks`;
}

/**
 * The architecture of a state dict (as written by this page, by `model.stateDict()` in Node, or
 * inside a `needle-ts train` checkpoint once its `model.` prefix is stripped), from its keys and
 * shapes.
 */
export function archFromState(dict: Record<string, nd.Tensor>): Arch {
  const shape = (k: string) => dict[k]?.shape;
  const first = shape('0.weight');
  if (first?.length === 4 && first[1] === 1) {
    const second = shape('4.weight');
    if (second?.length !== 4) throw new Error('a SmallCNN state (0.weight, 4.weight), got no 4.weight');
    const hidden = shape('11.weight') ? shape('9.weight')![0]! : 0;
    const head = shape(hidden > 0 ? '11.weight' : '9.weight');
    if (!head) throw new Error('a SmallCNN state with a linear head (9.weight), got none');
    return { kind: 'small-cnn', channels: [first[0]!, second[0]!], hidden, classes: head[0]! };
  }
  if (first?.length === 2 && first[1] === PIXELS) {
    let blocks = 0;
    while (shape(`${2 + blocks}.0.fn.0.weight`)) blocks++;
    const head = shape(`${2 + blocks}.weight`);
    if (!head) throw new Error(`an MLP-ResNet state with a head ${2 + blocks}.weight, got none`);
    return { kind: 'mlp-resnet', hidden: first[0]!, blocks, classes: head[0]! };
  }
  throw new Error(`a SmallCNN or MLP-ResNet state dict for 28x28 digits, got keys ${Object.keys(dict).slice(0, 6).join(', ')}...`);
}

/** Input tensor of `n` images (784 pixels each) in the layout the architecture takes. */
function inputOf(arch: Arch, pixels: Float32Array, n: number): nd.Tensor {
  return nd.tensor(pixels, { shape: arch.kind === 'small-cnn' ? [n, 1, 28, 28] : [n, PIXELS] });
}

// ------------------------------------------------------------------------------ page state

const BATCH = 64;
const LR = 2e-3;
const EVAL_EVERY = 100;
const SMOOTH = 0.95;

interface State {
  data: Mnist | null;
  arch: Arch;
  model: nd.nn.Sequential;
  opt: nd.optim.Adam;
  source: string;
  step: number;
  epoch: number;
  perm: Uint32Array;
  permAt: number;
  rng: () => number;
  running: boolean;
  loop: Promise<void> | null;
  raw: Point[];
  smooth: Point[];
  acc: Point[];
  ema: number | null;
  stepTimes: number[];
  samplesPerSec: number;
  accuracy: number | null;
  lastProbs: number[] | null;
  drawing: Float32Array | null;
  errors: string[];
  parity: ParityReport | null;
}

/** mulberry32: a small seeded generator for shuffling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freshModel(arch: Arch, seed = 0): { model: nd.nn.Sequential; opt: nd.optim.Adam } {
  nd.manualSeed(seed);
  const model = buildModel(arch);
  return { model, opt: new nd.optim.Adam(model.parameters(), { lr: LR }) };
}

const initial = freshModel(ARCHS['small-cnn']!);
const S: State = {
  data: null,
  arch: ARCHS['small-cnn']!,
  model: initial.model,
  opt: initial.opt,
  source: 'random initialization',
  step: 0,
  epoch: 0,
  perm: new Uint32Array(0),
  permAt: 0,
  rng: mulberry32(1),
  running: false,
  loop: null,
  raw: [],
  smooth: [],
  acc: [],
  ema: null,
  stepTimes: [],
  samplesPerSec: 0,
  accuracy: null,
  lastProbs: null,
  drawing: null,
  errors: [],
  parity: null,
};

// ------------------------------------------------------------------------------ DOM

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
}

const ui = {
  info: $('info'),
  arch: $<HTMLSelectElement>('arch'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  reset: $<HTMLButtonElement>('reset'),
  step: $('stat-step'),
  epoch: $('stat-epoch'),
  loss: $('stat-loss'),
  acc: $('stat-acc'),
  speed: $('stat-speed'),
  status: $('train-status'),
  chart: new LossAccuracyChart($<HTMLCanvasElement>('chart')),
  pad: $<HTMLCanvasElement>('pad'),
  preview: $<HTMLCanvasElement>('preview'),
  clear: $<HTMLButtonElement>('clear'),
  probs: $('probs'),
  prediction: $('prediction'),
  save: $<HTMLButtonElement>('save'),
  load: $<HTMLInputElement>('load-input'),
  weights: $('weights-status'),
  modelName: $('model-name'),
  parityRun: $<HTMLButtonElement>('parity-run'),
  parity: $('parity-result'),
  error: $('error'),
};

function showError(where: string, e: unknown): void {
  const msg = `${where}: ${e instanceof Error ? e.message : String(e)}`;
  S.errors.push(msg);
  ui.error.textContent = msg;
  ui.error.hidden = false;
  console.error(msg, e);
}

function fmt(v: number | null, digits: number, suffix = ''): string {
  return v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${suffix}`;
}

function renderInfo(): void {
  const i = nd.info();
  const w = i.wasm;
  const isolated = globalThis.crossOriginIsolated === true;
  ui.info.textContent = w.available
    ? `device ${i.defaultDevice} · ${w.threads} thread${w.threads === 1 ? '' : 's'} (${w.workersReady} worker${w.workersReady === 1 ? '' : 's'} ready) · ` +
      `${w.relaxedSimd ? 'relaxed SIMD' : 'SIMD'} · ${isolated ? 'cross-origin isolated' : 'not cross-origin isolated (one thread)'}`
    : `device ${i.defaultDevice} (wasm unavailable: ${w.reason ?? 'unknown'})`;
  ui.info.dataset['threads'] = String(w.available ? w.threads : 0);
}

function renderStats(): void {
  ui.step.textContent = String(S.step);
  ui.epoch.textContent = S.data ? ((S.step * BATCH) / S.data.train.n).toFixed(2) : '–';
  ui.loss.textContent = fmt(S.ema, 4);
  ui.acc.textContent = fmt(S.accuracy === null ? null : S.accuracy * 100, 2, '%');
  ui.speed.textContent = S.running ? fmt(S.samplesPerSec, 0) : S.samplesPerSec > 0 ? `${S.samplesPerSec.toFixed(0)} (last)` : '–';
  ui.start.disabled = S.running || !S.data;
  ui.stop.disabled = !S.running;
  ui.modelName.textContent = `${describeArch(S.arch)} · ${S.model.parameters().reduce((a, p) => a + p.size, 0).toLocaleString('en-US')} parameters · weights: ${S.source}`;
  ui.chart.draw(S.raw, S.smooth, S.acc);
}

// ------------------------------------------------------------------------------ training

/** Yields to the event loop (a message, not setTimeout: no 4 ms clamping of nested timers). */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

function nextBatch(data: Mnist): Uint32Array {
  const n = data.train.n;
  const idx = new Uint32Array(BATCH);
  for (let k = 0; k < BATCH; k++) {
    if (S.permAt >= S.perm.length) {
      // a new epoch: Fisher-Yates shuffle
      if (S.perm.length !== n) S.perm = Uint32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(S.rng() * (i + 1));
        const t = S.perm[i]!;
        S.perm[i] = S.perm[j]!;
        S.perm[j] = t;
      }
      S.permAt = 0;
    }
    idx[k] = S.perm[S.permAt++]!;
  }
  return idx;
}

const batchPixels = new Float32Array(BATCH * PIXELS);

function trainStep(data: Mnist): number {
  const idx = nextBatch(data);
  const x = inputOf(S.arch, gather(data.train, idx, batchPixels), BATCH);
  const y = nd.tensor(Int32Array.from(idx, (i) => data.train.labels[i]!), { shape: [BATCH], dtype: 'int32' });
  S.model.train();
  const loss = nd.nn.functional.crossEntropy(S.model.forward(x), y);
  S.opt.zeroGrad();
  loss.backward();
  S.opt.step();
  return loss.item();
}

/** Runs `fn` in evaluation mode without recording, restoring the training flag after. */
function inEval<T>(fn: () => T): T {
  const was = S.model.training;
  S.model.eval();
  try {
    return nd.noGrad(fn);
  } finally {
    S.model.train(was);
  }
}

/** Class probabilities of `n` images (784 pixels each), row after row. */
function predict(pixels: Float32Array, n: number): Float32Array {
  return inEval(() => nd.softmax(S.model.forward(inputOf(S.arch, pixels, n)), -1).dataSync() as Float32Array);
}

/** Test-split accuracy, in chunks with yields in between so the page stays responsive. */
async function evaluate(): Promise<number> {
  const data = S.data!;
  const chunk = BATCH;
  let correct = 0;
  for (let start = 0; start < data.test.n; start += chunk) {
    const n = Math.min(chunk, data.test.n - start);
    const idx = Uint32Array.from({ length: n }, (_, k) => start + k);
    const pred = inEval(() => nd.argmax(S.model.forward(inputOf(S.arch, gather(data.test, idx), n)), 1).dataSync());
    for (let k = 0; k < n; k++) if (Number(pred[k]) === data.test.labels[start + k]) correct++;
    await yieldToPage();
  }
  return correct / data.test.n;
}

async function recordAccuracy(): Promise<void> {
  S.accuracy = await evaluate();
  const last = S.acc[S.acc.length - 1];
  if (last && last.step === S.step) last.value = S.accuracy;
  else S.acc.push({ step: S.step, value: S.accuracy });
  renderStats();
}

async function trainLoop(): Promise<void> {
  const data = S.data!;
  ui.status.textContent = 'training…';
  // the chart's accuracy curve starts from the model as it is
  if (S.acc.length === 0) await recordAccuracy();
  let lastRender = 0;
  while (S.running) {
    const t0 = performance.now();
    const loss = trainStep(data);
    S.step++;
    S.ema = S.ema === null ? loss : SMOOTH * S.ema + (1 - SMOOTH) * loss;
    S.raw.push({ step: S.step, value: loss });
    S.smooth.push({ step: S.step, value: S.ema });
    if (S.step % (S.step <= EVAL_EVERY ? EVAL_EVERY / 4 : EVAL_EVERY) === 0) await recordAccuracy();
    await yieldToPage();
    const now = performance.now();
    S.stepTimes.push(now - t0);
    if (S.stepTimes.length > 20) S.stepTimes.shift();
    S.samplesPerSec = (BATCH * S.stepTimes.length * 1000) / S.stepTimes.reduce((a, b) => a + b, 0);
    if (now - lastRender > 100) {
      lastRender = now;
      renderStats();
      renderInfo();
      predictDrawing();
    }
  }
  await recordAccuracy();
  ui.status.textContent = `stopped at step ${S.step}`;
  predictDrawing();
  renderStats();
}

function start(): void {
  if (S.running || !S.data) return;
  S.running = true;
  S.source = 'trained in this page';
  S.loop = trainLoop().catch((e) => {
    S.running = false;
    showError('training', e);
  });
  renderStats();
}

async function stop(): Promise<void> {
  S.running = false;
  await S.loop;
  S.loop = null;
  renderStats();
}

function resetHistory(): void {
  S.step = 0;
  S.perm = new Uint32Array(0);
  S.permAt = 0;
  S.rng = mulberry32(1);
  S.raw = [];
  S.smooth = [];
  S.acc = [];
  S.ema = null;
  S.stepTimes = [];
  S.samplesPerSec = 0;
  S.accuracy = null;
}

async function reset(archName: string): Promise<void> {
  await stop();
  const arch = ARCHS[archName];
  if (!arch) throw new Error(`unknown model ${archName}`);
  S.arch = arch;
  ({ model: S.model, opt: S.opt } = freshModel(arch));
  S.source = 'random initialization';
  resetHistory();
  ui.status.textContent = 'ready';
  predictDrawing();
  renderStats();
}

// ------------------------------------------------------------------------------ drawing

const pad = ui.pad.getContext('2d', { willReadFrequently: true })!;
const preview = ui.preview.getContext('2d')!;

function clearPad(): void {
  pad.fillStyle = '#000';
  pad.fillRect(0, 0, ui.pad.width, ui.pad.height);
  preview.fillStyle = '#000';
  preview.fillRect(0, 0, ui.preview.width, ui.preview.height);
  S.drawing = null;
  S.lastProbs = null;
  renderProbs(null);
}

function padPixels(): Float32Array {
  const { width, height } = ui.pad;
  const rgba = pad.getImageData(0, 0, width, height).data;
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4]! / 255;
  return gray;
}

function renderPreview(img: Float32Array): void {
  const image = preview.createImageData(28, 28);
  for (let i = 0; i < PIXELS; i++) {
    const v = Math.round(img[i]! * 255);
    image.data.set([v, v, v, 255], i * 4);
  }
  const scratch = document.createElement('canvas');
  scratch.width = 28;
  scratch.height = 28;
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  preview.imageSmoothingEnabled = false;
  preview.drawImage(scratch, 0, 0, ui.preview.width, ui.preview.height);
}

function renderProbs(probs: ArrayLike<number> | null): void {
  let best = -1;
  if (probs) for (let c = 0; c < probs.length; c++) if (best < 0 || probs[c]! > probs[best]!) best = c;
  for (const row of Array.from(ui.probs.children) as HTMLElement[]) {
    const c = Number(row.dataset['digit']);
    const p = probs ? probs[c]! : 0;
    (row.querySelector('.bar-fill') as HTMLElement).style.width = `${(p * 100).toFixed(1)}%`;
    row.querySelector('.bar-value')!.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
    row.classList.toggle('best', c === best);
  }
  ui.prediction.textContent = best >= 0 ? String(best) : '?';
  ui.probs.dataset['ready'] = probs ? '1' : '0';
}

function predictDrawing(): void {
  if (!S.drawing) return;
  const probs = Array.from(predict(S.drawing, 1));
  S.lastProbs = probs;
  renderProbs(probs);
}

let pending = false;
function onStroke(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    try {
      const img = toMnist(padPixels(), ui.pad.width, ui.pad.height);
      S.drawing = img;
      if (!img) return renderProbs(null);
      renderPreview(img);
      predictDrawing();
    } catch (e) {
      showError('prediction', e);
    }
  });
}

function setUpPad(): void {
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = ui.pad.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * ui.pad.width) / r.width, y: ((e.clientY - r.top) * ui.pad.height) / r.height };
  };
  const line = (a: { x: number; y: number }, b: { x: number; y: number }) => {
    pad.strokeStyle = '#fff';
    pad.lineWidth = 20;
    pad.lineCap = 'round';
    pad.lineJoin = 'round';
    pad.beginPath();
    pad.moveTo(a.x, a.y);
    pad.lineTo(b.x, b.y);
    pad.stroke();
  };
  ui.pad.addEventListener('pointerdown', (e) => {
    ui.pad.setPointerCapture(e.pointerId);
    last = at(e);
    line(last, last);
    onStroke();
  });
  ui.pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    line(last, p);
    last = p;
    onStroke();
  });
  const end = () => {
    if (!last) return;
    last = null;
    onStroke();
  };
  ui.pad.addEventListener('pointerup', end);
  ui.pad.addEventListener('pointercancel', end);
  ui.clear.addEventListener('click', clearPad);
}

// ------------------------------------------------------------------------------ weights

function saveBytes(): Uint8Array {
  return nd.serialize(S.model.stateDict(), { format: 'needle-ts-state-dict', model: S.arch.kind, arch: JSON.stringify(S.arch), step: String(S.step) });
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Loads weights from safetensors bytes: a state dict (this page's download, `model.stateDict()`
 * saved in Node) or a `needle-ts train` checkpoint (tensors under `model.`; the optimizer state is
 * ignored). The architecture comes from the tensors' names and shapes.
 */
async function loadWeights(bytes: ArrayBuffer | Uint8Array, name: string): Promise<Arch> {
  await stop();
  const { tensors } = nd.deserializeWithMetadata(bytes);
  let dict = tensors;
  const keys = Object.keys(tensors);
  if (keys.some((k) => k.startsWith('model.'))) {
    dict = {};
    for (const k of keys) if (k.startsWith('model.')) dict[k.slice(6)] = tensors[k]!;
  }
  const arch = archFromState(dict);
  const { model, opt } = freshModel(arch);
  model.loadStateDict(dict);
  S.arch = arch;
  S.model = model;
  S.opt = opt;
  S.source = name;
  resetHistory();
  ui.arch.value = arch.kind;
  ui.weights.textContent = `loaded ${name}: ${describeArch(arch)}, ${Object.keys(dict).length} tensors`;
  predictDrawing();
  renderStats();
  if (S.data) await recordAccuracy();
  ui.status.textContent = `loaded weights (${name})`;
  return arch;
}

// ------------------------------------------------------------------------------ parity

async function runParity(): Promise<ParityReport> {
  ui.parity.textContent = 'running…';
  const res = await fetch(new URL('./parity_cases.json', import.meta.url));
  if (!res.ok) throw new Error(`parity_cases.json: HTTP ${res.status}`);
  const { cases } = (await res.json()) as { cases: (Case & { module?: string })[] };
  await yieldToPage();
  const t0 = performance.now();
  const report = runCases(cases, { core: CORE_OPS, ...TABLES });
  const ms = performance.now() - t0;
  S.parity = report;
  ui.parity.textContent =
    `${report.passed} / ${report.total} op cases match PyTorch (forward, gradients, second order, jvp) in ${ms.toFixed(0)} ms` +
    (report.failed > 0 ? `\n${report.failures.join('\n')}` : '');
  ui.parity.classList.remove('muted');
  ui.parity.classList.toggle('fail', report.failed > 0);
  return report;
}

// ------------------------------------------------------------------------------ start-up

/** What the browser test reaches through `window.__needle`. */
export interface NeedleHooks {
  nd: typeof nd;
  ready: boolean;
  readonly model: nd.nn.Sequential;
  readonly arch: Arch;
  state(): { step: number; running: boolean; busy: boolean; ema: number | null; accuracy: number | null; samplesPerSec: number; source: string; errors: string[] };
  history(): { raw: Point[]; smooth: Point[]; acc: Point[] };
  start(): void;
  stop(): Promise<void>;
  reset(arch: string): Promise<void>;
  /** Class probabilities of `n` images given as n * 784 pixels in [0, 1]. */
  predict(pixels: ArrayLike<number>, n: number): number[][];
  /** Class probabilities of test images start .. start + n - 1. */
  predictTest(start: number, n: number): number[][];
  lastProbs(): number[] | null;
  saveBytes(): Uint8Array;
  loadWeights(bytes: ArrayBuffer | Uint8Array, name?: string): Promise<Arch>;
  loadWeightsFromUrl(url: string): Promise<Arch>;
  runParity(): Promise<ParityReport>;
}

function rows(flat: Float32Array, n: number): number[][] {
  const k = flat.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
}

const hooks: NeedleHooks = {
  nd,
  ready: false,
  get model() {
    return S.model;
  },
  get arch() {
    return S.arch;
  },
  state: () => ({ step: S.step, running: S.running, busy: S.loop !== null, ema: S.ema, accuracy: S.accuracy, samplesPerSec: S.samplesPerSec, source: S.source, errors: S.errors.slice() }),
  history: () => ({ raw: S.raw.slice(), smooth: S.smooth.slice(), acc: S.acc.slice() }),
  start,
  stop,
  reset,
  predict: (pixels, n) => rows(predict(Float32Array.from(pixels), n), n),
  predictTest: (start, n) => rows(predict(gather(S.data!.test, Uint32Array.from({ length: n }, (_, k) => start + k)), n), n),
  lastProbs: () => S.lastProbs,
  saveBytes,
  loadWeights: (bytes, name = 'weights') => loadWeights(bytes, name),
  loadWeightsFromUrl: async (url) => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return loadWeights(await res.arrayBuffer(), url.split('/').pop() ?? url);
  },
  runParity,
};
(globalThis as unknown as { __needle: NeedleHooks }).__needle = hooks;

async function main(): Promise<void> {
  for (let c = 0; c < 10; c++) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.dataset['digit'] = String(c);
    row.innerHTML = `<span class="bar-label">${c}</span><span class="bar-track"><span class="bar-fill"></span></span><span class="bar-value"></span>`;
    ui.probs.append(row);
  }
  setUpPad();
  clearPad();
  ui.start.addEventListener('click', start);
  ui.stop.addEventListener('click', () => void stop());
  ui.reset.addEventListener('click', () => void reset(ui.arch.value).catch((e) => showError('reset', e)));
  ui.arch.addEventListener('change', () => void reset(ui.arch.value).catch((e) => showError('model', e)));
  ui.save.addEventListener('click', () => {
    try {
      const bytes = saveBytes();
      download(bytes, 'needle-mnist.safetensors');
      ui.weights.textContent = `saved needle-mnist.safetensors (${(bytes.length / 1024).toFixed(1)} KiB, ${describeArch(S.arch)}, step ${S.step})`;
    } catch (e) {
      showError('save', e);
    }
  });
  ui.load.addEventListener('change', async () => {
    const file = ui.load.files?.[0];
    if (!file) return;
    try {
      await loadWeights(await file.arrayBuffer(), file.name);
    } catch (e) {
      ui.weights.textContent = `could not load ${file.name}`;
      showError('load', e);
    } finally {
      ui.load.value = '';
    }
  });
  ui.parityRun.addEventListener('click', () => void runParity().catch((e) => showError('parity', e)));
  renderInfo();
  renderStats();
  ui.status.textContent = 'loading MNIST…';
  const res = await fetch(new URL('./mnist.bin', import.meta.url));
  if (!res.ok) throw new Error(`mnist.bin: HTTP ${res.status} (run npm run build:web)`);
  S.data = parseMnist(await res.arrayBuffer());
  ui.status.textContent = `ready: ${S.data.train.n.toLocaleString('en-US')} training and ${S.data.test.n.toLocaleString('en-US')} test digits`;
  hooks.ready = true;
  document.body.dataset['ready'] = '1';
  renderStats();
  // the workers report in asynchronously
  setTimeout(renderInfo, 500);
}

main().catch((e) => showError('start-up', e));
