/**
 * The safetensors format, browser-safe (no Node imports): an 8-byte little-endian u64 header
 * length N, N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__"?: {string: string}}`, then the byte buffer. Offsets are relative to the buffer;
 * tensors are row-major, little-endian and together cover the buffer exactly.
 *
 * Writing follows the reference writer: tensors sorted by element size (largest first) then by
 * name, so every tensor is aligned to its element size, and the header padded with spaces so the
 * buffer starts at a multiple of 8 bytes.
 *
 * Reading validates everything before allocating anything proportional to what the file
 * *declares*: header length (capped at {@link MAX_HEADER_SIZE}), JSON syntax and UTF-8, duplicate
 * keys, entry types, dtypes, shapes, offsets, and that the offsets cover the buffer contiguously
 * without overlap or holes. Only then are tensors decoded, and their size is bounded by the bytes
 * actually present.
 */
import { Tensor } from '../autograd/tensor.js';
import { NDArray } from '../ndarray/ndarray.js';
import type { AnyTypedArray, DType } from '../ndarray/dtype.js';
import { fmtShape, rangeError, typeError } from '../errors.js';

/** The largest header accepted (100 MB, as the reference implementation). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Dtype names of the safetensors format that needle-ts reads. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

interface ReadSpec {
  /** Bytes per element in the file. */
  size: number;
  /** The needle-ts dtype it becomes. */
  to: DType;
}

const READ: { [K in SafetensorsDType]: ReadSpec } = {
  F64: { size: 8, to: 'float64' },
  F32: { size: 4, to: 'float32' },
  F16: { size: 2, to: 'float32' },
  BF16: { size: 2, to: 'float32' },
  I64: { size: 8, to: 'int32' },
  I32: { size: 4, to: 'int32' },
  I16: { size: 2, to: 'int32' },
  I8: { size: 1, to: 'int32' },
  U64: { size: 8, to: 'int32' },
  U32: { size: 4, to: 'int32' },
  U16: { size: 2, to: 'int32' },
  U8: { size: 1, to: 'int32' },
  BOOL: { size: 1, to: 'bool' },
};

/** Format dtypes that exist but that needle-ts cannot represent. */
const UNSUPPORTED = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64', 'C128']);

const WRITE: { [K in DType]: { name: SafetensorsDType; size: number } } = {
  float64: { name: 'F64', size: 8 },
  float32: { name: 'F32', size: 4 },
  int32: { name: 'I32', size: 4 },
  bool: { name: 'BOOL', size: 1 },
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One tensor's entry in a validated header. */
export interface TensorInfo {
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the byte buffer. */
  dataOffsets: [number, number];
}

/** A validated header. */
export interface SafetensorsHeader {
  /** Entries in file order of their data (by offset). */
  tensors: Record<string, TensorInfo>;
  /** The `__metadata__` map, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** N, the header's length in bytes (the buffer starts at 8 + N). */
  headerLength: number;
  /** Length of the byte buffer. */
  dataLength: number;
}

/** Options of the readers. */
export interface DeserializeOptions {
  /** Device of the created tensors (default: the default device). */
  device?: string;
}

/** A dictionary of named tensors: a plain object or a Map. */
export type TensorDict = Record<string, Tensor> | Map<string, Tensor>;

/** Defines `key` as an own enumerable property (safe for names such as `__proto__`). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${short(JSON.stringify(v))})`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return short(JSON.stringify(v));
  return String(v);
}

function short(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

function q(name: string): string {
  return short(JSON.stringify(name));
}

function asBytes(fn: string, bytes: unknown): Uint8Array {
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  // a plain Uint8Array view also for subclasses (Node's Buffer.slice does not copy)
  if (bytes instanceof Uint8Array || ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw typeError(fn, 'an ArrayBuffer or Uint8Array', bytes === null ? 'null' : typeof bytes);
}

// ------------------------------------------------------------------------------------ reading

/**
 * Validates the 8-byte prefix against the total size and returns the header length N. Rejects
 * a file shorter than 8 bytes, N beyond {@link MAX_HEADER_SIZE} and N beyond the file, before
 * anything of size N is allocated.
 */
export function readHeaderLength(fn: string, prefix: Uint8Array, totalSize: number): number {
  if (totalSize < 8 || prefix.length < 8) {
    throw rangeError(fn, 'a safetensors file of at least 8 bytes (the header length)', `${totalSize} bytes`);
  }
  const dv = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_SIZE) {
    const n = (BigInt(hi) << 32n) | BigInt(lo);
    throw rangeError(fn, `a header length of at most ${MAX_HEADER_SIZE} bytes`, `${n} bytes declared`);
  }
  if (8 + lo > totalSize) {
    throw rangeError(fn, `a header length within the file of ${totalSize} bytes (at most ${totalSize - 8})`, `${lo} bytes declared`);
  }
  return lo;
}

