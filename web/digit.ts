/**
 * Turns a drawing into an MNIST-style 28x28 input, as the MNIST digits were made: the ink's
 * bounding box is scaled (keeping its aspect ratio) to fit a 20x20 box with area averaging, then
 * placed in the 28x28 frame so that its center of mass sits at the center.
 */

/** Side of the images the model sees. */
export const SIZE = 28;
/** Side of the box the digit is scaled into. */
export const BOX = 20;

/**
 * `gray`: `width * height` ink intensities in [0, 1] (row-major). Returns 784 pixels in [0, 1], or
 * null when there is no ink.
 */
export function toMnist(gray: Float32Array, width: number, height: number, threshold = 0.05): Float32Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x]! > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  // area average: every source pixel adds its value, weighted by its area in the target grid
  const small = new Float32Array(w * h);
  const sx = w / bw;
  const sy = h / bh;
  for (let y = y0; y <= y1; y++) {
    const ty = Math.min(h - 1, Math.floor((y - y0) * sy));
    for (let x = x0; x <= x1; x++) {
      const v = gray[y * width + x]!;
      if (v === 0) continue;
      const tx = Math.min(w - 1, Math.floor((x - x0) * sx));
      small[ty * w + tx]! += v * sx * sy;
    }
  }
  // center of mass of the small image
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = Math.min(1, small[y * w + x]!);
      small[y * w + x] = v;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const cx = mass > 0 ? mx / mass : w / 2;
  const cy = mass > 0 ? my / mass : h / 2;
  const ox = clamp(Math.round(SIZE / 2 - cx), 0, SIZE - w);
  const oy = clamp(Math.round(SIZE / 2 - cy), 0, SIZE - h);
  const out = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(y + oy) * SIZE + x + ox] = small[y * w + x]!;
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
