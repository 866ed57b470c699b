#!/usr/bin/env node
// The browser build: esbuild bundles of the browser entry (src/browser.ts -> dist/browser/needle.js)
// and of the kernel-worker entry (src/platform/needle-worker.ts -> dist/browser/needle-worker.js),
// side by side, since src/platform/browser.ts spawns `new URL('./needle-worker.js', import.meta.url)`.
// ES modules, es2022, minified, external source maps, a metafile per bundle; prints raw and gzip sizes
// and fails when a Node-only module got into a bundle.
//
//   node tools/build_browser.mjs [--outdir DIR] [--no-minify]     (npm run build:browser)
//
// Reuse (the web demo bundles its app with the library the same way):
//   import { bundle, checkNoNodeImports } from './tools/build_browser.mjs';
//   await bundle({ entry: 'web/app.ts', outfile: 'web/build/app.js' });
//   // writes web/build/app.js and web/build/needle-worker.js (the worker must sit next to the app)
import * as esbuild from 'esbuild';
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The library's browser entry and its kernel-worker entry. */
export const BROWSER_ENTRY = join(ROOT, 'src', 'browser.ts');
export const WORKER_ENTRY = join(ROOT, 'src', 'platform', 'needle-worker.ts');
/** The worker bundle's file name: it must sit next to the bundle that imports the library. */
export const WORKER_FILE = 'needle-worker.js';

/** Source modules that only work in Node (a browser bundle must contain none). */
export const NODE_ONLY_SOURCES = [
  'src/index.ts',
  'src/platform/node.ts',
  'src/platform/blas.ts',
  'src/ndarray/wasm/worker.ts',
  'src/cli/',
];

// `import(<comments> identifier)`: the lazy Node imports of src/io/node.ts, src/data/node.ts and
// src/train/files.ts (a variable specifier that bundlers do not follow).
const LAZY_IMPORT = /\bimport\(\s*((?:\/\*[^]*?\*\/\s*)*)([A-Za-z_$][\w$]*)\s*\)/g;

/**
 * esbuild plugin: in the library's sources, a dynamic import through a variable (the lazy
 * `node:fs` / `node:zlib` imports) becomes a rejected promise. They are Node-only and fail in a
 * browser anyway (their callers turn the rejection into a clear TypeError); left as they are, the
 * minifier folds `const spec = 'node:fs/promises'; import(spec)` into `import("node:fs/promises")`,
 * which an app's bundler would then try to resolve (minifying also drops the /* @vite-ignore *\/
 * comments). So the bundle contains no dynamic import at all.
 */
export function stubLazyNodeImports() {
  // the sources, and their tsc output when an app imports the package by name ('needle-ts')
  const dirs = [join(ROOT, 'src') + sep, join(ROOT, 'dist') + sep];
  return {
    name: 'needle-stub-lazy-node-imports',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (!dirs.some((d) => args.path.startsWith(d)) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!LAZY_IMPORT.test(text)) return undefined;
        LAZY_IMPORT.lastIndex = 0;
        const contents = text.replace(
          LAZY_IMPORT,
          (_m, _comments, name) => `Promise.reject(new Error('needle-ts: ' + ${name} + ' is a Node.js module (unavailable in browser builds)'))`,
        );
        return { contents, loader: args.path.endsWith('ts') ? 'ts' : 'js' };
      });
    },
  };
}

/** Whether an import specifier names a Node built-in module (or koffi, the FFI add-on). */
export function isNodeSpecifier(spec) {
  if (spec.startsWith('node:')) return true;
  const bare = spec.split('/')[0];
  return builtinModules.includes(spec) || builtinModules.includes(bare) || bare === 'koffi';
}

/**
 * Problems with a browser bundle's esbuild metafile (an empty list when there are none): an input
 * that is one of the library's Node-only sources, an import of a Node built-in (or koffi), an
 * external bare import (the bundle must be self-contained), an output that imports anything, and
 * a dynamic import left in an output.
 */
export function checkNoNodeImports(metafile) {
  const problems = [];
  for (const [input, info] of Object.entries(metafile.inputs)) {
    const rel = relative(ROOT, resolve(ROOT, input)).split(sep).join('/');
    if (rel.includes('node_modules/koffi/')) problems.push(`${rel}: koffi is Node-only`);
    for (const bad of NODE_ONLY_SOURCES) if (bad.endsWith('/') ? rel.startsWith(bad) : rel === bad) problems.push(`${rel}: a Node-only module`);
    for (const imp of info.imports) {
      if (isNodeSpecifier(imp.path)) problems.push(`${rel}: imports ${imp.path} (${imp.kind})`);
      // esbuild lists a TypeScript import that it dropped (type-only or unused) as an external
      // relative path; an external bare specifier would stay in the bundle as an import
      else if (imp.external && !imp.path.startsWith('.')) problems.push(`${rel}: external import ${imp.path} (${imp.kind})`);
    }
  }
  for (const [output, info] of Object.entries(metafile.outputs)) {
    for (const imp of info.imports) problems.push(`${output}: imports ${imp.path} (${imp.kind})`);
  }
  return problems;
}

