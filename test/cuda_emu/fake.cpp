// A fake libcuda + libnvrtc + libcublas for test/cuda_emu.test.ts: the subset of the three C APIs
// that src/ndarray/cuda binds, with the same signatures, running on the host. Kernels are the
// generated source compiled with g++ against emu.h (kernels_emu.cpp, written by the test), run
// one block at a time with one fiber per CUDA thread. "Device" memory is host memory with guard
// bytes around each allocation (checked at every free and synchronize), copies are checked to stay
// inside live allocations, and the "NVRTC" accepts a kernel only if its source appears verbatim in
// the compiled kernel source, so what runs here is exactly what NVRTC would be given.
#include "emu.h"
#include <map>
#include <string>
#include <vector>
#include <setjmp.h>
#include <ucontext.h>

extern "C" {
struct EmuKernel { const char *name; void (*tramp)(void **); int sync; };
extern const EmuKernel emu_kernels[];
extern const int emu_kernel_count;
extern const char *emu_source;
}

EmuDim3 emu_blockIdx, emu_blockDim, emu_gridDim;
EmuThread *emu_cur = nullptr;

// ------------------------------------------------------------------ fibers
enum { RUN = 0, WAIT_BLOCK = 1, WAIT_WARP = 2, DONE = 3 };
static const int MAX_THREADS = 1024;
static const size_t STACK = 256 * 1024;
static EmuThread threads[MAX_THREADS];
static ucontext_t ctxs[MAX_THREADS];
static ucontext_t sched_template;
static char *stacks = nullptr;
static int nthreads = 0;
static void (*cur_tramp)(void **) = nullptr;
static void **cur_params = nullptr;
static unsigned char warp_slots[MAX_THREADS / 32][32][16];
static int fail_code = 0;
static char fail_msg[512];

static void emu_fail(const char *msg) {
  if (!fail_code) {
    fail_code = 719;  // CUDA_ERROR_LAUNCH_FAILED
    snprintf(fail_msg, sizeof fail_msg, "%s", msg);
  }
}

// switches: a fiber starts with setcontext (once per block), then yields and resumes with
// _setjmp/_longjmp, which unlike swapcontext make no system call
static jmp_buf sched_jb;
static jmp_buf thread_jb[MAX_THREADS];
static bool started[MAX_THREADS];
static void yield_to_sched() {
  if (!_setjmp(thread_jb[emu_cur->linear])) _longjmp(sched_jb, 1);
}

static bool direct = false;
void emu_syncthreads() {
  if (direct) { emu_fail("a kernel marked barrier-free reached __syncthreads"); return; }
  emu_cur->state = WAIT_BLOCK; yield_to_sched();
}
void emu_warp_barrier() {
  if (direct) { emu_fail("a kernel marked barrier-free reached a warp shuffle"); return; }
  emu_cur->state = WAIT_WARP; yield_to_sched();
}
void emu_warp_put(const void *v, size_t n) { memcpy(warp_slots[emu_cur->linear / 32][emu_cur->linear & 31], v, n); }
void emu_warp_get(int lane, void *v, size_t n) {
  int t = (emu_cur->linear / 32) * 32 + lane;
  if (t < nthreads) memcpy(v, warp_slots[emu_cur->linear / 32][lane], n);
}

static void fiber_entry() {
  cur_tramp(cur_params);
  emu_cur->state = DONE;
  _longjmp(sched_jb, 1);
}

// kernels without barriers or shuffles: each thread runs to completion in turn
static void run_block_direct() {
  for (int t = 0; t < nthreads; t++) {
    EmuThread &th = threads[t];
    th.linear = t;
    th.tid.x = t % emu_blockDim.x;
    th.tid.y = (t / emu_blockDim.x) % emu_blockDim.y;
    th.tid.z = t / (emu_blockDim.x * emu_blockDim.y);
    th.state = RUN;
    emu_cur = &th;
    cur_tramp(cur_params);
  }
}

