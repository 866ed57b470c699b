/**
 * Winograd F(4x4, 3x3) convolution: the algorithm the `conv` primitive (ops/conv.ts) uses for
 * float32 3x3 convolutions with stride 1 and dilation 1 on backends with the winograd* members
 * (the `wasm` backend), forward and plain backward.
 *
 * Each 4x4 output tile is y = A^T [ U . (B^T d B) ] A with U = G g G^T (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016; interpolation points 0, +-1, +-2 and
 * infinity; the matrices are in ndarray/cpu/winograd.ts). Over the 36 entries of a 6x6 tile the
 * product with the weights is 36 GEMMs (O x C) @ (C x tiles) — 2.25x fewer multiply-adds than the
 * direct 3x3 convolution. The gradients are the exact adjoints of these linear maps, not a second
 * approximation of the convolution: dy -> dM = A dy A^T; dX: dV = U^T dM, then B dV B^T summed
 * back into the overlapping input tiles; dW: dU = dM V^T summed over tiles, dW = G^T dU G.
 *
 * Accuracy: float32 Winograd rounds more than the direct sum. On unit-variance data with 64 input
 * channels the error relative to the largest output is ~4e-6 (rms ~1.4e-6), against ~2e-7 for
 * direct summation (measured against float64; test/winograd.test.ts bounds it). cuDNN and NNPACK
 * make the same trade by default. {@link setConvAlgorithm}('gemm') (or NEEDLE_CONV=gemm) turns it
 * off; float64 convolutions never use it.
 *
 * Memory: the batch is processed in chunks of samples whose transformed tiles fit a few MB (the
 * 36 GEMMs then read them from cache, and their products stay at least 512 tiles wide); the weights
 * are transformed once per call, by one GEMM with the 36 x 9 matrix G (x) G.
 */
import type { Dense, WinogradSpec } from '../ndarray/backend.js';
import { WINO_G } from '../ndarray/cpu/winograd.js';
import { NDArray } from '../ndarray/ndarray.js';
import { freeTemp } from '../ndarray/compute.js';
import type { WindowParams } from './conv.js';

/** Which algorithm float32 3x3 stride-1 convolutions use. */
export type ConvAlgorithm = 'auto' | 'gemm' | 'winograd';

let algorithm: ConvAlgorithm = 'auto';
{
  const env = typeof process !== 'undefined' ? process.env?.['NEEDLE_CONV'] : undefined;
  if (env === 'auto' || env === 'gemm' || env === 'winograd') algorithm = env;
}

/**
 * Chooses the algorithm of float32 3x3 convolutions with stride 1 and dilation 1 (groups 1) on
 * backends that have Winograd kernels (`wasm`): `auto` (the default) uses Winograd F(4x4, 3x3)
 * when both channel counts are at least {@link WINOGRAD_MIN_CHANNELS}; `winograd` whenever it
 * applies; `gemm` never (im2col + GEMM, the exact summation of the `cpu` reference). Returns the
 * previous setting. NEEDLE_CONV (auto | gemm | winograd) sets the initial value in Node.
 *
 * @example
 * const prev = nd.setConvAlgorithm('gemm'); // bitwise-reproducible direct sums
 * try { y = nd.conv2d(x, w, null, { padding: 1 }); } finally { nd.setConvAlgorithm(prev); }
 */
export function setConvAlgorithm(a: ConvAlgorithm): ConvAlgorithm {
  if (a !== 'auto' && a !== 'gemm' && a !== 'winograd') {
    throw new RangeError(`setConvAlgorithm: expected 'auto', 'gemm' or 'winograd', got ${JSON.stringify(a)}`);
  }
  const prev = algorithm;
  algorithm = a;
  return prev;
}

/** The current {@link ConvAlgorithm}. */
export function getConvAlgorithm(): ConvAlgorithm {
  return algorithm;
}

/**
 * Channel count (input and output) from which `auto` picks Winograd: below it the 36 GEMMs are
 * too thin to beat one im2col GEMM (a first layer with 1 or 3 input channels). Measured on 2
 * cores, forward + both gradients, batch 32 of 32 x 32: 3 -> 16 channels 4.3 ms vs 3.9 (GEMM),
 * 8 -> 8 2.1 vs 4.0, 64 -> 64 28 vs 43; images down to 4 x 4 (most tiles then partly padding)
 * still gained at 64 to 512 channels.
 */
export const WINOGRAD_MIN_CHANNELS = 8;

/** Transformed-tile elements per chunk of samples (5 MB of float32, per operand). */
const CHUNK_ELEMENTS = 5 << 18;

/** Tiles per chunk at least (the N of the 36 GEMMs): thinner products run far below peak. */
const MIN_TILES = 512;