/** Returns the first key that repeats within one object of valid JSON `text`, with its depth. */
function findDuplicateKey(text: string): { key: string; depth: number } | null {
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22 || j >= n) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top && top.keys && top.expectKey) {
        const raw = text.slice(i, j + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return { key, depth: stack.length };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b) stack.push({ keys: new Set(), expectKey: true }); // {
    else if (c === 0x5b) stack.push({ keys: null, expectKey: false }); // [
    else if (c === 0x7d || c === 0x5d) stack.pop(); // } ]
    else if (c === 0x2c) { // ,
      const top = stack[stack.length - 1];
      if (top && top.keys) top.expectKey = true;
    }
    i++;
  }
  return null;
}

/** Deepest nesting of objects/arrays in `text` (strings skipped), stopping once past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Deepest nesting accepted in a header (a valid one needs 3: header, entry, shape). */
const MAX_HEADER_DEPTH = 64;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkDims(fn: string, name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw typeError(fn, `tensor ${q(name)} shape to be an array of integers`, describe(shape));
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw rangeError(fn, `tensor ${q(name)} shape of non-negative integers`, describe(shape));
    }
  }
  return shape as number[];
}

/** Number of elements of `shape`, or Infinity once it exceeds `limit` (no overflow). */
function boundedSize(shape: readonly number[], limit: number): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > limit) return Infinity;
  }
  return n;
}

/**
 * Parses and validates header bytes for a byte buffer of `dataLength` bytes (the file size minus
 * 8 + N). Throws on the first problem; allocates only what the header text itself needs.
 */
