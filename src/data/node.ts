/**
 * Node-only helpers for the data package: lazy imports of `node:*` modules.
 *
 * Nothing here imports Node statically. Each module is imported on first use inside an async
 * function, through a variable specifier that bundlers leave alone (as `src/io/node.ts` does), so
 * a browser bundle of needle-ts never pulls in `node:fs` or `node:zlib`; there the functions that
 * need them reject with a clear error.
 */
import { typeError } from '../errors.js';

/** The Node modules the data package uses. */
export interface NodeModules {
  fs: typeof import('node:fs/promises');
  path: typeof import('node:path');
  os: typeof import('node:os');
  zlib: typeof import('node:zlib');
  crypto: typeof import('node:crypto');
  module: typeof import('node:module');
}

let cached: Promise<NodeModules> | null = null;

async function importAll(): Promise<NodeModules> {
  const load = (name: string): Promise<unknown> => import(/* webpackIgnore: true */ /* @vite-ignore */ name);
  const [fs, path, os, zlib, crypto, module] = await Promise.all([
    load('node:fs/promises'),
    load('node:path'),
    load('node:os'),
    load('node:zlib'),
    load('node:crypto'),
    load('node:module'),
  ]);
  return {
    fs: fs as NodeModules['fs'],
    path: path as NodeModules['path'],
    os: os as NodeModules['os'],
    zlib: zlib as NodeModules['zlib'],
    crypto: crypto as NodeModules['crypto'],
    module: module as NodeModules['module'],
  };
}

/** The Node modules, imported once; `fn` names the caller in the error outside Node. */
export async function nodeModules(fn: string): Promise<NodeModules> {
  cached ??= importAll();
  try {
    return await cached;
  } catch {
    cached = null;
    throw typeError(fn, 'a Node.js environment (node:fs, node:zlib); in browsers pass the file bytes instead of a path', 'no Node.js modules');
  }
}

/** The environment variable `name` (undefined outside Node). */
export function envVar(name: string): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.[name];
}

/** The current working directory (undefined outside Node). */
export function cwd(): string | undefined {
  const g = globalThis as { process?: { cwd?: () => string } };
  return g.process?.cwd?.();
}
