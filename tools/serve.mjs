#!/usr/bin/env node
// A local static server for the browser demo and tests, on 127.0.0.1 only, that makes its pages
// cross-origin isolated: every response carries
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//   Cross-Origin-Resource-Policy: same-origin
// so SharedArrayBuffer works and needle-ts runs its wasm kernels on Web Workers.
//
//   npm run serve [-- --port N --root DIR --mount /PREFIX/=DIR]
//
// Defaults: port 8080, root web/, and dist/browser/ (the library bundle, `npm run build:browser`)
// mounted at /lib/, so a page can `import * as nd from '/lib/needle.js'`.
// For tests: `const { url, close } = await startServer({ root, port: 0 })`.
import { createServer } from 'node:http';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Content types by file extension (anything else is application/octet-stream). */
export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.gz': 'application/gzip',
};

/** The headers that make a page cross-origin isolated (sent with every response). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function realDir(dir) {
  let p;
  try {
    p = realpathSync(resolve(dir));
  } catch {
    throw new Error(`serve: no directory ${dir}`);
  }
  if (!statSync(p).isDirectory()) throw new Error(`serve: ${dir} is not a directory`);
  return p;
}

/** Whether `p` is `dir` or inside it. */
function inside(dir, p) {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * Maps a request path to a file inside one of the served directories, or returns null (a 404).
 * Rejects encoded separators, NUL bytes and `..` segments, and anything whose real path (symbolic
 * links resolved) lies outside the directory it was found in.
 */
function locate(dirs, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { status: 403 };
  // the longest mount prefix first, the root ('/') last
  for (const [prefix, dir] of dirs) {
    if (!decoded.startsWith(prefix)) continue;
    const rest = decoded.slice(prefix.length);
    let file = resolve(dir, '.' + sep + rest);
    if (!inside(dir, file)) return { status: 403 };
    let st;
    try {
      file = realpathSync(file);
      if (!inside(dir, file)) return { status: 403 };
      st = statSync(file);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (!decoded.endsWith('/')) return { status: 301, location: pathname + '/' };
      const index = join(file, 'index.html');
      try {
        const ist = statSync(index);
        if (ist.isFile()) return { status: 200, file: index, size: ist.size };
      } catch {
        /* no index */
      }
      return { status: 404 };
    }
    if (st.isFile()) return { status: 200, file, size: st.size };
  }
  return { status: 404 };
}

/**
 * Starts the server on 127.0.0.1. `root` is served at /, each `mounts` entry ('/prefix/' -> dir)
 * at its prefix. `port` 0 picks a free port. Resolves to { url, port, close() } once listening.
 */
export function startServer({ root = join(ROOT, 'web'), port = 8080, mounts = {}, log = null } = {}) {
  const dirs = [];
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/') || prefix === '/') throw new Error(`serve: a mount prefix is '/name/', got ${JSON.stringify(prefix)}`);
    dirs.push([prefix, realDir(dir)]);
  }
  dirs.sort((a, b) => b[0].length - a[0].length);
  dirs.push(['/', realDir(root)]);

  const server = createServer((req, res) => {
    const send = (status, headers = {}, body = '') => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      log?.(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'method not allowed\n');
    let pathname;
    try {
      pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    } catch {
      return send(400, { 'Content-Type': 'text/plain; charset=utf-8' }, 'bad request\n');
    }
    // new URL() resolves dot segments; a raw '..' in the request line is refused outright
    if ((req.url ?? '').split('?')[0].split('/').some((s) => s === '..' || s.toLowerCase() === '%2e%2e')) {
      return send(403, { 'Content-Type': 'text/plain; charset=utf-8' }, 'forbidden\n');
    }
    const found = locate(dirs, pathname);
    if (found.status === 301) return send(301, { Location: found.location });
    if (found.status !== 200) {
      const text = { 400: 'bad request', 403: 'forbidden', 404: 'not found' }[found.status] ?? 'error';
      return send(found.status, { 'Content-Type': 'text/plain; charset=utf-8' }, `${text}\n`);
    }
    const type = MIME_TYPES[extname(found.file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { ...ISOLATION_HEADERS, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Content-Type': type, 'Content-Length': found.size });
    log?.(`200 ${req.method} ${req.url}`);
    if (req.method === 'HEAD') return res.end();
    const stream = createReadStream(found.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const actual = server.address().port;
      resolvePromise({
        url: `http://127.0.0.1:${actual}/`,
        port: actual,
        server,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const opts = { port: 8080, root: join(ROOT, 'web'), mounts: {}, quiet: false };
  const defaultLib = join(ROOT, 'dist', 'browser');
  let mountsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [key, inline] = a.startsWith('--') && a.includes('=') && !a.startsWith('--mount') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (key === '--port' || key === '-p') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`serve: --port takes a port number, got ${argv[i]}`);
      opts.port = v;
    } else if (key === '--root') opts.root = resolve(value() ?? '');
    else if (key === '--mount' || key.startsWith('--mount=')) {
      const spec = key.startsWith('--mount=') ? key.slice(8) : argv[++i];
      const eq = spec?.indexOf('=') ?? -1;
      if (!spec || eq <= 0) throw new Error('serve: --mount takes /prefix/=DIR');
      opts.mounts[spec.slice(0, eq)] = resolve(spec.slice(eq + 1));
      mountsGiven = true;
    } else if (key === '--quiet' || key === '-q') opts.quiet = true;
    else if (key === '--help' || key === '-h') opts.help = true;
    else throw new Error(`serve: unknown argument ${a}`);
  }
  if (!mountsGiven) {
    try {
      if (statSync(defaultLib).isDirectory()) opts.mounts['/lib/'] = defaultLib;
    } catch {
      /* no bundle built yet */
    }
  }
  return opts;
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  if (opts.help) {
    console.log('usage: npm run serve [-- --port N (8080) --root DIR (web/) --mount /PREFIX/=DIR (/lib/=dist/browser) --quiet]');
    return 0;
  }
  let s;
  try {
    s = await startServer({ root: opts.root, port: opts.port, mounts: opts.mounts, log: opts.quiet ? null : (line) => console.log(line) });
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `serve: port ${opts.port} is in use (try --port N, or --port 0 for a free one)` : e.message.startsWith("serve:") ? e.message : `serve: ${e.message}`);
    return 1;
  }
  console.log(`needle-ts: serving ${opts.root} at ${s.url} (cross-origin isolated: COOP same-origin, COEP require-corp)`);
  for (const [prefix, dir] of Object.entries(opts.mounts)) console.log(`  ${prefix} -> ${dir}`);
  console.log('Ctrl-C to stop');
  const stop = () => s.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}