export function parseHeaderBytes(fn: string, headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw typeError(fn, 'a UTF-8 JSON header', 'invalid UTF-8');
  }
  if (text[0] !== '{') throw typeError(fn, "a JSON header that starts with '{'", q(text.slice(0, 20)));
  if (nestingDepth(text, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH) {
    throw rangeError(fn, `a JSON header nested at most ${MAX_HEADER_DEPTH} levels deep`, `more than ${MAX_HEADER_DEPTH}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw typeError(fn, 'a valid JSON header', `invalid JSON (${short((e as Error).message, 160)})`);
  }
  if (!isPlainObject(parsed)) throw typeError(fn, 'a JSON object as header', describe(parsed));
  const dup = findDuplicateKey(text);
  if (dup) {
    throw typeError(fn, dup.depth === 1 ? 'unique tensor names in the header' : 'unique keys in each header object', `${q(dup.key)} twice`);
  }

  let metadata: Record<string, string> | null = null;
  const entries: { name: string; info: TensorInfo }[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (entry === null) continue;
      if (!isPlainObject(entry)) throw typeError(fn, '__metadata__ to be an object of strings', describe(entry));
      metadata = {};
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw typeError(fn, '__metadata__ values to be strings', `${q(k)}: ${describe(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (!isPlainObject(entry)) throw typeError(fn, `tensor ${q(name)} entry to be an object {dtype, shape, data_offsets}`, describe(entry));
    const dtype = entry['dtype'];
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(READ, dtype)) {
      const known = typeof dtype === 'string' && UNSUPPORTED.has(dtype) ? ' (a safetensors dtype needle-ts cannot represent)' : '';
      throw typeError(fn, `tensor ${q(name)} dtype to be one of ${Object.keys(READ).join(', ')}`, describe(dtype) + known);
    }
    const shape = checkDims(fn, name, entry['shape']);
    const offs = entry['data_offsets'];
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      throw rangeError(fn, `tensor ${q(name)} data_offsets to be [begin, end] with non-negative integers`, describe(offs));
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLength) {
      throw rangeError(fn, `tensor ${q(name)} data_offsets with begin <= end <= ${dataLength} (the byte buffer's length)`, fmtShape(offs));
    }
    const spec = READ[dtype as SafetensorsDType];
    const count = boundedSize(shape, dataLength);
    if (count * spec.size !== end - begin) {
      const need = Number.isFinite(count) ? `${count * spec.size} bytes` : `more than ${dataLength} bytes`;
      throw rangeError(fn, `tensor ${q(name)} data_offsets spanning ${need} for shape ${fmtShape(shape)} and dtype ${dtype}`, `${end - begin} bytes ${fmtShape(offs)}`);
    }
    entries.push({ name, info: { dtype: dtype as SafetensorsDType, shape: shape.slice(), dataOffsets: [begin, end] } });
  }

  // The tensors must tile the buffer: sorted by offset, each starts where the previous ended.
  entries.sort((a, b) => a.info.dataOffsets[0] - b.info.dataOffsets[0] || a.info.dataOffsets[1] - b.info.dataOffsets[1]);
  let pos = 0;
  for (const { name, info } of entries) {
    const [begin, end] = info.dataOffsets;
    if (begin !== pos) {
      const what = begin < pos ? 'overlapping the previous tensor' : `leaving a hole of ${begin - pos} bytes`;
      throw rangeError(fn, `tensor ${q(name)} data to start at byte ${pos} (tensors must cover the buffer without overlap or holes)`, `${fmtShape(info.dataOffsets)}, ${what}`);
    }
    pos = end;
  }
  if (pos !== dataLength) {
    throw rangeError(fn, `tensors covering the whole byte buffer of ${dataLength} bytes`, `tensors ending at byte ${pos}`);
  }
  const tensors: Record<string, TensorInfo> = {};
  for (const { name, info } of entries) setOwn(tensors, name, info);
  return { tensors, metadata, headerLength: headerBytes.length, dataLength };
}

/** Validates and returns the header of a complete safetensors file in memory (decodes no tensor). */
export function parseHeader(bytes: ArrayBuffer | Uint8Array, fn = 'parseHeader'): SafetensorsHeader {
  const b = asBytes(fn, bytes);
  const n = readHeaderLength(fn, b, b.length);
  return parseHeaderBytes(fn, b.subarray(8, 8 + n), b.length - 8 - n);
}

/** Decodes one tensor's bytes (exactly info's span) to a typed array of its needle-ts dtype. */
function decodeData(fn: string, name: string, info: TensorInfo, raw: Uint8Array): AnyTypedArray {
  const spec = READ[info.dtype];
  const n = raw.length / spec.size;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const native = LITTLE_ENDIAN_HOST;
  switch (info.dtype) {
    case 'F32':
      if (native) return new Float32Array(copyBytes(raw));
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    case 'F64':
      if (native) return new Float64Array(copyBytes(raw));
      return Float64Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case 'I32':
      if (native) return new Int32Array(copyBytes(raw));
      return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = raw[i] !== 0 ? 1 : 0;
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I16':
      return Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true));
    case 'U16':
      return Int32Array.from({ length: n }, (_, i) => dv.getUint16(2 * i, true));
    case 'I8':
      return Int32Array.from({ length: n }, (_, i) => dv.getInt8(i));
    case 'U8':
      return Int32Array.from(raw);
    case 'U32':
    case 'I64':
    case 'U64': {
      const out = new Int32Array(n);
      const step = spec.size;
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(step * i, true);
        const hi = step === 8 ? dv.getUint32(step * i + 4, true) : 0;
        const ok = info.dtype === 'I64' ? hi === (lo & 0x80000000 ? 0xffffffff : 0) : hi === 0 && lo <= 0x7fffffff;
        if (!ok) {
          const v = info.dtype === 'I64' ? dv.getBigInt64(step * i, true) : info.dtype === 'U64' ? dv.getBigUint64(step * i, true) : BigInt(lo);
          throw rangeError(fn, `tensor ${q(name)} (${info.dtype}) values within the int32 range [-2147483648, 2147483647]`, `${v} at flat index ${i}`);
        }
        out[i] = lo | 0;
      }
      return out;
    }
  }
}

