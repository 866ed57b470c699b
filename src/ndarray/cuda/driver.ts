/**
 * The CUDA driver API through koffi, and the checked wrapper the backend uses.
 *
 * {@link DriverApi} is the raw C surface (every function returns a CUresult); {@link bindDriver}
 * makes one from libcuda with koffi, and tests inject a fake one. {@link Driver} checks every
 * status and turns a failure into a {@link CudaError} that names the call and the error
 * (`cuda: cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2): out of memory`).
 *
 * Conventions of the bindings (checked against koffi 3 with a C test library): out-parameters are
 * typed arrays passed as `void *` (koffi hands C their data pointer); handles (contexts, modules,
 * functions, streams, events, host pointers) are BigInts; device pointers (CUdeviceptr) are plain
 * numbers passed as uint64_t (device addresses are below 2^53).
 */
import { DeviceError } from '../../errors.js';

/** The koffi surface used by the CUDA bindings (typed locally: koffi is an optional dependency). */
export interface KoffiLike {
  load(path: string): { func(declaration: string): (...args: unknown[]) => unknown };
  alloc(type: string, length: number): bigint;
  view(ptr: bigint, length: number): ArrayBuffer;
  free(ptr: bigint): void;
}

type Out64 = BigUint64Array;
type Out32 = Int32Array;
type Handle = bigint | null;

/** The raw driver functions (CUresult = number). */
export interface DriverApi {
  cuInit(flags: number): number;
  cuDriverGetVersion(out: Out32): number;
  cuDeviceGetCount(out: Out32): number;
  cuDeviceGet(out: Out32, ordinal: number): number;
  cuDeviceGetName(buf: Uint8Array, len: number, dev: number): number;
  cuDeviceGetAttribute(out: Out32, attrib: number, dev: number): number;
  cuDeviceTotalMem_v2(out: Out64, dev: number): number;
  cuDevicePrimaryCtxRetain(out: Out64, dev: number): number;
  cuCtxSetCurrent(ctx: Handle): number;
  cuCtxSynchronize(): number;
  cuMemAlloc_v2(out: Out64, bytes: number): number;
  cuMemFree_v2(dptr: number): number;
  cuMemGetInfo_v2(free: Out64, total: Out64): number;
  cuMemAllocHost_v2(out: Out64, bytes: number): number;
  cuMemFreeHost(p: Handle): number;
  cuMemcpyHtoD_v2(dst: number, src: ArrayBufferView, bytes: number): number;
  cuMemcpyDtoH_v2(dst: ArrayBufferView, src: number, bytes: number): number;
  cuMemcpyDtoHAsync_v2(dst: Handle, src: number, bytes: number, stream: Handle): number;
  cuMemcpyDtoDAsync_v2(dst: number, src: number, bytes: number, stream: Handle): number;
  cuModuleLoadData(out: Out64, image: Uint8Array): number;
  cuModuleGetFunction(out: Out64, mod: Handle, name: string): number;
  cuLaunchKernel(
    f: Handle, gx: number, gy: number, gz: number, bx: number, by: number, bz: number,
    sharedBytes: number, stream: Handle, params: Handle, extra: Handle,
  ): number;
  cuStreamSynchronize(stream: Handle): number;
  cuEventCreate(out: Out64, flags: number): number;
  cuEventRecord(ev: Handle, stream: Handle): number;
  cuEventQuery(ev: Handle): number;
  cuEventDestroy_v2(ev: Handle): number;
  /** Optional: the name of a CUresult (absent in fakes: a built-in table names the common ones). */
  cuGetErrorName?(code: number, out: (string | null)[]): number;
  cuGetErrorString?(code: number, out: (string | null)[]): number;
}