/** The sizes of a Winograd convolution. */
export interface WinogradPlan {
  N: number;
  C: number;
  O: number;
  h: number;
  w: number;
  ph: number;
  pw: number;
  oh: number;
  ow: number;
  th: number;
  tw4: number;
  /** Samples per chunk. */
  B: number;
}

/**
 * The plan when Winograd applies to x (N, C, h, w) and w (O, C, 3, 3) under `p` (window sizes
 * already checked), else null.
 */
export function winogradPlan(x: NDArray, w: NDArray, p: WindowParams): WinogradPlan | null {
  if (algorithm === 'gemm') return null;
  const be = x.backend;
  if (!be.winogradInput || !be.winogradInputAdjoint || !be.winogradOutput || !be.winogradOutputAdjoint) return null;
  if (x.dtype !== 'float32' || w.dtype !== 'float32' || x.ndim !== 4 || w.ndim !== 4) return null;
  if (p.kernel[0] !== 3 || p.kernel[1] !== 3 || p.stride.some((s) => s !== 1) || p.dilation.some((d) => d !== 1)) return null;
  const [N, C, h, wd] = x.shape as [number, number, number, number];
  const O = w.shape[0]!;
  if (algorithm === 'auto' && Math.min(C, O) < WINOGRAD_MIN_CHANNELS) return null;
  const oh = h + p.padBefore[0]! + p.padAfter[0]! - 2;
  const ow = wd + p.padBefore[1]! + p.padAfter[1]! - 2;
  if (N === 0 || C === 0 || O === 0 || oh < 1 || ow < 1) return null;
  const th = Math.ceil(oh / 4);
  const tw4 = Math.ceil(Math.ceil(ow / 4) / 4) * 4;
  const tpi = th * tw4;
  const B = Math.max(1, Math.min(N, Math.max(Math.ceil(MIN_TILES / tpi), Math.floor(CHUNK_ELEMENTS / (36 * Math.max(C, O) * tpi)))));
  return { N, C, O, h, w: wd, ph: p.padBefore[0]!, pw: p.padBefore[1]!, oh, ow, th, tw4, B };
}

/**
 * The weight transform as one matrix: K (36 x 9) = G (x) G (Kronecker), K[6 k + l][3 i + j] =
 * G[k][i] G[l][j], so that U = G g G^T for every filter at once is the GEMM K @ g^T (computed in
 * float64, rounded once to float32), one array per device.
 */
const kron = new Map<string, NDArray>();
function weightMatrix(device: string): NDArray {
  let K = kron.get(device);
  if (K === undefined) {
    const k = new Float32Array(36 * 9);
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) k[(a * 6 + b) * 9 + i * 3 + j] = WINO_G[a]![i]! * WINO_G[b]![j]!;
        }
      }
    }
    K = NDArray.fromData(k, [36, 9], 'float32', device);
    kron.set(device, K);
  }
  return K;
}

/** U (36, O, C) = G g G^T for every filter g of w (O, C, 3, 3): K (36 x 9) @ w (O C x 9)^T. */
function transformWeights(w: NDArray): NDArray {
  const [O, C] = w.shape as [number, number];
  const U = NDArray.empty([36, O, C], 'float32', w.device);
  const wc = w.compact();
  w.backend.matmul(weightMatrix(w.device), wc, U, { batch: 1, m: 36, n: O * C, k: 9, transA: false, transB: true, strideA: 0, strideB: 0 });
  freeTemp(wc, w);
  return U;
}

/** dg (O, C, 3, 3) = G^T dU G for the weight-domain gradient dU (36, O, C): dU^T (O C x 36) @ K. */
function untransformWeights(dU: NDArray, O: number, C: number): NDArray {
  const dg = NDArray.empty([O, C, 3, 3], 'float32', dU.device);
  dU.backend.matmul(dU, weightMatrix(dU.device), dg, { batch: 1, m: O * C, n: 9, k: 36, transA: true, transB: false, strideA: 0, strideB: 0 });
  return dg;
}

/** A compact array as a Dense operand starting `start` elements in. */
const at = (a: NDArray, start: number): Dense => ({ storage: a.storage, offset: a.offset + start });

const inSpec = (g: WinogradPlan, b: number, planeStride: number): WinogradSpec => ({ batch: b, channels: g.C, h: g.h, w: g.w, ph: g.ph, pw: g.pw, th: g.th, tw4: g.tw4, planeStride });
const outSpec = (g: WinogradPlan, b: number, planeStride: number): WinogradSpec => ({ batch: b, channels: g.O, h: g.oh, w: g.ow, ph: 0, pw: 0, th: g.th, tw4: g.tw4, planeStride });

/**
 * Elements between the 36 planes of a transformed operand of `n` elements per plane: n rounded up
 * to 16 floats (64 bytes), then to an odd multiple of them, so that the 36 planes' streams of
 * one tile spread over the cache sets (a power-of-two distance puts all 36 in one set).
 */
