/**
 * Reference implementations of the Winograd F(4x4, 3x3) tile transforms ({@link WinogradSpec}), in
 * plain TypeScript over host typed arrays, with the transform matrices written out. They define what
 * the wasm kernels (assembly/winograd.ts) compute; the kernels work in float32 with their own
 * operation order, so results agree to float32 rounding, not bitwise. The cpu backend does not
 * register them: its convolution stays the exact im2col + GEMM (src/ops/winograd.ts).
 */
import type { Dense, Storage, WinogradSpec } from '../backend.js';
import type { AnyTypedArray } from '../dtype.js';
import { internal } from '../../errors.js';

/** B^T (6 x 6): the input transform's matrix (Lavin & Gray, points 0, +-1, +-2, infinity). */
export const WINO_BT: readonly (readonly number[])[] = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];

/** G (6 x 3): the weight transform's matrix. */
export const WINO_G: readonly (readonly number[])[] = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** A^T (4 x 6): the output transform's matrix. */
export const WINO_AT: readonly (readonly number[])[] = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

function arr(s: Storage): AnyTypedArray {
  const data = (s as { data?: AnyTypedArray }).data;
  if (data === undefined) throw internal(`winograd reference kernels got storage of device ${s.device} without host data`);
  return data;
}

/** Offset of entry xi of tile (b, c, ti, tj) in the transformed layout (36 planes of (channels, batch, th, tw4)). */
function tileIndex(s: WinogradSpec, xi: number, b: number, c: number, ti: number, tj: number): number {
  return xi * s.planeStride + ((c * s.batch + b) * s.th + ti) * s.tw4 + tj;
}

/** L (r x a) @ X (a x a) @ R^T (q x a)^T for small dense matrices. */
function sandwich(L: readonly (readonly number[])[], X: number[][], R: readonly (readonly number[])[]): number[][] {
  const t = L.map((lr) => X[0]!.map((_, j) => lr.reduce((acc, v, k) => acc + v * X[k]![j]!, 0)));
  return t.map((tr) => R.map((rr) => rr.reduce((acc, v, j) => acc + v * tr[j]!, 0)));
}

const transpose = (m: readonly (readonly number[])[]): number[][] => m[0]!.map((_, j) => m.map((r) => r[j]!));
const WINO_B = transpose(WINO_BT);
const WINO_A = transpose(WINO_AT);

/** See Backend.winogradInput. */
export function winogradInput(img: Dense, tiles: Dense, s: WinogradSpec): void {
  const x = arr(img.storage);
  const v = arr(tiles.storage);
  for (let b = 0; b < s.batch; b++) {
    for (let c = 0; c < s.channels; c++) {
      const plane = img.offset + (b * s.channels + c) * s.h * s.w;
      for (let ti = 0; ti < s.th; ti++) {
        for (let tj = 0; tj < s.tw4; tj++) {
          const d = Array.from({ length: 6 }, (_, r) => Array.from({ length: 6 }, (_, q) => {
            const y = 4 * ti + r - s.ph;
            const xx = 4 * tj + q - s.pw;
            return y >= 0 && y < s.h && xx >= 0 && xx < s.w ? x[plane + y * s.w + xx]! : 0;
          }));
          const t = sandwich(WINO_BT, d, WINO_BT);
          for (let xi = 0; xi < 36; xi++) v[tiles.offset + tileIndex(s, xi, b, c, ti, tj)] = t[Math.floor(xi / 6)]![xi % 6]!;
        }
      }
    }
  }
}

/** See Backend.winogradInputAdjoint. */
export function winogradInputAdjoint(tiles: Dense, img: Dense, s: WinogradSpec): void {
  const v = arr(tiles.storage);
  const x = arr(img.storage);
  for (let b = 0; b < s.batch; b++) {
    for (let c = 0; c < s.channels; c++) {
      const plane = img.offset + (b * s.channels + c) * s.h * s.w;
      const acc = new Float64Array(s.h * s.w);
      for (let ti = 0; ti < s.th; ti++) {
        for (let tj = 0; tj < s.tw4; tj++) {
          const e = Array.from({ length: 6 }, (_, k) => Array.from({ length: 6 }, (_, l) => v[tiles.offset + tileIndex(s, 6 * k + l, b, c, ti, tj)]!));
          const t = sandwich(WINO_B, e, WINO_B);
          for (let r = 0; r < 6; r++) {
            for (let q = 0; q < 6; q++) {
              const y = 4 * ti + r - s.ph;
              const xx = 4 * tj + q - s.pw;
              if (y >= 0 && y < s.h && xx >= 0 && xx < s.w) acc[y * s.w + xx] += t[r]![q]!;
            }
          }
        }
      }
      for (let i = 0; i < acc.length; i++) x[plane + i] = acc[i]!;
    }
  }
}

/** See Backend.winogradOutput. */
export function winogradOutput(tiles: Dense, img: Dense, s: WinogradSpec): void {
  const m = arr(tiles.storage);
  const y = arr(img.storage);
  for (let b = 0; b < s.batch; b++) {
    for (let c = 0; c < s.channels; c++) {
      const plane = img.offset + (b * s.channels + c) * s.h * s.w;
      for (let ti = 0; ti < s.th; ti++) {
        for (let tj = 0; tj < s.tw4; tj++) {
          const e = Array.from({ length: 6 }, (_, k) => Array.from({ length: 6 }, (_, l) => m[tiles.offset + tileIndex(s, 6 * k + l, b, c, ti, tj)]!));
          const t = sandwich(WINO_AT, e, WINO_AT);
          for (let r = 0; r < 4; r++) {
            for (let q = 0; q < 4; q++) {
              const yy = 4 * ti + r;
              const xx = 4 * tj + q;
              if (yy < s.h && xx < s.w) y[plane + yy * s.w + xx] = t[r]![q]!;
            }
          }
        }
      }
    }
  }
}

/** See Backend.winogradOutputAdjoint. */
export function winogradOutputAdjoint(img: Dense, tiles: Dense, s: WinogradSpec): void {
  const y = arr(img.storage);
  const m = arr(tiles.storage);
  for (let b = 0; b < s.batch; b++) {
    for (let c = 0; c < s.channels; c++) {
      const plane = img.offset + (b * s.channels + c) * s.h * s.w;
      for (let ti = 0; ti < s.th; ti++) {
        for (let tj = 0; tj < s.tw4; tj++) {
          const d = Array.from({ length: 4 }, (_, r) => Array.from({ length: 4 }, (_, q) => {
            const yy = 4 * ti + r;
            const xx = 4 * tj + q;
            return yy < s.h && xx < s.w ? y[plane + yy * s.w + xx]! : 0;
          }));
          const t = sandwich(WINO_A, d, WINO_A);
          for (let xi = 0; xi < 36; xi++) m[tiles.offset + tileIndex(s, xi, b, c, ti, tj)] = t[Math.floor(xi / 6)]![xi % 6]!;
        }
      }
    }
  }
}

/** The reference winograd members (for tests and for layouts the wasm kernels cannot address). */
export const cpuWinograd = { winogradInput, winogradInputAdjoint, winogradOutput, winogradOutputAdjoint };