/** C declarations of {@link DriverApi}, in koffi's prototype syntax. */
export const DRIVER_DECLS: Record<keyof DriverApi, string> = {
  cuInit: 'int cuInit(uint32_t flags)',
  cuDriverGetVersion: 'int cuDriverGetVersion(void *out)',
  cuDeviceGetCount: 'int cuDeviceGetCount(void *out)',
  cuDeviceGet: 'int cuDeviceGet(void *out, int ordinal)',
  cuDeviceGetName: 'int cuDeviceGetName(void *buf, int len, int dev)',
  cuDeviceGetAttribute: 'int cuDeviceGetAttribute(void *out, int attrib, int dev)',
  cuDeviceTotalMem_v2: 'int cuDeviceTotalMem_v2(void *out, int dev)',
  cuDevicePrimaryCtxRetain: 'int cuDevicePrimaryCtxRetain(void *out, int dev)',
  cuCtxSetCurrent: 'int cuCtxSetCurrent(void *ctx)',
  cuCtxSynchronize: 'int cuCtxSynchronize(void)',
  cuMemAlloc_v2: 'int cuMemAlloc_v2(void *out, size_t bytes)',
  cuMemFree_v2: 'int cuMemFree_v2(uint64_t dptr)',
  cuMemGetInfo_v2: 'int cuMemGetInfo_v2(void *free, void *total)',
  cuMemAllocHost_v2: 'int cuMemAllocHost_v2(void *out, size_t bytes)',
  cuMemFreeHost: 'int cuMemFreeHost(void *p)',
  cuMemcpyHtoD_v2: 'int cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes)',
  cuMemcpyDtoH_v2: 'int cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t bytes)',
  cuMemcpyDtoHAsync_v2: 'int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t bytes, void *stream)',
  cuMemcpyDtoDAsync_v2: 'int cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t bytes, void *stream)',
  cuModuleLoadData: 'int cuModuleLoadData(void *out, const void *image)',
  cuModuleGetFunction: 'int cuModuleGetFunction(void *out, void *mod, const char *name)',
  cuLaunchKernel: 'int cuLaunchKernel(void *f, uint32_t gx, uint32_t gy, uint32_t gz, uint32_t bx, uint32_t by, uint32_t bz, uint32_t shared, void *stream, void *params, void *extra)',
  cuStreamSynchronize: 'int cuStreamSynchronize(void *stream)',
  cuEventCreate: 'int cuEventCreate(void *out, uint32_t flags)',
  cuEventRecord: 'int cuEventRecord(void *ev, void *stream)',
  cuEventQuery: 'int cuEventQuery(void *ev)',
  cuEventDestroy_v2: 'int cuEventDestroy_v2(void *ev)',
  cuGetErrorName: 'int cuGetErrorName(int code, _Out_ const char **name)',
  cuGetErrorString: 'int cuGetErrorString(int code, _Out_ const char **desc)',
};

const OPTIONAL = new Set<string>(['cuGetErrorName', 'cuGetErrorString']);

/** Binds libcuda at `path` (throws with the reason when it cannot be loaded or lacks a function). */
export function bindDriver(koffi: KoffiLike, path: string): DriverApi {
  const lib = koffi.load(path);
  const api: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(DRIVER_DECLS)) {
    try {
      api[name] = lib.func(decl);
    } catch (e) {
      if (!OPTIONAL.has(name)) throw new Error(`${path} has no ${name}: ${(e as Error).message}`);
    }
  }
  return api as unknown as DriverApi;
}

/** CUresult values the backend acts on. */
export const CUDA_SUCCESS = 0;
export const CUDA_ERROR_OUT_OF_MEMORY = 2;
export const CUDA_ERROR_NOT_READY = 600;

/** Names of common CUresults (used when the library cannot name one). */
const CU_NAMES: Record<number, string> = {
  0: 'CUDA_SUCCESS', 1: 'CUDA_ERROR_INVALID_VALUE', 2: 'CUDA_ERROR_OUT_OF_MEMORY', 3: 'CUDA_ERROR_NOT_INITIALIZED',
  4: 'CUDA_ERROR_DEINITIALIZED', 34: 'CUDA_ERROR_STUB_LIBRARY', 35: 'CUDA_ERROR_DEVICE_UNAVAILABLE', 100: 'CUDA_ERROR_NO_DEVICE',
  101: 'CUDA_ERROR_INVALID_DEVICE', 200: 'CUDA_ERROR_INVALID_IMAGE', 201: 'CUDA_ERROR_INVALID_CONTEXT',
  209: 'CUDA_ERROR_NO_BINARY_FOR_GPU', 218: 'CUDA_ERROR_INVALID_PTX', 222: 'CUDA_ERROR_UNSUPPORTED_PTX_VERSION',
  300: 'CUDA_ERROR_INVALID_SOURCE', 400: 'CUDA_ERROR_INVALID_HANDLE', 500: 'CUDA_ERROR_NOT_FOUND',
  600: 'CUDA_ERROR_NOT_READY', 700: 'CUDA_ERROR_ILLEGAL_ADDRESS', 701: 'CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES',
  702: 'CUDA_ERROR_LAUNCH_TIMEOUT', 715: 'CUDA_ERROR_ILLEGAL_INSTRUCTION', 716: 'CUDA_ERROR_MISALIGNED_ADDRESS',
  719: 'CUDA_ERROR_LAUNCH_FAILED', 803: 'CUDA_ERROR_SYSTEM_DRIVER_MISMATCH', 804: 'CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE',
  999: 'CUDA_ERROR_UNKNOWN',
};

