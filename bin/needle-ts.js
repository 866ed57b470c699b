#!/usr/bin/env node
// The needle-ts command line: train / eval / sample / info. It runs the CLI compiled into dist/
// (by `npm run build`; `npm start` builds first). Source: src/cli/.
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
let cli;
try {
  cli = await import(entry.href);
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(fileURLToPath(entry))) {
    process.stderr.write('needle-ts: the compiled library in dist/, got none; run `npm run build` first\n');
    process.exit(1);
  }
  throw e;
}
await cli.run(process.argv.slice(2));
