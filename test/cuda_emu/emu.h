// A host emulation of the CUDA features the generated kernels use, for test/cuda_emu.test.ts:
// the kernel source of src/ndarray/cuda/kernels.ts compiles with g++ against this header, and
// fake.cpp runs each launch block by block, one fiber (ucontext) per CUDA thread, switching at
// __syncthreads and at warp shuffles. Only what the generated kernels use is here.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

struct EmuDim3 { unsigned x = 1, y = 1, z = 1; };
struct EmuThread;
extern EmuDim3 emu_blockIdx, emu_blockDim, emu_gridDim;
extern EmuThread *emu_cur;
struct EmuThread {
  EmuDim3 tid;
  int linear;
  int state;
};
#define threadIdx (emu_cur->tid)
#define blockIdx emu_blockIdx
#define blockDim emu_blockDim
#define gridDim emu_gridDim
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

void emu_syncthreads();
void emu_warp_barrier();
void emu_warp_put(const void *v, size_t n);
void emu_warp_get(int lane, void *v, size_t n);
inline void __syncthreads() { emu_syncthreads(); }

template <class T> T emu_shfl(T v, int src) {
  emu_warp_put(&v, sizeof(T));
  emu_warp_barrier();
  T r = v;
  if (src >= 0 && src < 32) emu_warp_get(src, &r, sizeof(T));
  emu_warp_barrier();
  return r;
}
template <class T> T __shfl_xor_sync(unsigned, T v, int m) { return emu_shfl(v, (emu_cur->linear & 31) ^ m); }
template <class T> T __shfl_down_sync(unsigned, T v, int d) {
  int src = (emu_cur->linear & 31) + d;
  return emu_shfl(v, src < 32 ? src : emu_cur->linear & 31);
}

inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, 8); return d; }
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __fdiv_rn(float a, float b) { volatile float r = a / b; return r; }
inline float __fsqrt_rn(float a) { return sqrt(a); }
inline double __dadd_rn(double a, double b) { volatile double r = a + b; return r; }
inline double __dmul_rn(double a, double b) { volatile double r = a * b; return r; }
inline double __ddiv_rn(double a, double b) { volatile double r = a / b; return r; }
inline double __dsqrt_rn(double a) { return sqrt(a); }
// fibers never run concurrently: a plain add is atomic here
template <class T> T atomicAdd(T *p, T v) { T old = *p; *p = old + v; return old; }
