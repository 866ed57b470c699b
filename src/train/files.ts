/**
 * File output of the trainer (Node): directories, text files and the JSONL log.
 *
 * Like src/io/node.ts, this module has no static Node import: `node:fs/promises` is imported on
 * first use through a variable specifier that bundlers leave alone, so `nd.train` bundles for a
 * browser; there, passing `outDir` to fit rejects with a clear error.
 */
import { typeError } from '../errors.js';
import { writeFileAtomic } from '../io/node.js';

type FsPromises = typeof import('node:fs/promises');

let fsPromise: Promise<FsPromises> | null = null;

async function nodeFs(fn: string): Promise<FsPromises> {
  const spec = 'node:fs/promises';
  fsPromise ??= import(/* webpackIgnore: true */ /* @vite-ignore */ spec) as Promise<FsPromises>;
  try {
    return await fsPromise;
  } catch {
    fsPromise = null;
    throw typeError(fn, 'a Node.js environment with node:fs for outDir (omit outDir in browsers)', 'no node:fs');
  }
}

/** Joins path segments with '/' (accepted by Node on every platform). */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join('/');
}

/** Creates a directory and its parents. */
export async function ensureDir(fn: string, dir: string): Promise<void> {
  const fs = await nodeFs(fn);
  await fs.mkdir(dir, { recursive: true });
}

/** Writes a text file atomically (temporary file + rename). */
export async function writeText(fn: string, path: string, text: string): Promise<void> {
  await nodeFs(fn);
  await writeFileAtomic(fn, path, new TextEncoder().encode(text));
}

/** Appends text to a file (created when missing). */
export async function appendText(fn: string, path: string, text: string): Promise<void> {
  const fs = await nodeFs(fn);
  await fs.appendFile(path, text, 'utf8');
}

/** Whether a file exists. */
export async function fileExists(fn: string, path: string): Promise<boolean> {
  const fs = await nodeFs(fn);
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/** Copies a file (used for best / per-epoch checkpoint copies). */
export async function copyFile(fn: string, from: string, to: string): Promise<void> {
  const fs = await nodeFs(fn);
  await fs.copyFile(from, to);
}

/** One JSON line per record; NaN and infinities become null (JSON has no such numbers). */
export function toJsonl(records: readonly object[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