static void run_block() {
  for (int t = 0; t < nthreads; t++) {
    EmuThread &th = threads[t];
    th.linear = t;
    th.tid.x = t % emu_blockDim.x;
    th.tid.y = (t / emu_blockDim.x) % emu_blockDim.y;
    th.tid.z = t / (emu_blockDim.x * emu_blockDim.y);
    th.state = RUN;
    started[t] = false;
    ctxs[t] = sched_template;
    ctxs[t].uc_stack.ss_sp = stacks + (size_t)t * STACK;
    ctxs[t].uc_stack.ss_size = STACK;
    ctxs[t].uc_link = nullptr;
    makecontext(&ctxs[t], fiber_entry, 0);
  }
  for (;;) {
    for (int t = 0; t < nthreads; t++) {
      if (threads[t].state != RUN) continue;
      emu_cur = &threads[t];
      if (!_setjmp(sched_jb)) {
        if (!started[t]) { started[t] = true; setcontext(&ctxs[t]); }
        else _longjmp(thread_jb[t], 1);
      }
    }
    // everyone is done or waiting: release complete barriers
    bool any = false, pending = false;
    for (int w = 0; w * 32 < nthreads; w++) {
      int lo = w * 32, hi = lo + 32 < nthreads ? lo + 32 : nthreads;
      bool all = true, some = false;
      for (int t = lo; t < hi; t++) {
        if (threads[t].state == DONE) continue;
        if (threads[t].state == WAIT_WARP) some = true; else all = false;
      }
      if (some && all) {
        for (int t = lo; t < hi; t++) if (threads[t].state == WAIT_WARP) threads[t].state = RUN;
        any = true;
      } else if (some) {
        emu_fail("warp shuffle reached by part of a warp while the rest waits at __syncthreads (divergent shuffle)");
        return;
      }
    }
    if (!any) {
      bool allBlock = true, some = false;
      for (int t = 0; t < nthreads; t++) {
        if (threads[t].state == DONE) continue;
        pending = true;
        if (threads[t].state == WAIT_BLOCK) some = true; else allBlock = false;
      }
      if (!pending) return;
      if (some && allBlock) {
        for (int t = 0; t < nthreads; t++) if (threads[t].state == WAIT_BLOCK) threads[t].state = RUN;
      } else {
        emu_fail("deadlock: threads wait at different barriers");
        return;
      }
    }
  }
}

// ------------------------------------------------------------------ memory
static const size_t GUARD = 256;
static const unsigned char PAT = 0xA5;
struct Alloc { size_t bytes; };
static std::map<uintptr_t, Alloc> allocs;  // user address -> size
static size_t mem_used = 0;
static size_t mem_limit() {
  const char *e = getenv("EMU_MEM_LIMIT");
  return e ? (size_t)strtoull(e, nullptr, 10) : ((size_t)1 << 31);
}

static bool guards_ok(uintptr_t p, size_t n) {
  unsigned char *b = (unsigned char *)p;
  for (size_t i = 0; i < GUARD; i++) if (b[-(long)GUARD + (long)i] != PAT || b[n + i] != PAT) return false;
  return true;
}

static bool inside(uintptr_t p, size_t n) {
  auto it = allocs.upper_bound(p);
  if (it == allocs.begin()) return false;
  --it;
  return p >= it->first && p + n <= it->first + it->second.bytes;
}

static int check_all_guards() {
  for (auto &a : allocs) {
    if (!guards_ok(a.first, a.second.bytes)) {
      snprintf(fail_msg, sizeof fail_msg, "out-of-bounds write next to the %zu-byte allocation at %p", a.second.bytes, (void *)a.first);
      fail_code = 700;  // CUDA_ERROR_ILLEGAL_ADDRESS
      return 700;
    }
  }
  return 0;
}