/** A copy of `raw` in a fresh (hence aligned) ArrayBuffer. */
function copyBytes(raw: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(raw.length);
  out.set(raw);
  return out.buffer;
}

/** IEEE binary16 bits to the (exactly representable) float32 value. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Builds tensors from a validated header and the byte buffer it describes (`data` is the
 * buffer, of exactly `header.dataLength` bytes).
 */
export function decodeTensors(fn: string, header: SafetensorsHeader, data: Uint8Array, opts: DeserializeOptions = {}): Record<string, Tensor> {
  if (data.length !== header.dataLength) {
    throw rangeError(fn, `a byte buffer of ${header.dataLength} bytes`, `${data.length} bytes`);
  }
  const out: Record<string, Tensor> = {};
  for (const [name, info] of Object.entries(header.tensors)) {
    const [begin, end] = info.dataOffsets;
    const values = decodeData(fn, name, info, data.subarray(begin, end));
    setOwn(out, name, new Tensor(NDArray.fromData(values, info.shape, READ[info.dtype].to, opts.device)));
  }
  return out;
}

/** A safetensors file in memory: its tensors and its `__metadata__` (null when absent). */
export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string> | null;
}

/** Reads a safetensors file in memory: tensors and metadata. See {@link deserialize}. */
export function deserializeWithMetadata(bytes: ArrayBuffer | Uint8Array, opts: DeserializeOptions = {}, fn = 'deserialize'): SafetensorsContents {
  const b = asBytes(fn, bytes);
  const n = readHeaderLength(fn, b, b.length);
  const header = parseHeaderBytes(fn, b.subarray(8, 8 + n), b.length - 8 - n);
  return { tensors: decodeTensors(fn, header, b.subarray(8 + n), opts), metadata: header.metadata };
}

/**
 * Reads a safetensors file in memory into tensors. F32/F64/I32/BOOL keep their dtype; F16 and
 * BF16 become float32 (exactly); I64, U64, U32 become int32 (a RangeError names any value out
 * of range); I16, U16, I8, U8 become int32. Hostile or malformed input throws a RangeError or
 * TypeError (`deserialize: <expected>, got <actual>`) before any large allocation.
 *
 * @example
 * const dict = nd.deserialize(await (await fetch('model.safetensors')).arrayBuffer());
 * model.loadStateDict(dict);
 */
export function deserialize(bytes: ArrayBuffer | Uint8Array, opts: DeserializeOptions = {}): Record<string, Tensor> {
  return deserializeWithMetadata(bytes, opts, 'deserialize').tensors;
}

/** Browser-friendly alias of {@link deserialize} (e.g. from `await blob.arrayBuffer()`). */
export function loadFromArrayBuffer(buffer: ArrayBuffer | Uint8Array, opts: DeserializeOptions = {}): Record<string, Tensor> {
  return deserializeWithMetadata(buffer, opts, 'loadFromArrayBuffer').tensors;
}