/** Errors of asynchronous work that surface in whichever call comes next. */
const STICKY = new Set([700, 701, 702, 715, 716, 719]);

/**
 * A failed call of a CUDA library: `library: call failed with NAME (code): description`.
 * A DeviceError, so callers catching device problems catch these too.
 */
export class CudaError extends DeviceError {
  override name = 'CudaError';
  constructor(
    /** 'cuda' (driver), 'nvrtc' or 'cublas'. */
    readonly library: string,
    /** The C function that failed. */
    readonly call: string,
    readonly code: number,
    readonly codeName: string,
    detail = '',
  ) {
    super(`${library}: ${call} failed with ${codeName} (${code})${detail !== '' ? `: ${detail}` : ''}`);
  }
}

/** The checked driver the backend uses. */
export class Driver {
  /** One 8-byte and one 4-byte out-parameter, reused by every call (single-threaded). */
  private readonly o64 = new BigUint64Array(2);
  private readonly o32 = new Int32Array(1);

  constructor(readonly api: DriverApi) {}

  /** The name and description of a CUresult. */
  describe(code: number): { name: string; text: string } {
    let name = CU_NAMES[code] ?? `CUresult ${code}`;
    let text = '';
    try {
      const n: (string | null)[] = [null];
      if (this.api.cuGetErrorName && this.api.cuGetErrorName(code, n) === 0 && n[0]) name = n[0];
      const s: (string | null)[] = [null];
      if (this.api.cuGetErrorString && this.api.cuGetErrorString(code, s) === 0 && s[0]) text = s[0];
    } catch {
      // naming is best effort
    }
    return { name, text };
  }

  /** Throws a CudaError naming `call` unless `status` is CUDA_SUCCESS. */
  check(call: string, status: number): void {
    if (status === CUDA_SUCCESS) return;
    const { name, text } = this.describe(status);
    const hint = STICKY.has(status) ? ' (may come from an earlier asynchronous kernel; NEEDLE_CUDA_SYNC=1 reports errors at the launch that caused them)' : '';
    throw new CudaError('cuda', call, status, name, text + hint);
  }

