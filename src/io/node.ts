/**
 * File functions for Node: `save`, `load`, `loadWithMetadata`, `readHeader`.
 *
 * This module has no static Node import, so bundling needle-ts for a browser never pulls in
 * `node:fs`: the file system module is imported lazily inside each function, through a variable
 * specifier that bundlers leave alone. That makes these functions async. In a browser they reject
 * with a clear error; use `loadFromArrayBuffer` / `saveToBuffer` there.
 *
 * `load` reads the 8-byte prefix, then the header alone, validates it against the file size, and
 * only then reads the byte buffer, so a hostile file never causes an allocation larger than the
 * file itself.
 */
import type { Tensor } from '../autograd/tensor.js';
import {
  decodeTensors,
  parseHeaderBytes,
  readHeaderLength,
  serialize,
  type DeserializeOptions,
  type SafetensorsContents,
  type SafetensorsHeader,
  type SaveOptions,
  type TensorDict,
} from './safetensors.js';
import { typeError } from '../errors.js';

type FsPromises = typeof import('node:fs/promises');
type FileHandle = Awaited<ReturnType<FsPromises['open']>>;

let fsPromise: Promise<FsPromises> | null = null;

/** Imports node:fs/promises on first use (a variable specifier keeps bundlers from following it). */
async function nodeFs(fn: string): Promise<FsPromises> {
  const spec = 'node:fs/promises';
  fsPromise ??= import(/* webpackIgnore: true */ /* @vite-ignore */ spec) as Promise<FsPromises>;
  try {
    return await fsPromise;
  } catch {
    fsPromise = null;
    throw typeError(fn, 'a Node.js environment with node:fs (in browsers use saveToBuffer / loadFromArrayBuffer)', 'no node:fs');
  }
}

function checkPath(fn: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw typeError(fn, 'a file path string', typeof path === 'string' ? '""' : typeof path);
  return path;
}

/** Reads exactly `length` bytes at `position` (a short read means the file changed under us). */
async function readExactly(fn: string, fh: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new RangeError(`${fn}: ${length} bytes at offset ${position}, got end of file after ${done} (file truncated while reading)`);
    done += bytesRead;
  }
  return buf;
}

async function withFile<T>(fn: string, path: string, body: (fh: FileHandle, size: number) => Promise<T>): Promise<T> {
  const fs = await nodeFs(fn);
  const fh = await fs.open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw typeError(fn, 'a regular file', `${JSON.stringify(path)} is not one`);
    return await body(fh, st.size);
  } finally {
    await fh.close();
  }
}

async function headerOf(fn: string, fh: FileHandle, size: number): Promise<SafetensorsHeader> {
  const prefix = await readExactly(fn, fh, Math.min(8, size), 0);
  const n = readHeaderLength(fn, prefix, size);
  const headerBytes = await readExactly(fn, fh, n, 8);
  return parseHeaderBytes(fn, headerBytes, size - 8 - n);
}

/** Reads and validates only the header of a safetensors file (names, dtypes, shapes, metadata). */
export async function readHeader(path: string): Promise<SafetensorsHeader> {
  const p = checkPath('readHeader', path);
  return withFile('readHeader', p, (fh, size) => headerOf('readHeader', fh, size));
}

/** Loads tensors and metadata, naming `fn` in errors (shared with the checkpoint loader). */
export async function loadContents(fn: string, path: unknown, opts: DeserializeOptions = {}): Promise<SafetensorsContents> {
  const p = checkPath(fn, path);
  return withFile(fn, p, async (fh, size) => {
    const header = await headerOf(fn, fh, size);
    const data = await readExactly(fn, fh, header.dataLength, 8 + header.headerLength);
    return { tensors: decodeTensors(fn, header, data, opts), metadata: header.metadata };
  });
}

/**
 * Loads a safetensors file (Node). See `deserialize` for dtype conversions and validation.
 *
 * @example
 * model.loadStateDict(await nd.load('model.safetensors'));
 */
export async function load(path: string, opts: DeserializeOptions = {}): Promise<Record<string, Tensor>> {
  return (await loadContents('load', path, opts)).tensors;
}

/** Loads a safetensors file's tensors and its `__metadata__` (Node). */
export async function loadWithMetadata(path: string, opts: DeserializeOptions = {}): Promise<SafetensorsContents> {
  return loadContents('loadWithMetadata', path, opts);
}

/**
 * Writes bytes to `path` atomically: to a temporary file next to it, then renamed over it, so an
 * interrupted save never leaves a truncated file behind.
 */
export async function writeFileAtomic(fn: string, path: string, bytes: Uint8Array): Promise<void> {
  const fs = await nodeFs(fn);
  const tmp = `${path}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Saves a state dict (or any named tensors) as a safetensors file (Node).
 *
 * @example
 * await nd.save(model.stateDict(), 'model.safetensors', { metadata: { epoch: '3' } });
 */
export async function save(stateDict: TensorDict, path: string, opts: SaveOptions = {}): Promise<void> {
  const p = checkPath('save', path);
  const bytes = serialize(stateDict, opts.metadata, 'save');
  await writeFileAtomic('save', p, bytes);
}