// ------------------------------------------------------------------ statistics for the test
extern "C" {
long long emu_launches = 0, emu_blocks = 0, emu_allocs = 0, emu_frees = 0, emu_gemms = 0;
const char *emu_last_error() { return fail_msg; }
long long emu_stat(int which) {
  switch (which) {
    case 0: return emu_launches;
    case 1: return emu_blocks;
    case 2: return emu_allocs;
    case 3: return emu_frees;
    case 4: return (long long)allocs.size();
    case 5: return emu_gemms;
  }
  return -1;
}

// ------------------------------------------------------------------ driver API
static const uintptr_t CTX = 0xC0FFEE;
int cuInit(unsigned) {
  if (!stacks) { stacks = (char *)malloc(STACK * MAX_THREADS); getcontext(&sched_template); }
  return 0;
}
int cuDriverGetVersion(int *v) { *v = 13000; return 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetName(char *buf, int len, int) { snprintf(buf, len, "needle-ts host emulation"); return 0; }
int cuDeviceGetAttribute(int *v, int attr, int) {
  switch (attr) {
    case 16: { const char *e = getenv("EMU_SMS"); *v = e ? atoi(e) : 1; return 0; }
    case 75: *v = 9; return 0;
    case 76: *v = 0; return 0;
  }
  return 1;
}
int cuDeviceTotalMem_v2(size_t *b, int) { *b = mem_limit(); return 0; }
int cuDevicePrimaryCtxRetain(void **ctx, int) { *ctx = (void *)CTX; return 0; }
int cuCtxSetCurrent(void *ctx) { return (uintptr_t)ctx == CTX ? 0 : 201; }
int cuCtxSynchronize(void) { return fail_code ? fail_code : check_all_guards(); }
int cuMemAlloc_v2(unsigned long long *out, size_t bytes) {
  if (bytes == 0) return 1;
  if (mem_used + bytes > mem_limit()) return 2;
  unsigned char *b = (unsigned char *)aligned_alloc(256, ((bytes + 2 * GUARD + 255) / 256) * 256);
  memset(b, PAT, GUARD);
  memset(b + GUARD, 0x5A, bytes);  // garbage: the contract promises no initial contents
  memset(b + GUARD + bytes, PAT, GUARD);
  uintptr_t p = (uintptr_t)(b + GUARD);
  allocs[p] = {bytes};
  mem_used += bytes;
  emu_allocs++;
  *out = p;
  return 0;
}
int cuMemFree_v2(unsigned long long p) {
  auto it = allocs.find((uintptr_t)p);
  if (it == allocs.end()) return 1;
  if (!guards_ok(it->first, it->second.bytes)) { snprintf(fail_msg, sizeof fail_msg, "out-of-bounds write next to a freed allocation"); return 700; }
  mem_used -= it->second.bytes;
  free((void *)(it->first - GUARD));
  allocs.erase(it);
  emu_frees++;
  return 0;
}
int cuMemGetInfo_v2(size_t *fr, size_t *total) { *total = mem_limit(); *fr = *total - mem_used; return 0; }
int cuMemAllocHost_v2(void **p, size_t bytes) { *p = malloc(bytes ? bytes : 1); return 0; }
int cuMemFreeHost(void *p) { free(p); return 0; }
int cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t n) {
  if (!inside(dst, n)) return 1;
  memcpy((void *)dst, src, n);
  return 0;
}
int cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t n) {
  if (fail_code) return fail_code;
  if (!inside(src, n)) return 1;
  // the guards of the allocation read (all of them are checked at synchronize and free)
  auto it = allocs.upper_bound((uintptr_t)src);
  --it;
  if (!guards_ok(it->first, it->second.bytes)) {
    snprintf(fail_msg, sizeof fail_msg, "out-of-bounds write next to the %zu-byte allocation at %p", it->second.bytes, (void *)it->first);
    return fail_code = 700;
  }
  memcpy(dst, (void *)src, n);
  return 0;
}
int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *) { return cuMemcpyDtoH_v2(dst, src, n); }
int cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t n, void *) {
  if (!inside(dst, n) || !inside(src, n)) return 1;
  memmove((void *)dst, (void *)src, n);
  return 0;
}
struct Module { std::string image; };
int cuModuleLoadData(void **mod, const void *image) {
  const char *s = (const char *)image;
  if (strncmp(s, "EMU-CUBIN ", 10) != 0) return 200;  // CUDA_ERROR_INVALID_IMAGE
  *mod = new Module{std::string(s)};
  return 0;
}
int cuModuleGetFunction(void **fn, void *mod, const char *name) {
  if (!mod) return 400;
  for (int i = 0; i < emu_kernel_count; i++) {
    if (strcmp(emu_kernels[i].name, name) == 0) { *fn = (void *)(uintptr_t)(i + 1); return 0; }
  }
  return 500;  // CUDA_ERROR_NOT_FOUND
}
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void *stream, void **params, void **extra) {
  (void)stream;
  if (fail_code) return fail_code;
  uintptr_t k = (uintptr_t)f;
  if (k < 1 || k > (uintptr_t)emu_kernel_count || !params || extra || shared) return 1;
  if (bx * by * bz > 1024 || bx * by * bz == 0 || gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535) return 1;
  if ((bx * by * bz) % 32 != 0) return 1;  // the generated kernels always use whole warps
  cur_tramp = emu_kernels[k - 1].tramp;
  direct = !emu_kernels[k - 1].sync;
  cur_params = params;
  emu_blockDim.x = bx; emu_blockDim.y = by; emu_blockDim.z = bz;
  emu_gridDim.x = gx; emu_gridDim.y = gy; emu_gridDim.z = gz;
  nthreads = (int)(bx * by * bz);
  emu_launches++;
  for (unsigned z = 0; z < gz; z++)
    for (unsigned y = 0; y < gy; y++)
      for (unsigned x = 0; x < gx; x++) {
        emu_blockIdx.x = x; emu_blockIdx.y = y; emu_blockIdx.z = z;
        if (direct) run_block_direct(); else run_block();
        emu_blocks++;
        if (fail_code) return 0;  // reported at the next synchronizing call, as on a GPU
      }
  return 0;
}
int cuStreamSynchronize(void *) { return cuCtxSynchronize(); }
static int event_polls = 0;
int cuEventCreate(void **ev, unsigned) { *ev = (void *)0xE7; event_polls = 0; return 0; }
int cuEventRecord(void *, void *) { return 0; }
int cuEventQuery(void *) { return event_polls++ < 2 ? 600 : 0; }  // pending twice, then done
int cuEventDestroy_v2(void *) { return 0; }
int cuGetErrorName(int code, const char **s) {
  switch (code) {
    case 1: *s = "CUDA_ERROR_INVALID_VALUE"; return 0;
    case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
    case 200: *s = "CUDA_ERROR_INVALID_IMAGE"; return 0;
    case 500: *s = "CUDA_ERROR_NOT_FOUND"; return 0;
    case 700: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; return 0;
    case 719: *s = "CUDA_ERROR_LAUNCH_FAILED"; return 0;
  }
  return 1;
}
int cuGetErrorString(int code, const char **s) {
  if (code == 700 || code == 719) { *s = fail_msg; return 0; }
  return cuGetErrorName(code, s);
}