function planeStride(n: number): number {
  const lines = Math.ceil(n / 16);
  return 16 * (lines % 2 === 0 ? lines + 1 : lines);
}

/** The 36 products out[xi] = op(a[xi]) @ op(b[xi]), each operand's planes `s*` elements apart. */
function products(
  a: NDArray, sa: number, b: NDArray, sb: number, out: NDArray, so: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean,
): void {
  const be = a.backend;
  const spec = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0 };
  for (let xi = 0; xi < 36; xi++) be.matmul(at(a, xi * sa), at(b, xi * sb), at(out, xi * so), spec);
}

/**
 * The chunks of samples: first sample n, samples b, tiles T, and the plane strides of the
 * transformed input (sv) and output (sm) sides.
 */
function* chunks(g: WinogradPlan): Generator<{ n: number; b: number; T: number; sv: number; sm: number }> {
  for (let n = 0; n < g.N; n += g.B) {
    const b = Math.min(g.B, g.N - n);
    const T = b * g.th * g.tw4;
    yield { n, b, T, sv: planeStride(g.C * T), sm: planeStride(g.O * T) };
  }
}

/** y (N, O, oh, ow) = conv(x, w) by Winograd F(4x4, 3x3), chunk by chunk of samples. */
export function winogradForward(x: NDArray, w: NDArray, g: WinogradPlan): NDArray {
  const be = x.backend;
  const xc = x.compact();
  const U = transformWeights(w);
  const cap = g.B * g.th * g.tw4;
  const y = NDArray.empty([g.N, g.O, g.oh, g.ow], 'float32', x.device);
  const V = NDArray.empty([36 * planeStride(g.C * cap)], 'float32', x.device);
  const M = NDArray.empty([36 * planeStride(g.O * cap)], 'float32', x.device);
  for (const { n, b, T, sv, sm } of chunks(g)) {
    be.winogradInput!(at(xc, n * g.C * g.h * g.w), V, inSpec(g, b, sv));
    products(U, g.O * g.C, V, sv, M, sm, g.O, T, g.C, false, false);
    be.winogradOutput!(M, at(y, n * g.O * g.oh * g.ow), outSpec(g, b, sm));
  }
  // this op's own buffers (the transformed operands, 36 planes each) go back to the heap now
  // rather than at a garbage collection
  for (const t of [U, V, M]) freeTemp(t);
  freeTemp(xc, x);
  return y;
}

/** The plain-backward gradients (dx, dw) of {@link winogradForward} (null where not wanted). */
export function winogradBackward(dy: NDArray, x: NDArray, w: NDArray, g: WinogradPlan, wantX: boolean, wantW: boolean): [NDArray | null, NDArray | null] {
  const be = x.backend;
  const gc = dy.compact();
  const xc = x.compact();
  const cap = g.B * g.th * g.tw4;
  const U = wantX ? transformWeights(w) : null;
  const dM = NDArray.empty([36 * planeStride(g.O * cap)], 'float32', x.device);
  const dV = wantX ? NDArray.empty([36 * planeStride(g.C * cap)], 'float32', x.device) : null;
  const V = wantW ? NDArray.empty([36 * planeStride(g.C * cap)], 'float32', x.device) : null;
  const part = wantW ? NDArray.empty([36, g.O, g.C], 'float32', x.device) : null;
  const dx = wantX ? NDArray.empty([g.N, g.C, g.h, g.w], 'float32', x.device) : null;
  let dU: NDArray | null = null;
  const xs = g.C * g.h * g.w;
  for (const { n, b, T, sv, sm } of chunks(g)) {
    be.winogradOutputAdjoint!(at(gc, n * g.O * g.oh * g.ow), dM, outSpec(g, b, sm));
    if (dx !== null) {
      products(U!, g.O * g.C, dM, sm, dV!, sv, g.C, T, g.O, true, false);
      be.winogradInputAdjoint!(dV!, at(dx, n * xs), inSpec(g, b, sv));
    }
    if (V !== null) {
      be.winogradInput!(at(xc, n * xs), V, inSpec(g, b, sv));
      products(dM, sm, V, sv, part!, g.O * g.C, g.O, g.C, T, false, true);
      if (dU === null) {
        dU = part!.clone();
      } else {
        const next = NDArray.empty(dU.shape, 'float32', x.device);
        be.binary('add', dU, part!, next, dU.size);
        freeTemp(dU);
        dU = next;
      }
    }
  }
  const dw = dU === null ? null : untransformWeights(dU, g.O, g.C);
  for (const t of [U, dM, dV, V, part, dU]) freeTemp(t);
  freeTemp(gc, dy);
  freeTemp(xc, x);
  return [dx, dw];
}