// ------------------------------------------------------------------------------------ writing

function entriesOf(fn: string, dict: unknown): [string, Tensor][] {
  let list: [unknown, unknown][];
  if (dict instanceof Map) list = [...dict.entries()];
  else if (isPlainObject(dict) && !(dict instanceof Tensor)) list = Object.entries(dict);
  else throw typeError(fn, 'a state dict (an object or Map of tensors)', describe(dict));
  const seen = new Set<string>();
  for (const [k, v] of list) {
    if (typeof k !== 'string') throw typeError(fn, 'string tensor names', describe(k));
    if (k === '__metadata__') throw rangeError(fn, 'a tensor name other than "__metadata__" (reserved)', '"__metadata__"');
    if (seen.has(k)) throw rangeError(fn, 'unique tensor names', `${q(k)} twice`);
    seen.add(k);
    if (!(v instanceof Tensor)) throw typeError(fn, `a Tensor for key ${q(k)}`, describe(v));
  }
  return list as [string, Tensor][];
}

function checkMetadata(fn: string, metadata: unknown): [string, string][] | null {
  if (metadata === undefined || metadata === null) return null;
  if (!isPlainObject(metadata)) throw typeError(fn, 'metadata to be an object of strings', describe(metadata));
  const list = Object.entries(metadata);
  for (const [k, v] of list) {
    if (typeof v !== 'string') throw typeError(fn, 'metadata values to be strings', `${q(k)}: ${describe(v)}`);
  }
  return list as [string, string][];
}

/** Little-endian bytes of a compact typed array. */
function leBytes(values: AnyTypedArray, dtype: DType): Uint8Array {
  if (dtype === 'bool') {
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
    return out;
  }
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const size = WRITE[dtype].size;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'float64') dv.setFloat64(8 * i, values[i]!, true);
    else if (dtype === 'float32') dv.setFloat32(4 * i, values[i]!, true);
    else dv.setInt32(4 * i, values[i]!, true);
  }
  return out;
}

/**
 * Writes named tensors (and optional string metadata) as a safetensors file in memory. float32,
 * float64, int32 and bool are written as F32, F64, I32 and BOOL; views are written compact.
 *
 * @example
 * const bytes = nd.serialize(model.stateDict(), { format: 'pt' });
 */
export function serialize(dict: TensorDict, metadata?: Record<string, string> | null, fn = 'serialize'): Uint8Array {
  const list = entriesOf(fn, dict);
  const meta = checkMetadata(fn, metadata);
  // Reference order: larger element size first, then by name; keeps every tensor aligned.
  const order = list
    .map(([name, t]) => ({ name, t, spec: WRITE[t.dtype] }))
    .sort((a, b) => b.spec.size - a.spec.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: string[] = [];
  if (meta) parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  const chunks: Uint8Array[] = [];
  let pos = 0;
  for (const { name, t, spec } of order) {
    const bytes = leBytes(t.dataSync(), t.dtype);
    chunks.push(bytes);
    parts.push(`${JSON.stringify(name)}:{"dtype":"${spec.name}","shape":${JSON.stringify(t.shape)},"data_offsets":[${pos},${pos + bytes.length}]}`);
    pos += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  if (headerLength > MAX_HEADER_SIZE) {
    throw rangeError(fn, `a header of at most ${MAX_HEADER_SIZE} bytes`, `${headerLength} bytes`);
  }
  const out = new Uint8Array(8 + headerLength + pos);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLength, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Options of {@link saveToBuffer} and `save`. */
export interface SaveOptions {
  /** String key/value pairs stored as `__metadata__`. */
  metadata?: Record<string, string>;
}

/** Browser-friendly form of {@link serialize} with the options of `save` (wrap in a Blob to download). */
export function saveToBuffer(stateDict: TensorDict, opts: SaveOptions = {}): Uint8Array {
  return serialize(stateDict, opts.metadata, 'saveToBuffer');
}