  init(): void {
    this.check('cuInit', this.api.cuInit(0));
  }
  driverVersion(): number {
    this.check('cuDriverGetVersion', this.api.cuDriverGetVersion(this.o32));
    return this.o32[0]!;
  }
  deviceCount(): number {
    this.check('cuDeviceGetCount', this.api.cuDeviceGetCount(this.o32));
    return this.o32[0]!;
  }
  device(ordinal: number): number {
    this.check('cuDeviceGet', this.api.cuDeviceGet(this.o32, ordinal));
    return this.o32[0]!;
  }
  deviceName(dev: number): string {
    const buf = new Uint8Array(256);
    this.check('cuDeviceGetName', this.api.cuDeviceGetName(buf, buf.length, dev));
    const end = buf.indexOf(0);
    return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
  }
  attribute(dev: number, attrib: number): number {
    this.check('cuDeviceGetAttribute', this.api.cuDeviceGetAttribute(this.o32, attrib, dev));
    return this.o32[0]!;
  }
  totalMem(dev: number): number {
    this.check('cuDeviceTotalMem_v2', this.api.cuDeviceTotalMem_v2(this.o64, dev));
    return Number(this.o64[0]!);
  }
  /** Retains the device's primary context and makes it current on this thread. */
  primaryContext(dev: number): bigint {
    this.check('cuDevicePrimaryCtxRetain', this.api.cuDevicePrimaryCtxRetain(this.o64, dev));
    const ctx = this.o64[0]!;
    this.check('cuCtxSetCurrent', this.api.cuCtxSetCurrent(ctx));
    return ctx;
  }
  synchronize(): void {
    this.check('cuCtxSynchronize', this.api.cuCtxSynchronize());
  }
  /** A device allocation, or null when the device is out of memory (other failures throw). */
  memAlloc(bytes: number): number | null {
    const st = this.api.cuMemAlloc_v2(this.o64, bytes);
    if (st === CUDA_ERROR_OUT_OF_MEMORY) return null;
    this.check('cuMemAlloc_v2', st);
    return Number(this.o64[0]!);
  }
  memFree(dptr: number): void {
    this.check('cuMemFree_v2', this.api.cuMemFree_v2(dptr));
  }
  memInfo(): { free: number; total: number } {
    const t = new BigUint64Array(1);
    this.check('cuMemGetInfo_v2', this.api.cuMemGetInfo_v2(this.o64, t));
    return { free: Number(this.o64[0]!), total: Number(t[0]!) };
  }
  hostAlloc(bytes: number): bigint {
    this.check('cuMemAllocHost_v2', this.api.cuMemAllocHost_v2(this.o64, bytes));
    return this.o64[0]!;
  }
  hostFree(p: bigint): void {
    this.check('cuMemFreeHost', this.api.cuMemFreeHost(p));
  }
  htod(dst: number, src: ArrayBufferView, bytes: number): void {
    if (bytes > 0) this.check('cuMemcpyHtoD_v2', this.api.cuMemcpyHtoD_v2(dst, src, bytes));
  }
  dtoh(dst: ArrayBufferView, src: number, bytes: number): void {
    if (bytes > 0) this.check('cuMemcpyDtoH_v2', this.api.cuMemcpyDtoH_v2(dst, src, bytes));
  }
  dtohAsync(dst: bigint, src: number, bytes: number, stream: Handle): void {
    if (bytes > 0) this.check('cuMemcpyDtoHAsync_v2', this.api.cuMemcpyDtoHAsync_v2(dst, src, bytes, stream));
  }
  dtodAsync(dst: number, src: number, bytes: number, stream: Handle): void {
    if (bytes > 0) this.check('cuMemcpyDtoDAsync_v2', this.api.cuMemcpyDtoDAsync_v2(dst, src, bytes, stream));
  }
  moduleLoad(image: Uint8Array): bigint {
    this.check('cuModuleLoadData', this.api.cuModuleLoadData(this.o64, image));
    return this.o64[0]!;
  }
  moduleFunction(mod: bigint, name: string): bigint {
    const st = this.api.cuModuleGetFunction(this.o64, mod, name);
    if (st !== CUDA_SUCCESS) {
      const { name: n, text } = this.describe(st);
      throw new CudaError('cuda', 'cuModuleGetFunction', st, n, `${text}${text ? '; ' : ''}kernel ${name}`);
    }
    return this.o64[0]!;
  }
  launch(
    f: bigint, grid: readonly [number, number, number], block: readonly [number, number, number],
    sharedBytes: number, stream: Handle, params: bigint, kernel: string,
  ): void {
    const st = this.api.cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, stream, params, null);
    if (st !== CUDA_SUCCESS) {
      const { name, text } = this.describe(st);
      throw new CudaError('cuda', 'cuLaunchKernel', st, name, `${text}${text ? '; ' : ''}kernel ${kernel}, grid [${grid.join(',')}], block [${block.join(',')}]`);
    }
  }
  streamSynchronize(stream: Handle): void {
    this.check('cuStreamSynchronize', this.api.cuStreamSynchronize(stream));
  }
  eventCreate(): bigint {
    // CU_EVENT_DISABLE_TIMING: cheaper, and only completion is asked
    this.check('cuEventCreate', this.api.cuEventCreate(this.o64, 2));
    return this.o64[0]!;
  }
  eventRecord(ev: bigint, stream: Handle): void {
    this.check('cuEventRecord', this.api.cuEventRecord(ev, stream));
  }
  /** True when the event completed, false while it is pending. */
  eventDone(ev: bigint): boolean {
    const st = this.api.cuEventQuery(ev);
    if (st === CUDA_ERROR_NOT_READY) return false;
    this.check('cuEventQuery', st);
    return true;
  }
  eventDestroy(ev: bigint): void {
    this.check('cuEventDestroy_v2', this.api.cuEventDestroy_v2(ev));
  }
}

/** CUdevice_attribute values read at start-up. */
export const ATTR = {
  MULTIPROCESSOR_COUNT: 16,
  COMPUTE_CAPABILITY_MAJOR: 75,
  COMPUTE_CAPABILITY_MINOR: 76,
} as const;