/**
 * Problems in a bundle's text: `require(`, a static or dynamic import of a Node module, or any
 * dynamic `import(` (the library's lazy Node imports are stubbed out; see stubLazyNodeImports).
 * Static imports are checked on the metafile (an output's `imports` must be empty).
 */
export function checkBundleText(text, name = 'bundle') {
  const problems = [];
  const patterns = [
    [/\brequire\s*\(/, 'require('],
    [/\bfrom\s*["']node:/, 'a static import of node:*'],
    [/\bimport\s*\(\s*["'`]node:/, 'a dynamic import of node:*'],
    [/\bimport\s*\(/, 'a dynamic import('],
  ];
  for (const [re, what] of patterns) {
    const m = re.exec(text);
    if (m) problems.push(`${name}: ${what} at offset ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 60))}`);
  }
  return problems;
}

/** Raw and gzip (level 9) sizes of a file's bytes. */
export function sizes(bytes) {
  return { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/**
 * Bundles `entry` (an app that imports the library, or the library's own browser entry) into the
 * ES module `outfile`, and the kernel worker into needle-worker.js in the same directory (unless
 * `worker: false`). With `write: false` nothing is written and the outputs come back in memory.
 * Returns { outputs: [{ path, text, bytes, gzip }], metafile, problems } where `problems` is what
 * checkNoNodeImports and checkBundleText found (the caller decides whether to fail).
 */
export async function bundle({
  entry = BROWSER_ENTRY,
  outfile = join(ROOT, 'dist', 'browser', 'needle.js'),
  worker = true,
  minify = true,
  sourcemap = true,
  write = true,
  metafile: metafilePath = true,
  define = {},
  logLevel = 'warning',
} = {}) {
  const outdir = dirname(resolve(outfile));
  const name = basename(outfile, extname(outfile));
  const entryPoints = [{ in: resolve(entry), out: name }];
  if (worker) entryPoints.push({ in: WORKER_ENTRY, out: basename(WORKER_FILE, '.js') });
  if (worker && name === basename(WORKER_FILE, '.js')) throw new Error(`bundle: outfile may not be named ${WORKER_FILE}`);
  const result = await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['browser'],
    minify,
    sourcemap: sourcemap ? 'external' : false,
    legalComments: 'none',
    metafile: true,
    write: false,
    define,
    plugins: [stubLazyNodeImports()],
    logLevel,
  });
  const metafile = result.metafile;
  const outputs = result.outputFiles.map((f) => ({ path: f.path, text: f.text, contents: f.contents, ...sizes(f.contents) }));
  const problems = checkNoNodeImports(metafile);
  for (const o of outputs) if (o.path.endsWith('.js')) problems.push(...checkBundleText(o.text, relative(ROOT, o.path)));
  if (write) {
    mkdirSync(outdir, { recursive: true });
    for (const o of outputs) writeFileSync(o.path, o.contents);
    if (metafilePath) writeFileSync(typeof metafilePath === 'string' ? metafilePath : join(outdir, `${name}.meta.json`), JSON.stringify(metafile));
  }
  return { outputs: outputs.map(({ contents: _c, ...o }) => o), metafile, problems };
}

function kib(n) {
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** Prints the outputs' sizes (source maps and metafiles left out). */
export function printSizes(outputs, log = console.log) {
  for (const o of outputs) {
    if (!o.path.endsWith('.js')) continue;
    log(`  ${relative(ROOT, o.path).padEnd(34)} ${kib(o.bytes).padStart(11)}  (gzip ${kib(o.gzip)})`);
  }
}

async function main(argv) {
  let outdir = join(ROOT, 'dist', 'browser');
  let minify = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--outdir') outdir = resolve(argv[++i] ?? '');
    else if (a.startsWith('--outdir=')) outdir = resolve(a.slice(9));
    else if (a === '--no-minify') minify = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node tools/build_browser.mjs [--outdir DIR] [--no-minify]');
      return 0;
    } else {
      console.error(`build_browser: unknown argument ${a}`);
      return 2;
    }
  }
  const t0 = Date.now();
  const { outputs, problems } = await bundle({ outfile: join(outdir, 'needle.js'), minify });
  console.log(`browser bundle (esm, es2022${minify ? ', minified' : ''}) in ${Date.now() - t0} ms:`);
  printSizes(outputs);
  if (problems.length > 0) {
    console.error('build_browser: the bundle is not browser-safe:');
    for (const p of problems) console.error(`  ${p}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
