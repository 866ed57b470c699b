/**
 * The browser build (tools/build_browser.mjs) and the local server (tools/serve.mjs):
 *  - the bundle of src/browser.ts (and of the kernel worker) holds no Node-only module: no `node:*`
 *    or koffi import in the metafile, none of src/platform/node.ts, blas.ts, src/cli/*, the Node
 *    worker; its text has no `require(`, no import of `node:*`, no dynamic `import(` at all (the
 *    lazy Node imports of src/io/node.ts and co. are stubbed out by the build, since they are
 *    unreachable in a browser and a minified `import("node:fs/promises")` would trip app bundlers);
 *  - the bundle evaluates as an ES module in a fresh V8 context holding only browser-like globals
 *    (no process, require, Buffer, Worker): default device wasm, one thread (not cross-origin
 *    isolated), tensor ops, a Linear forward/backward, an SGD step, a safetensors round trip from an
 *    ArrayBuffer, a transform; the Node-only file functions reject with a clear error;
 *  - the server sends the COOP/COEP/CORP headers and the right content types, and serves nothing
 *    outside its root.
 * These do not depend on the device configuration, so `npm test` runs them in its first pass only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIP = process.env['NEEDLE_DEVICE'] || process.env['NEEDLE_THREADS'] ? 'independent of the device configuration (runs in the default pass)' : false;

interface Output {
  path: string;
  text: string;
  bytes: number;
  gzip: number;
}
interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  outputs: Record<string, { imports: { path: string; kind: string }[] }>;
}
interface BuildBrowser {
  bundle(opts: { entry?: string; outfile?: string; write?: boolean; sourcemap?: boolean }): Promise<{ outputs: Output[]; metafile: Metafile; problems: string[] }>;
  checkNoNodeImports(metafile: Metafile): string[];
  checkBundleText(text: string, name?: string): string[];
}
interface Server {
  url: string;
  port: number;
  close(): Promise<void>;
}
interface Serve {
  startServer(opts: { root: string; port: number; mounts?: Record<string, string> }): Promise<Server>;
}

const tool = <T>(name: string): Promise<T> => import(pathToFileURL(join(ROOT, 'tools', name)).href) as Promise<T>;

test('browser bundle: no Node-only module, no require or node: import', { skip: SKIP }, async () => {
  const { bundle, checkNoNodeImports, checkBundleText } = await tool<BuildBrowser>('build_browser.mjs');
  const { outputs, metafile, problems } = await bundle({ outfile: join(tmpdir(), 'needle-bundle-check', 'needle.js'), write: false, sourcemap: false });
  assert.deepEqual(problems, []);

  const inputs = Object.keys(metafile.inputs).map((p) => p.split('\\').join('/'));
  assert.ok(inputs.includes('src/browser.ts') && inputs.includes('src/platform/browser.ts') && inputs.includes('src/ndarray/wasm/worker_browser.ts'), 'the browser entries are bundled');
  for (const bad of ['src/index.ts', 'src/platform/node.ts', 'src/platform/blas.ts', 'src/ndarray/wasm/worker.ts']) assert.ok(!inputs.includes(bad), `${bad} is in the bundle`);
  assert.deepEqual(inputs.filter((p) => p.startsWith('src/cli/') || p.includes('koffi') || p.startsWith('node:')), []);
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const imp of info.imports) assert.ok(!imp.path.startsWith('node:') && !imp.path.startsWith('koffi'), `${input} imports ${imp.path}`);
  }
  for (const [out, info] of Object.entries(metafile.outputs)) assert.deepEqual(info.imports, [], `${out} imports nothing`);

  const main = outputs.find((o) => o.path.endsWith('needle.js'));
  const worker = outputs.find((o) => o.path.endsWith('needle-worker.js'));
  assert.ok(main && worker);
  for (const o of [main, worker]) {
    assert.ok(!/\brequire\s*\(/.test(o.text), `${o.path}: require(`);
    assert.ok(!/\bfrom\s*["']node:/.test(o.text), `${o.path}: static import of node:*`);
    assert.ok(!/\bimport\s*\(/.test(o.text), `${o.path}: dynamic import(`);
  }
  assert.ok(main.text.includes('new URL("./needle-worker.js",import.meta.url)'), 'the worker URL stays relative to the bundle');
  assert.ok(worker.bytes < 16_384, `the worker bundle is small (${worker.bytes} bytes)`);

  // the checkers do catch what they are meant to
  assert.ok(checkBundleText('let f=await import("node:fs/promises")').length > 0);
  assert.ok(checkBundleText('const x=require("fs")').length > 0);
  const bad = { inputs: { 'src/platform/node.ts': { imports: [{ path: 'node:worker_threads', kind: 'import-statement', external: true }] } }, outputs: {} };
  assert.equal(checkNoNodeImports(bad).length, 2);
});

// Runs in a child process: evaluates the bundle as an ES module in a new V8 context whose only
// globals are the JavaScript built-ins (WebAssembly, FinalizationRegistry, ...) and a few
// browser ones, then a small program that imports it; prints one JSON line.
const CHILD = String.raw`
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
const url = 'http://127.0.0.1:8080/lib/needle.js';
const ctx = vm.createContext({
  console, atob, btoa, TextEncoder, TextDecoder, setTimeout, clearTimeout, queueMicrotask, performance,
  navigator: { hardwareConcurrency: 4, userAgent: 'test' }, crossOriginIsolated: false,
  report: (s) => process.stdout.write(s + '\n'),
});
vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', ctx);
const lib = new vm.SourceTextModule(readFileSync(process.env.NEEDLE_BUNDLE, 'utf8'), {
  context: ctx, identifier: url, initializeImportMeta(meta) { meta.url = url; },
});
const app = new vm.SourceTextModule(readFileSync(process.env.NEEDLE_APP, 'utf8'), { context: ctx, identifier: 'http://127.0.0.1:8080/app.js' });
await app.link((spec) => { if (spec === 'needle') return lib; throw new Error('the bundle imports ' + spec); });
await app.evaluate();
`;

const APP = String.raw`
import * as nd from 'needle';
const out = { globals: [typeof process, typeof require, typeof Buffer, typeof Worker] };
const i = nd.info();
out.info = { defaultDevice: i.defaultDevice, devices: i.devices, available: i.wasm.available, reason: i.wasm.reason ?? '', threads: i.wasm.threads, syncReclaim: i.wasm.syncReclaim, platform: i.platform };
out.add = nd.add(nd.tensor([1, 2, 3]), nd.tensor([10, 20, 30])).toArray();
out.device = nd.tensor([1]).device;
nd.manualSeed(0);
const fc = new nd.nn.Linear(3, 2);
const w0 = Array.from(fc.weight.dataSync());
const y = fc.forward(nd.ones([4, 3]));
out.yShape = y.shape;
y.sum().backward();
out.wGrad = Array.from(fc.weight.grad.dataSync());
out.bGrad = Array.from(fc.bias.grad.dataSync());
const opt = new nd.optim.SGD(fc.parameters(), { lr: 0.5 });
opt.step();
out.sgdDelta = Array.from(fc.weight.dataSync(), (v, k) => v - w0[k]);
const bytes = nd.saveToBuffer(fc.stateDict(), { metadata: { k: 'v' } });
const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const back = nd.loadFromArrayBuffer(ab);
out.roundTrip = Object.keys(back).sort().map((k) => [k, back[k].shape, Array.from(back[k].dataSync()).every((v, j) => v === fc.stateDict()[k].dataSync()[j])]);
out.normalize = new nd.transforms.Normalize(2, 4).forward(nd.tensor([2, 6])).toArray();
try { await nd.save(fc.stateDict(), 'model.safetensors'); out.save = 'resolved'; } catch (e) { out.save = e.name + ': ' + e.message; }
report(JSON.stringify(out));
`;

test('browser bundle: evaluates without Node globals (wasm, one thread, nn, optim, safetensors)', { skip: SKIP }, async () => {
  const { bundle } = await tool<BuildBrowser>('build_browser.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'needle-bundle-'));
  try {
    const { problems } = await bundle({ outfile: join(dir, 'needle.js'), sourcemap: false });
    assert.deepEqual(problems, []);
    writeFileSync(join(dir, 'app.mjs'), APP);
    const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', '--input-type=module', '-e', CHILD], {
      env: { ...process.env, NEEDLE_BUNDLE: join(dir, 'needle.js'), NEEDLE_APP: join(dir, 'app.mjs') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `child failed:\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.globals, ['undefined', 'undefined', 'undefined', 'undefined']);
    assert.deepEqual(out.info, { defaultDevice: 'wasm', devices: ['cpu', 'wasm'], available: true, reason: '', threads: 1, syncReclaim: false, platform: 'browser' });
    assert.equal(out.device, 'wasm');
    assert.deepEqual(out.add, [11, 22, 33]);
    assert.deepEqual(out.yShape, [4, 2]);
    assert.deepEqual(out.wGrad, [4, 4, 4, 4, 4, 4]);
    assert.deepEqual(out.bGrad, [4, 4]);
    for (const d of out.sgdDelta) assert.ok(Math.abs(d + 2) < 1e-6, `SGD step ${d}`);
    assert.deepEqual(out.roundTrip, [
      ['bias', [2], true],
      ['weight', [2, 3], true],
    ]);
    assert.deepEqual(out.normalize, [0, 1]);
    assert.match(out.save, /^TypeError: save: .*saveToBuffer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A raw GET (no client-side URL normalisation, so `..` reaches the server as sent). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serve: COOP/COEP headers, content types, no way out of the root', { skip: SKIP }, async () => {
  const { startServer } = await tool<Serve>('serve.mjs');
  const base = mkdtempSync(join(tmpdir(), 'needle-serve-'));
  const root = join(base, 'web');
  const lib = join(base, 'lib');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(lib);
  writeFileSync(join(base, 'secret.txt'), 'SECRET');
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'app.js'), 'export {};');
  writeFileSync(join(root, 'm.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(join(root, 'w.safetensors'), new Uint8Array(16));
  writeFileSync(join(root, 'sub', 'd.json'), '{}');
  writeFileSync(join(lib, 'needle.js'), 'export const x = 1;');
  let linked = true;
  try {
    symlinkSync(join(base, 'secret.txt'), join(root, 'link.txt'));
  } catch {
    linked = false;
  }
  const s = await startServer({ root, port: 0, mounts: { '/lib/': lib } });
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(s.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /<title>t<\/title>/);
    for (const r of [index, await get(s.port, '/nope.js')]) {
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
      assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
    }
    const types: [string, RegExp][] = [
      ['/', /^text\/html/],
      ['/app.js', /^text\/javascript/],
      ['/m.wasm', /^application\/wasm$/],
      ['/w.safetensors', /^application\/octet-stream$/],
      ['/sub/d.json', /^application\/json/],
      ['/lib/needle.js', /^text\/javascript/],
    ];
    for (const [p, re] of types) {
      const r = await get(s.port, p);
      assert.equal(r.status, 200, p);
      assert.match(String(r.headers['content-type']), re, p);
    }
    assert.equal((await get(s.port, '/lib/needle.js')).body, 'export const x = 1;');
    assert.equal((await get(s.port, '/app.js', 'HEAD')).body, '');
    assert.equal((await get(s.port, '/nope.js')).status, 404);
    assert.equal((await get(s.port, '/app.js', 'POST')).status, 405);
    const sub = await get(s.port, '/sub');
    assert.equal(sub.status, 301);
    assert.equal(sub.headers['location'], '/sub/');
    for (const p of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/sub/%2e%2e%2f%2e%2e%2fsecret.txt', '/lib/../../secret.txt', '/..\\secret.txt', '/%00']) {
      const r = await get(s.port, p);
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status}`);
      assert.ok(!r.body.includes('SECRET'), p);
    }
    if (linked) assert.equal((await get(s.port, '/link.txt')).status, 403, 'a symbolic link out of the root');
  } finally {
    await s.close();
    rmSync(base, { recursive: true, force: true });
  }
});