// ------------------------------------------------------------------ NVRTC
struct Prog { std::string src, name, log, image; };
int nvrtcVersion(int *a, int *b) { *a = 99; *b = 9; return 0; }  // not a real version: cached images never mix with real ones
const char *nvrtcGetErrorString(int code) { return code == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR"; }
int nvrtcCreateProgram(void **p, const char *src, const char *name, int, void *, void *) {
  *p = new Prog{src, name, "", ""};
  return 0;
}
int nvrtcCompileProgram(void *pp, int n, const char **opts) {
  Prog *p = (Prog *)pp;
  bool arch = false;
  for (int i = 0; i < n; i++) if (strncmp(opts[i], "--gpu-architecture=", 19) == 0) arch = true;
  if (!arch) { p->log = "no --gpu-architecture option"; return 5; }
  // the kernel must be exactly one that was compiled into this library
  size_t at = p->src.find("extern \"C\" __global__");
  if (at == std::string::npos || !strstr(emu_source, p->src.c_str() + at)) {
    p->log = "kernel source not in the emulation build (rebuild it: the generator changed)";
    return 6;
  }
  p->image = "EMU-CUBIN " + p->name;
  return 0;
}
int nvrtcGetProgramLogSize(void *p, size_t *n) { *n = ((Prog *)p)->log.size() + 1; return 0; }
int nvrtcGetProgramLog(void *p, char *buf) { strcpy(buf, ((Prog *)p)->log.c_str()); return 0; }
int nvrtcGetPTXSize(void *p, size_t *n) { *n = ((Prog *)p)->image.size() + 1; return 0; }
int nvrtcGetPTX(void *p, char *buf) { strcpy(buf, ((Prog *)p)->image.c_str()); return 0; }
int nvrtcGetCUBINSize(void *p, size_t *n) { return nvrtcGetPTXSize(p, n); }
int nvrtcGetCUBIN(void *p, char *buf) { return nvrtcGetPTX(p, buf); }
int nvrtcDestroyProgram(void **p) { delete (Prog *)*p; *p = nullptr; return 0; }
int nvrtcGetNumSupportedArchs(int *n) { *n = 2; return 0; }
int nvrtcGetSupportedArchs(int *a) { a[0] = 80; a[1] = 90; return 0; }

// ------------------------------------------------------------------ cuBLAS (the BLAS definition, column-major)
static int math_mode = 0;
int cublasCreate_v2(void **h) { *h = (void *)0xB1A5; return 0; }
int cublasSetStream_v2(void *h, void *) { return h == (void *)0xB1A5 ? 0 : 1; }
int cublasSetMathMode(void *, int mode) { math_mode = mode; return 0; }
int cublasGetVersion_v2(void *, int *v) { *v = 130000; return 0; }
const char *cublasGetStatusName(int s) { return s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : s == 13 ? "CUBLAS_STATUS_EXECUTION_FAILED" : "CUBLAS_STATUS_OTHER"; }
}  // extern "C"
template <class T>
static int gemm(int ta, int tb, int m, int n, int k, const T *alpha, const T *A, int lda, long long sA,
                const T *B, int ldb, long long sB, const T *beta, T *C, int ldc, long long sC, int batch) {
  if (m < 0 || n < 0 || k < 0 || batch < 0) return 7;
  if (lda < (ta == 0 ? (m > 1 ? m : 1) : (k > 1 ? k : 1))) return 7;
  if (ldb < (tb == 0 ? (k > 1 ? k : 1) : (n > 1 ? n : 1))) return 7;
  if (ldc < (m > 1 ? m : 1)) return 7;
  emu_gemms++;
  for (int b = 0; b < batch; b++) {
    const T *a = A + b * sA, *bb = B + b * sB;
    T *c = C + b * sC;
    // the extents each operand spans must lie in device memory
    size_t ea = (size_t)((ta == 0 ? k : m) - 1) * lda + (ta == 0 ? m : k);
    size_t eb = (size_t)((tb == 0 ? n : k) - 1) * ldb + (tb == 0 ? k : n);
    size_t ec = (size_t)(n - 1) * ldc + m;
    if (!inside((uintptr_t)a, ea * sizeof(T)) || !inside((uintptr_t)bb, eb * sizeof(T)) || !inside((uintptr_t)c, ec * sizeof(T))) return 13;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        double s = 0;
        for (int l = 0; l < k; l++) {
          double x = ta == 0 ? a[i + (long long)l * lda] : a[l + (long long)i * lda];
          double y = tb == 0 ? bb[l + (long long)j * ldb] : bb[j + (long long)l * ldb];
          s += x * y;
        }
        c[i + (long long)j * ldc] = (T)(*alpha * s + (*beta != 0 ? *beta * c[i + (long long)j * ldc] : 0));
      }
  }
  return 0;
}
extern "C" {
int cublasSgemmStridedBatched(void *, int ta, int tb, int m, int n, int k, const float *alpha, const float *A, int lda, long long sA,
                              const float *B, int ldb, long long sB, const float *beta, float *C, int ldc, long long sC, int batch) {
  return gemm<float>(ta, tb, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch);
}
int cublasDgemmStridedBatched(void *, int ta, int tb, int m, int n, int k, const double *alpha, const double *A, int lda, long long sA,
                              const double *B, int ldb, long long sB, const double *beta, double *C, int ldc, long long sC, int batch) {
  return gemm<double>(ta, tb, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch);
}
}
