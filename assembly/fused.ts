// Fused kernels for f32 and f64: the optional Backend members softmax, softmaxBackward, layerNorm,
// layerNormBackward, batchNorm, batchNormBackward, adamStep and philoxBernoulli
// (src/ndarray/wasm/fused.ts calls them). The f64 kernels (the "float64" section after the f32
// ones) port the reference (src/ndarray/cpu/fused.ts) operation for operation.
//
// softmax_f32, softmax_bwd_f32, layernorm_f32 and layernorm_bwd_f32 work on rows of a compact
// (outer, size) array and threads split the rows; layernorm_bwd_wb_f32 sums over rows and threads
// split the columns; adam_f32 streams over a range and threads split the range. exp is the
// elementwise kernels' expf4 (assembly/elementwise_math.ts), so softmax and nd.exp round alike.
import { madd4, partStart } from './common';
import { expf4, logf4 } from './elementwise_math';

// ---------------------------------------------------------------------------------------------
// helpers

/** The first k (1..3) f32 at p in the low lanes, `fill` in the others. */
// @ts-ignore: decorator
@inline function loadTail(p: usize, k: i32, fill: f32): v128 {
  let v = f32x4.splat(fill);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (k > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low k (1..3) lanes of v at p. */
// @ts-ignore: decorator
@inline function storeTail(p: usize, k: i32, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Lane k = the f32 at p + k * stride (four rows' elements of one column). */
// @ts-ignore: decorator
@inline function gather4(p: usize, stride: usize): v128 {
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + stride, v, 1);
  v = v128.load32_lane(p + 2 * stride, v, 2);
  return v128.load32_lane(p + 3 * stride, v, 3);
}

/** Stores lane k of v at p + k * stride. */
// @ts-ignore: decorator
@inline function scatter4(p: usize, stride: usize, v: v128): void {
  v128.store32_lane(p, v, 0);
  v128.store32_lane(p + stride, v, 1);
  v128.store32_lane(p + 2 * stride, v, 2);
  v128.store32_lane(p + 3 * stride, v, 3);
}

/**
 * The tail of a row of `size` elements at p (size not a multiple of 4): for size >= 4 the last
 * four elements (overlapping the vectors before them), else the first `size` with `fill` after.
 */
// @ts-ignore: decorator
@inline function loadEnd(p: usize, size: i32, fill: f32): v128 {
  return size >= 4 ? v128.load(p + (<usize>(size - 4) << 2)) : loadTail(p, size, fill);
}

/** Stores a tail vector from {@link loadEnd}'s position (overlapping lanes get identical values). */
// @ts-ignore: decorator
@inline function storeEnd(p: usize, size: i32, v: v128): void {
  if (size >= 4) v128.store(p + (<usize>(size - 4) << 2), v);
  else storeTail(p, size, v);
}

/** Lanes of a {@link loadEnd} vector that are new (not already covered by whole vectors). */
// @ts-ignore: decorator
@inline function endMask(size: i32): v128 {
  const tail = size & 3;
  return size >= 4 ? i32x4.gt_s(i32x4(0, 1, 2, 3), i32x4.splat(3 - tail)) : i32x4.splat(-1);
}

/**
 * Forward rows shorter than this go four at a time with one row per lane: short rows are bound by
 * per-row latency (max -> exp -> sum -> scale), four independent rows hide it (measured: 2.5 ns
 * an element at 10 against 5.7 by rows). The backward does this only below 4 elements.
 */
const LANE_ROWS: i32 = 12;

// ---------------------------------------------------------------------------------------------
// softmax: out = exp(x - m) / sum(exp(x - m)); log: out = (x - s) - log(sum(exp(x - s))) with
// s = m, or 0 when m is infinite. m is the row max (NaN when the row holds a NaN).

/** softmax of rows [r, r + 4) with row k in lane k (rows recomputed by an overlap write the same values). */
// @ts-ignore: decorator
@inline function softmax4(x: usize, o: usize, size: i32, rowBytes: usize, log: i32): void {
  let m = f32x4.splat(-Infinity);
  for (let j = 0; j < size; j++) m = f32x4.max(m, gather4(x + (<usize>j << 2), rowBytes));
  // log: shift by 0 where the max is infinite (or NaN)
  const sv = log ? v128.and(m, f32x4.lt(f32x4.abs(m), f32x4.splat(Infinity))) : m;
  let sum = f32x4.splat(0);
  if (log) {
    for (let j = 0; j < size; j++) sum = f32x4.add(sum, expf4(f32x4.sub(gather4(x + (<usize>j << 2), rowBytes), sv)));
    const ls = logf4(sum);
    for (let j = 0; j < size; j++) {
      const off = <usize>j << 2;
      scatter4(o + off, rowBytes, f32x4.sub(f32x4.sub(gather4(x + off, rowBytes), sv), ls));
    }
  } else {
    for (let j = 0; j < size; j++) {
      const off = <usize>j << 2;
      const e = expf4(f32x4.sub(gather4(x + off, rowBytes), sv));
      sum = f32x4.add(sum, e);
      scatter4(o + off, rowBytes, e);
    }
    const inv = f32x4.div(f32x4.splat(1), sum);
    for (let j = 0; j < size; j++) {
      const off = <usize>j << 2;
      scatter4(o + off, rowBytes, f32x4.mul(gather4(o + off, rowBytes), inv));
    }
  }
}

/** softmax of one row of `size` elements. */
// @ts-ignore: decorator
@inline function softmaxRow(x: usize, o: usize, size: i32, log: i32): void {
  const n4 = size & ~3;
  const tail = size & 3;
  const mask = endMask(size);
  // the row max
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let i = 0;
  for (; i + 8 <= size; i += 8) {
    m0 = f32x4.max(m0, v128.load(x + (<usize>i << 2)));
    m1 = f32x4.max(m1, v128.load(x + (<usize>i << 2), 16));
  }
  if (i < n4) m0 = f32x4.max(m0, v128.load(x + (<usize>i << 2)));
  if (tail) m1 = f32x4.max(m1, loadEnd(x, size, -Infinity));
  const m = hmax(f32x4.max(m0, m1));
  const shift: f32 = log && !isFinite<f32>(m) ? 0 : m;
  const sv = f32x4.splat(shift);
  // sum of exp(x - shift) (stored for softmax)
  let s0 = f32x4.splat(0);
  let s1 = s0;
  i = 0;
  if (log) {
    for (; i + 8 <= size; i += 8) {
      s0 = f32x4.add(s0, expf4(f32x4.sub(v128.load(x + (<usize>i << 2)), sv)));
      s1 = f32x4.add(s1, expf4(f32x4.sub(v128.load(x + (<usize>i << 2), 16), sv)));
    }
    if (i < n4) s0 = f32x4.add(s0, expf4(f32x4.sub(v128.load(x + (<usize>i << 2)), sv)));
    if (tail) s1 = f32x4.add(s1, v128.and(expf4(f32x4.sub(loadEnd(x, size, -Infinity), sv)), mask));
    const ls = f32x4.splat(<f32>Math.log(<f64>hsum(f32x4.add(s0, s1))));
    for (i = 0; i < n4; i += 4) {
      v128.store(o + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(x + (<usize>i << 2)), sv), ls));
    }
    if (tail) storeEnd(o, size, f32x4.sub(f32x4.sub(loadEnd(x, size, 0), sv), ls));
  } else {
    for (; i + 8 <= size; i += 8) {
      const e0 = expf4(f32x4.sub(v128.load(x + (<usize>i << 2)), sv));
      const e1 = expf4(f32x4.sub(v128.load(x + (<usize>i << 2), 16), sv));
      v128.store(o + (<usize>i << 2), e0);
      v128.store(o + (<usize>i << 2), e1, 16);
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
    }
    if (i < n4) {
      const e0 = expf4(f32x4.sub(v128.load(x + (<usize>i << 2)), sv));
      v128.store(o + (<usize>i << 2), e0);
      s0 = f32x4.add(s0, e0);
    }
    let et = f32x4.splat(0);
    if (tail) {
      et = expf4(f32x4.sub(loadEnd(x, size, -Infinity), sv));
      s1 = f32x4.add(s1, v128.and(et, mask));
    }
    const inv = f32x4.splat(<f32>(1.0 / <f64>hsum(f32x4.add(s0, s1))));
    for (i = 0; i < n4; i += 4) {
      v128.store(o + (<usize>i << 2), f32x4.mul(v128.load(o + (<usize>i << 2)), inv));
    }
    // after the whole vectors: the overlapping lanes get the same e * inv again
    if (tail) storeEnd(o, size, f32x4.mul(et, inv));
  }
}

export function softmax_f32(a: usize, out: usize, outer: i32, size: i32, log: i32, task: i32, ntasks: i32): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 2;
  if (size < LANE_ROWS && r1 - r0 >= 4) {
    // four rows at a time; the last group overlaps the one before when the count is not a multiple of 4
    for (let r = r0; r < r1; r += 4) {
      const rr = min(r, r1 - 4);
      softmax4(a + <usize>rr * rowBytes, out + <usize>rr * rowBytes, size, rowBytes, log);
    }
    return;
  }
  for (let r = r0; r < r1; r++) softmaxRow(a + <usize>r * rowBytes, out + <usize>r * rowBytes, size, log);
}

// softmax backward per row from y and g: out = y * (g - sum(g * y)); log: out = g - exp(y) * sum(g).

export function softmax_bwd_f32(y: usize, g: usize, out: usize, outer: i32, size: i32, log: i32, task: i32, ntasks: i32): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const n4 = size & ~3;
  const tail = size & 3;
  const mask = endMask(size);
  const rowBytes = <usize>size << 2;
  if (size < 4 && r1 - r0 >= 4) {
    // rows of 1 to 3 elements: four at a time, row k in lane k (overlapping last group)
    for (let r = r0; r < r1; r += 4) {
      const rr = min(r, r1 - 4);
      const yr = y + <usize>rr * rowBytes;
      const gr = g + <usize>rr * rowBytes;
      const o = out + <usize>rr * rowBytes;
      let sum = f32x4.splat(0);
      for (let j = 0; j < size; j++) {
        const off = <usize>j << 2;
        sum = log ? f32x4.add(sum, gather4(gr + off, rowBytes)) : madd4(gather4(gr + off, rowBytes), gather4(yr + off, rowBytes), sum);
      }
      for (let j = 0; j < size; j++) {
        const off = <usize>j << 2;
        const yv = gather4(yr + off, rowBytes);
        const gv = gather4(gr + off, rowBytes);
        scatter4(o + off, rowBytes, log ? f32x4.sub(gv, f32x4.mul(expf4(yv), sum)) : f32x4.mul(yv, f32x4.sub(gv, sum)));
      }
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    const yr = y + <usize>r * rowBytes;
    const gr = g + <usize>r * rowBytes;
    const o = out + <usize>r * rowBytes;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let i = 0;
    if (log) {
      for (; i + 8 <= size; i += 8) {
        s0 = f32x4.add(s0, v128.load(gr + (<usize>i << 2)));
        s1 = f32x4.add(s1, v128.load(gr + (<usize>i << 2), 16));
      }
      if (i < n4) s0 = f32x4.add(s0, v128.load(gr + (<usize>i << 2)));
      if (tail) s1 = f32x4.add(s1, v128.and(loadEnd(gr, size, 0), mask));
      const sv = f32x4.splat(hsum(f32x4.add(s0, s1)));
      for (i = 0; i < n4; i += 4) {
        const e = expf4(v128.load(yr + (<usize>i << 2)));
        v128.store(o + (<usize>i << 2), f32x4.sub(v128.load(gr + (<usize>i << 2)), f32x4.mul(e, sv)));
      }
      if (tail) storeEnd(o, size, f32x4.sub(loadEnd(gr, size, 0), f32x4.mul(expf4(loadEnd(yr, size, 0)), sv)));
    } else {
      for (; i + 8 <= size; i += 8) {
        s0 = madd4(v128.load(gr + (<usize>i << 2)), v128.load(yr + (<usize>i << 2)), s0);
        s1 = madd4(v128.load(gr + (<usize>i << 2), 16), v128.load(yr + (<usize>i << 2), 16), s1);
      }
      if (i < n4) s0 = madd4(v128.load(gr + (<usize>i << 2)), v128.load(yr + (<usize>i << 2)), s0);
      if (tail) s1 = f32x4.add(s1, v128.and(f32x4.mul(loadEnd(gr, size, 0), loadEnd(yr, size, 0)), mask));
      const sv = f32x4.splat(hsum(f32x4.add(s0, s1)));
      for (i = 0; i < n4; i += 4) {
        const d = f32x4.sub(v128.load(gr + (<usize>i << 2)), sv);
        v128.store(o + (<usize>i << 2), f32x4.mul(v128.load(yr + (<usize>i << 2)), d));
      }
      if (tail) storeEnd(o, size, f32x4.mul(loadEnd(yr, size, 0), f32x4.sub(loadEnd(gr, size, 0), sv)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// layer norm: per row mean and rstd = 1/sqrt(biased var + eps) (two passes; f32 partial sums of
// at most BLOCK elements gathered in f64), then out = (x - mean) * rstd * w + b. w, b: 0 = none.

const BLOCK: i32 = 1024;

/** Sum of x[i] (or of (x[i] - c)^2 when `sq`) over [0, n), in f64 across blocks. */
// @ts-ignore: decorator
@inline function rowSum(x: usize, n: i32, c: f32, sq: bool): f64 {
  const cv = f32x4.splat(c);
  let total: f64 = 0;
  for (let b = 0; b < n; b += BLOCK) {
    const e = min(b + BLOCK, n);
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let i = b;
    for (; i + 8 <= e; i += 8) {
      let v0 = v128.load(x + (<usize>i << 2));
      let v1 = v128.load(x + (<usize>i << 2), 16);
      if (sq) {
        v0 = f32x4.sub(v0, cv);
        v1 = f32x4.sub(v1, cv);
        s0 = madd4(v0, v0, s0);
        s1 = madd4(v1, v1, s1);
      } else {
        s0 = f32x4.add(s0, v0);
        s1 = f32x4.add(s1, v1);
      }
    }
    let t: f32 = hsum(f32x4.add(s0, s1));
    for (; i < e; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      t += sq ? (v - c) * (v - c) : v;
    }
    total += <f64>t;
  }
  return total;
}

export function layernorm_f32(
  x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize,
  outer: i32, size: i32, eps: f32, task: i32, ntasks: i32,
): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 2;
  const n4 = size & ~3;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes;
    const o = out + <usize>r * rowBytes;
    const mu = <f32>(rowSum(xr, size, 0, false) / <f64>size);
    const rs = <f32>(1.0 / Math.sqrt(<f64>(<f32>(rowSum(xr, size, mu, true) / <f64>size) + eps)));
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const mv = f32x4.splat(mu);
    const rv = f32x4.splat(rs);
    let i = 0;
    if (w && b) {
      for (; i < n4; i += 4) {
        const y = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + (<usize>i << 2)), mv), rv), v128.load(w + (<usize>i << 2)));
        v128.store(o + (<usize>i << 2), f32x4.add(y, v128.load(b + (<usize>i << 2))));
      }
    } else if (w) {
      for (; i < n4; i += 4) {
        const y = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + (<usize>i << 2)), mv), rv), v128.load(w + (<usize>i << 2)));
        v128.store(o + (<usize>i << 2), y);
      }
    } else if (b) {
      for (; i < n4; i += 4) {
        const y = f32x4.mul(f32x4.sub(v128.load(xr + (<usize>i << 2)), mv), rv);
        v128.store(o + (<usize>i << 2), f32x4.add(y, v128.load(b + (<usize>i << 2))));
      }
    } else {
      for (; i < n4; i += 4) {
        v128.store(o + (<usize>i << 2), f32x4.mul(f32x4.sub(v128.load(xr + (<usize>i << 2)), mv), rv));
      }
    }
    for (; i < size; i++) {
      let y = (load<f32>(xr + (<usize>i << 2)) - mu) * rs;
      if (w) y *= load<f32>(w + (<usize>i << 2));
      if (b) y += load<f32>(b + (<usize>i << 2));
      store<f32>(o + (<usize>i << 2), y);
    }
  }
}

// layer norm backward, from the saved mean and rstd (xhat = (x - mean) * rstd, gh = g * w):
// layernorm_bwd_f32 (threads split rows): gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat));
// layernorm_bwd_wb_f32 (threads split columns): gw = sum over rows of g * xhat, gb = sum of g.

export function layernorm_bwd_f32(
  g: usize, x: usize, w: usize, mean: usize, rstd: usize, gx: usize,
  outer: i32, size: i32, task: i32, ntasks: i32,
): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 2;
  const one = f32x4.splat(1);
  for (let r = r0; r < r1; r++) {
    const gr = g + <usize>r * rowBytes;
    const xr = x + <usize>r * rowBytes;
    const o = gx + <usize>r * rowBytes;
    const mu = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const mv = f32x4.splat(mu);
    const rv = f32x4.splat(rs);
    // sums of gh and gh * xhat (f32 partial sums per block, gathered in f64)
    let ta: f64 = 0;
    let tc: f64 = 0;
    for (let bs = 0; bs < size; bs += BLOCK) {
      const e = min(bs + BLOCK, size);
      let a0 = f32x4.splat(0);
      let c0 = a0;
      let i = bs;
      for (; i + 4 <= e; i += 4) {
        const off = <usize>i << 2;
        const gh = f32x4.mul(v128.load(gr + off), w ? v128.load(w + off) : one);
        const xh = f32x4.mul(f32x4.sub(v128.load(xr + off), mv), rv);
        a0 = f32x4.add(a0, gh);
        c0 = madd4(gh, xh, c0);
      }
      let sa: f32 = hsum(a0);
      let sc: f32 = hsum(c0);
      for (; i < e; i++) {
        const off = <usize>i << 2;
        const gh = load<f32>(gr + off) * (w ? load<f32>(w + off) : 1);
        sa += gh;
        sc += gh * ((load<f32>(xr + off) - mu) * rs);
      }
      ta += <f64>sa;
      tc += <f64>sc;
    }
    const av = f32x4.splat(<f32>(ta / <f64>size));
    const cv = f32x4.splat(<f32>(tc / <f64>size));
    const ma = <f32>(ta / <f64>size);
    const mc = <f32>(tc / <f64>size);
    let i = 0;
    for (; i + 4 <= size; i += 4) {
      const off = <usize>i << 2;
      const gh = f32x4.mul(v128.load(gr + off), w ? v128.load(w + off) : one);
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + off), mv), rv);
      v128.store(o + off, f32x4.mul(rv, f32x4.sub(f32x4.sub(gh, av), f32x4.mul(xh, cv))));
    }
    for (; i < size; i++) {
      const off = <usize>i << 2;
      const gh = load<f32>(gr + off) * (w ? load<f32>(w + off) : 1);
      const xh = (load<f32>(xr + off) - mu) * rs;
      store<f32>(o + off, rs * ((gh - ma) - xh * mc));
    }
  }
}

export function layernorm_bwd_wb_f32(
  g: usize, x: usize, mean: usize, rstd: usize, gw: usize, gb: usize,
  outer: i32, size: i32, task: i32, ntasks: i32,
): void {
  const c0 = partStart(size, task, ntasks, 16);
  const c1 = partStart(size, task + 1, ntasks, 16);
  if (c0 >= c1) return;
  const rowBytes = <usize>size << 2;
  for (let j = c0; j < c1; j++) {
    if (gw) store<f32>(gw + (<usize>j << 2), 0);
    if (gb) store<f32>(gb + (<usize>j << 2), 0);
  }
  const j4 = c0 + ((c1 - c0) & ~3);
  for (let r = 0; r < outer; r++) {
    const gr = g + <usize>r * rowBytes;
    const xr = x + <usize>r * rowBytes;
    const mu = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const mv = f32x4.splat(mu);
    const rv = f32x4.splat(rs);
    let j = c0;
    for (; j < j4; j += 4) {
      const off = <usize>j << 2;
      const gv = v128.load(gr + off);
      if (gw) {
        const xh = f32x4.mul(f32x4.sub(v128.load(xr + off), mv), rv);
        v128.store(gw + off, madd4(gv, xh, v128.load(gw + off)));
      }
      if (gb) v128.store(gb + off, f32x4.add(v128.load(gb + off), gv));
    }
    for (; j < c1; j++) {
      const off = <usize>j << 2;
      const gv = load<f32>(gr + off);
      if (gw) store<f32>(gw + off, load<f32>(gw + off) + gv * ((load<f32>(xr + off) - mu) * rs));
      if (gb) store<f32>(gb + off, load<f32>(gb + off) + gv);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW, torch.optim's order of operations in f32:
//   g = sign * grad; g += l2 * p (Adam); p *= decay (AdamW); m = b1*m + c1*g; v = b2*v + c2*g*g;
//   p += negStep * (m / (sqrt(v) / bc2s + eps))
// Outputs may alias inputs. Separate mul and add (no fused madd) keep torch's rounding.

/** One element of the Adam step at byte offset `off` (the vector loops' scalar tail; T: f32 or f64). */
// @ts-ignore: decorator
@inline function adamOne<T>(
  off: usize, p: usize, g: usize, m: usize, v: usize, po: usize, mo: usize, vo: usize,
  sign: T, l2: T, decay: T, b1: T, c1: T, b2: T, c2: T, negStep: T, bc2s: T, eps: T, useL2: bool, useDecay: bool,
): void {
  let pi = load<T>(p + off);
  let gi = sign * load<T>(g + off);
  if (useL2) gi = gi + l2 * pi;
  if (useDecay) pi = pi * decay;
  const mi = b1 * load<T>(m + off) + c1 * gi;
  const vi = b2 * load<T>(v + off) + c2 * (gi * gi);
  const denom = sqrt<T>(vi) / bc2s + eps;
  store<T>(po + off, pi + negStep * (mi / denom));
  store<T>(mo + off, mi);
  store<T>(vo + off, vi);
}

export function adam_f32(
  p: usize, g: usize, m: usize, v: usize, po: usize, mo: usize, vo: usize, n: i32,
  sign: f32, l2: f32, decay: f32, b1: f32, c1: f32, b2: f32, c2: f32, negStep: f32, bc2s: f32, eps: f32,
  task: i32, ntasks: i32,
): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const signV = f32x4.splat(sign), l2V = f32x4.splat(l2), decayV = f32x4.splat(decay);
  const b1V = f32x4.splat(b1), c1V = f32x4.splat(c1), b2V = f32x4.splat(b2), c2V = f32x4.splat(c2);
  const stepV = f32x4.splat(negStep), bcV = f32x4.splat(bc2s), epsV = f32x4.splat(eps);
  const useL2 = l2 != 0;
  const useDecay = decay != 1;
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const off = <usize>i << 2;
    let pv = v128.load(p + off);
    let gv = f32x4.mul(v128.load(g + off), signV);
    if (useL2) gv = f32x4.add(gv, f32x4.mul(l2V, pv));
    if (useDecay) pv = f32x4.mul(pv, decayV);
    const mv = f32x4.add(f32x4.mul(b1V, v128.load(m + off)), f32x4.mul(c1V, gv));
    const vv = f32x4.add(f32x4.mul(b2V, v128.load(v + off)), f32x4.mul(c2V, f32x4.mul(gv, gv)));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bcV), epsV);
    v128.store(po + off, f32x4.add(pv, f32x4.mul(stepV, f32x4.div(mv, denom))));
    v128.store(mo + off, mv);
    v128.store(vo + off, vv);
  }
  for (; i < e; i++) {
    adamOne<f32>(<usize>i << 2, p, g, m, v, po, mo, vo, sign, l2, decay, b1, c1, b2, c2, negStep, bc2s, eps, useL2, useDecay);
  }
}

// ---------------------------------------------------------------------------------------------
// Batch normalization (training) of a compact (n, c, inner) float32 array, per channel over the
// n * inner elements, with the reference's (cpu/fused.ts) per-element f32 rounding:
// mean = f32(f32(sum x) / m), d = x - mean, var = f32(f32(sum d*d) / m), sums accumulating in f64
// in the order n then inner; rstd = f32(1 / sqrt(f64(var + eps))); y = ((x - mean) * rstd) * w + b.
// With running statistics: rmo = rm * keep + mean * mom; rvo = rv * keep + (var * unbias) * mom.
// inner == 1 ((N, C) inputs) runs four channels per vector (each channel's sum still in order);
// inner > 1 runs channel by channel. Tasks split the channels (in fours).

/** The per-channel statistics and running updates of one channel ch from its two sums. */
// @ts-ignore: decorator
@inline function bnChannelStats(
  ch: i32, s: f64, fm: f32, mean: usize, vr: usize, rstd: usize, q: f64, eps: f32,
  rm: usize, rv: usize, rmo: usize, rvo: usize, keep: f32, mom: f32, unbias: f32,
): f32 {
  const v = <f32>q / fm;
  const r = <f32>(1.0 / Math.sqrt(<f64>(v + eps)));
  const off = <usize>ch << 2;
  store<f32>(vr + off, v);
  store<f32>(rstd + off, r);
  if (rm) {
    const mu = load<f32>(mean + off);
    store<f32>(rmo + off, load<f32>(rm + off) * keep + mu * mom);
    store<f32>(rvo + off, load<f32>(rv + off) * keep + (v * unbias) * mom);
  }
  return r;
}

export function batchnorm_f32(
  x: usize, w: usize, b: usize, out: usize, mean: usize, vr: usize, rstd: usize,
  n: i32, c: i32, inner: i32, eps: f32,
  rm: usize, rv: usize, rmo: usize, rvo: usize, keep: f32, mom: f32, unbias: f32,
  task: i32, ntasks: i32,
): void {
  const c0 = partStart(c, task, ntasks, 4);
  const c1 = partStart(c, task + 1, ntasks, 4);
  const fm = <f32>(<f64>n * <f64>inner);
  const rowBytes = <usize>c * <usize>inner << 2;
  let ch = c0;
  if (inner == 1) {
    for (; ch + 4 <= c1; ch += 4) {
      const col = x + (<usize>ch << 2);
      let s0 = f64x2.splat(0), s1 = s0;
      let p = col;
      for (let i = 0; i < n; i++, p += rowBytes) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v128.load64_zero(p)));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.load64_zero(p, 8)));
      }
      const mu = f32x4(
        <f32>f64x2.extract_lane(s0, 0) / fm, <f32>f64x2.extract_lane(s0, 1) / fm,
        <f32>f64x2.extract_lane(s1, 0) / fm, <f32>f64x2.extract_lane(s1, 1) / fm,
      );
      v128.store(mean + (<usize>ch << 2), mu);
      let q0 = f64x2.splat(0), q1 = q0;
      p = col;
      for (let i = 0; i < n; i++, p += rowBytes) {
        const d = f32x4.sub(v128.load(p), mu);
        const dd = f32x4.mul(d, d);
        q0 = f64x2.add(q0, f64x2.promote_low_f32x4(dd));
        q1 = f64x2.add(q1, f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 2, 3, 0, 1)));
      }
      const r = f32x4(
        bnChannelStats(ch, 0, fm, mean, vr, rstd, f64x2.extract_lane(q0, 0), eps, rm, rv, rmo, rvo, keep, mom, unbias),
        bnChannelStats(ch + 1, 0, fm, mean, vr, rstd, f64x2.extract_lane(q0, 1), eps, rm, rv, rmo, rvo, keep, mom, unbias),
        bnChannelStats(ch + 2, 0, fm, mean, vr, rstd, f64x2.extract_lane(q1, 0), eps, rm, rv, rmo, rvo, keep, mom, unbias),
        bnChannelStats(ch + 3, 0, fm, mean, vr, rstd, f64x2.extract_lane(q1, 1), eps, rm, rv, rmo, rvo, keep, mom, unbias),
      );
      const wv = w ? v128.load(w + (<usize>ch << 2)) : f32x4.splat(1);
      const bv = b ? v128.load(b + (<usize>ch << 2)) : f32x4.splat(0);
      p = col;
      let po = out + (<usize>ch << 2);
      for (let i = 0; i < n; i++, p += rowBytes, po += rowBytes) {
        let y = f32x4.mul(f32x4.sub(v128.load(p), mu), r);
        if (w) y = f32x4.mul(y, wv);
        if (b) y = f32x4.add(y, bv);
        v128.store(po, y);
      }
    }
  }
  const cs = <usize>inner << 2;
  for (; ch < c1; ch++) {
    const first = x + <usize>ch * cs;
    let s: f64 = 0;
    let p = first;
    for (let i = 0; i < n; i++, p += rowBytes) {
      for (let l = 0; l < inner; l++) s += <f64>load<f32>(p + (<usize>l << 2));
    }
    const mu = <f32>s / fm;
    store<f32>(mean + (<usize>ch << 2), mu);
    let q: f64 = 0;
    p = first;
    for (let i = 0; i < n; i++, p += rowBytes) {
      for (let l = 0; l < inner; l++) {
        const d = load<f32>(p + (<usize>l << 2)) - mu;
        q += <f64>(d * d);
      }
    }
    const r = bnChannelStats(ch, s, fm, mean, vr, rstd, q, eps, rm, rv, rmo, rvo, keep, mom, unbias);
    const wc: f32 = w ? load<f32>(w + (<usize>ch << 2)) : 1;
    const bc: f32 = b ? load<f32>(b + (<usize>ch << 2)) : 0;
    p = first;
    let po = out + <usize>ch * cs;
    for (let i = 0; i < n; i++, p += rowBytes, po += rowBytes) {
      for (let l = 0; l < inner; l++) {
        let y = (load<f32>(p + (<usize>l << 2)) - mu) * r;
        if (w) y = y * wc;
        if (b) y = y + bc;
        store<f32>(po + (<usize>l << 2), y);
      }
    }
  }
}

// Batch normalization backward from the saved mean and rstd, in f64 like the reference (values
// rounded once on store): with xhat = (x - mean) * rstd, per channel sg = sum g, sgx = sum g xhat
// (order n then inner); gw = sgx, gb = sg; a = sg w / m, cc = sgx w / m;
// gx = rstd * ((g w - a) - xhat cc). Null outputs are skipped. Tasks split the channels.

export function batchnorm_bwd_f32(
  g: usize, x: usize, w: usize, mean: usize, rstd: usize, gx: usize, gw: usize, gb: usize,
  n: i32, c: i32, inner: i32, task: i32, ntasks: i32,
): void {
  const c0 = partStart(c, task, ntasks, 4);
  const c1 = partStart(c, task + 1, ntasks, 4);
  const m = <f64>n * <f64>inner;
  const rowBytes = <usize>c * <usize>inner << 2;
  let ch = c0;
  if (inner == 1) {
    for (; ch + 4 <= c1; ch += 4) {
      const off = <usize>ch << 2;
      const mu0 = f64x2.promote_low_f32x4(v128.load64_zero(mean + off));
      const mu1 = f64x2.promote_low_f32x4(v128.load64_zero(mean + off, 8));
      const rs0 = f64x2.promote_low_f32x4(v128.load64_zero(rstd + off));
      const rs1 = f64x2.promote_low_f32x4(v128.load64_zero(rstd + off, 8));
      let sg0 = f64x2.splat(0), sg1 = sg0, sx0 = sg0, sx1 = sg0;
      for (let i = 0, p = off; i < n; i++, p += rowBytes) {
        const g0 = f64x2.promote_low_f32x4(v128.load64_zero(g + p));
        const g1 = f64x2.promote_low_f32x4(v128.load64_zero(g + p, 8));
        const x0 = f64x2.promote_low_f32x4(v128.load64_zero(x + p));
        const x1 = f64x2.promote_low_f32x4(v128.load64_zero(x + p, 8));
        sg0 = f64x2.add(sg0, g0);
        sg1 = f64x2.add(sg1, g1);
        sx0 = f64x2.add(sx0, f64x2.mul(g0, f64x2.mul(f64x2.sub(x0, mu0), rs0)));
        sx1 = f64x2.add(sx1, f64x2.mul(g1, f64x2.mul(f64x2.sub(x1, mu1), rs1)));
      }
      if (gw) {
        v128.store64_lane(gw + off, f32x4.demote_f64x2_zero(sx0), 0);
        v128.store64_lane(gw + off + 8, f32x4.demote_f64x2_zero(sx1), 0);
      }
      if (gb) {
        v128.store64_lane(gb + off, f32x4.demote_f64x2_zero(sg0), 0);
        v128.store64_lane(gb + off + 8, f32x4.demote_f64x2_zero(sg1), 0);
      }
      if (!gx) continue;
      const one = f64x2.splat(1);
      const w0 = w ? f64x2.promote_low_f32x4(v128.load64_zero(w + off)) : one;
      const w1 = w ? f64x2.promote_low_f32x4(v128.load64_zero(w + off, 8)) : one;
      const mv = f64x2.splat(m);
      const a0 = f64x2.div(f64x2.mul(sg0, w0), mv), a1 = f64x2.div(f64x2.mul(sg1, w1), mv);
      const k0 = f64x2.div(f64x2.mul(sx0, w0), mv), k1 = f64x2.div(f64x2.mul(sx1, w1), mv);
      for (let i = 0, p = off; i < n; i++, p += rowBytes) {
        const g0 = f64x2.promote_low_f32x4(v128.load64_zero(g + p));
        const g1 = f64x2.promote_low_f32x4(v128.load64_zero(g + p, 8));
        const xh0 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + p)), mu0), rs0);
        const xh1 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + p, 8)), mu1), rs1);
        const r0 = f64x2.mul(rs0, f64x2.sub(f64x2.sub(f64x2.mul(g0, w0), a0), f64x2.mul(xh0, k0)));
        const r1 = f64x2.mul(rs1, f64x2.sub(f64x2.sub(f64x2.mul(g1, w1), a1), f64x2.mul(xh1, k1)));
        v128.store64_lane(gx + p, f32x4.demote_f64x2_zero(r0), 0);
        v128.store64_lane(gx + p + 8, f32x4.demote_f64x2_zero(r1), 0);
      }
    }
  }
  const cs = <usize>inner << 2;
  for (; ch < c1; ch++) {
    const mu = <f64>load<f32>(mean + (<usize>ch << 2));
    const rs = <f64>load<f32>(rstd + (<usize>ch << 2));
    const wc: f64 = w ? <f64>load<f32>(w + (<usize>ch << 2)) : 1;
    let sg: f64 = 0;
    let sgx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const base = <usize>i * rowBytes + <usize>ch * cs;
      for (let l = 0; l < inner; l++) {
        const o = base + (<usize>l << 2);
        const gv = <f64>load<f32>(g + o);
        sg += gv;
        sgx += gv * ((<f64>load<f32>(x + o) - mu) * rs);
      }
    }
    if (gw) store<f32>(gw + (<usize>ch << 2), <f32>sgx);
    if (gb) store<f32>(gb + (<usize>ch << 2), <f32>sg);
    if (!gx) continue;
    const a = (sg * wc) / m;
    const cc = (sgx * wc) / m;
    for (let i = 0; i < n; i++) {
      const base = <usize>i * rowBytes + <usize>ch * cs;
      for (let l = 0; l < inner; l++) {
        const o = base + (<usize>l << 2);
        const xh = (<f64>load<f32>(x + o) - mu) * rs;
        store<f32>(gx + o, <f32>(rs * ((<f64>load<f32>(g + o) * wc - a) - xh * cc)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// float64: softmax_f64, softmax_bwd_f64, layernorm_f64, layernorm_bwd_f64, layernorm_bwd_wb_f64,
// adam_f64, batchnorm_f64, batchnorm_bwd_f64 port the reference (src/ndarray/cpu/fused.ts, which
// computes in f64) operation for operation: every sum adds its terms one by one in the
// reference's order (f64x2 only where its lanes are independent sums: four rows at a time in two
// vectors for softmax_bwd_f64, layernorm_f64 and layernorm_bwd_f64, two columns for
// layernorm_bwd_wb_f64, two or four channels for batch norm), and element-wise passes use
// f64x2 (the same correctly rounded operations). Results therefore equal the reference's bit for
// bit, except softmax's exp and log (AssemblyScript's musl Math.exp / Math.log, within ~2 ulp of
// V8's; softmax_bwd_f64's log case too), and never depend on the thread split, which is the
// float32 kernels' (rows, columns, ranges; channels in twos). No fused multiply-add anywhere.

/** The reference's row max: ties keep the first value, a NaN ends the scan (the max is then NaN). */
// @ts-ignore: decorator
@inline function rowMax64(x: usize, size: i32): f64 {
  let m: f64 = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = load<f64>(x + (<usize>i << 3));
    if (v > m || v != v) m = v;
    if (m != m) break;
  }
  return m;
}

/** Lane k = the f64 at p + k * stride (one element of each of two rows). */
// @ts-ignore: decorator
@inline function gather2(p: usize, stride: usize): v128 {
  return v128.load64_lane(p + stride, v128.load64_zero(p), 1);
}

export function softmax_f64(a: usize, out: usize, outer: i32, size: i32, log: i32, task: i32, ntasks: i32): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 3;
  const n2 = size & ~1;
  for (let r = r0; r < r1; r++) {
    const x = a + <usize>r * rowBytes;
    const o = out + <usize>r * rowBytes;
    const m = rowMax64(x, size);
    const shift: f64 = log && !isFinite<f64>(m) ? 0 : m;
    let s: f64 = 0;
    if (log) {
      for (let i = 0; i < size; i++) s += Math.exp(load<f64>(x + (<usize>i << 3)) - shift);
      const ls = Math.log(s);
      const sv = f64x2.splat(shift);
      const lv = f64x2.splat(ls);
      let i = 0;
      for (; i < n2; i += 2) {
        const off = <usize>i << 3;
        v128.store(o + off, f64x2.sub(f64x2.sub(v128.load(x + off), sv), lv));
      }
      if (i < size) store<f64>(o + (<usize>i << 3), load<f64>(x + (<usize>i << 3)) - shift - ls);
    } else {
      for (let i = 0; i < size; i++) {
        const e = Math.exp(load<f64>(x + (<usize>i << 3)) - shift);
        store<f64>(o + (<usize>i << 3), e);
        s += e;
      }
      const sv = f64x2.splat(s);
      let i = 0;
      for (; i < n2; i += 2) {
        const off = <usize>i << 3;
        v128.store(o + off, f64x2.div(v128.load(o + off), sv));
      }
      if (i < size) store<f64>(o + (<usize>i << 3), load<f64>(o + (<usize>i << 3)) / s);
    }
  }
}

/** softmax backward's output pass over one row, from its sum s. */
// @ts-ignore: decorator
@inline function softmaxBwdRowOut64(yr: usize, gr: usize, o: usize, size: i32, log: i32, s: f64): void {
  if (log) {
    for (let i = 0; i < size; i++) {
      const off = <usize>i << 3;
      store<f64>(o + off, load<f64>(gr + off) - Math.exp(load<f64>(yr + off)) * s);
    }
    return;
  }
  const sv = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= size; i += 2) {
    const off = <usize>i << 3;
    v128.store(o + off, f64x2.mul(v128.load(yr + off), f64x2.sub(v128.load(gr + off), sv)));
  }
  if (i < size) {
    const off = <usize>i << 3;
    store<f64>(o + off, load<f64>(yr + off) * (load<f64>(gr + off) - s));
  }
}

export function softmax_bwd_f64(y: usize, g: usize, out: usize, outer: i32, size: i32, log: i32, task: i32, ntasks: i32): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 3;
  let r = r0;
  // the sums four rows at a time, one row per lane (each row's sum in order)
  for (; r + 4 <= r1; r += 4) {
    const rb = <usize>r * rowBytes;
    const yr = y + rb;
    const gr = g + rb;
    let s0 = f64x2.splat(0);
    let s1 = s0;
    if (log) {
      for (let i = 0; i < size; i++) {
        const off = <usize>i << 3;
        s0 = f64x2.add(s0, gather2(gr + off, rowBytes));
        s1 = f64x2.add(s1, gather2(gr + off + 2 * rowBytes, rowBytes));
      }
    } else {
      for (let i = 0; i < size; i++) {
        const off = <usize>i << 3;
        s0 = f64x2.add(s0, f64x2.mul(gather2(gr + off, rowBytes), gather2(yr + off, rowBytes)));
        s1 = f64x2.add(s1, f64x2.mul(gather2(gr + off + 2 * rowBytes, rowBytes), gather2(yr + off + 2 * rowBytes, rowBytes)));
      }
    }
    const o = out + rb;
    softmaxBwdRowOut64(yr, gr, o, size, log, f64x2.extract_lane(s0, 0));
    softmaxBwdRowOut64(yr + rowBytes, gr + rowBytes, o + rowBytes, size, log, f64x2.extract_lane(s0, 1));
    const rb2 = 2 * rowBytes;
    const rb3 = 3 * rowBytes;
    softmaxBwdRowOut64(yr + rb2, gr + rb2, o + rb2, size, log, f64x2.extract_lane(s1, 0));
    softmaxBwdRowOut64(yr + rb3, gr + rb3, o + rb3, size, log, f64x2.extract_lane(s1, 1));
  }
  for (; r < r1; r++) {
    const rb = <usize>r * rowBytes;
    const yr = y + rb;
    const gr = g + rb;
    let s: f64 = 0;
    if (log) {
      for (let i = 0; i < size; i++) s += load<f64>(gr + (<usize>i << 3));
    } else {
      for (let i = 0; i < size; i++) {
        const off = <usize>i << 3;
        s += load<f64>(gr + off) * load<f64>(yr + off);
      }
    }
    softmaxBwdRowOut64(yr, gr, out + rb, size, log, s);
  }
}

// layer norm: mean = sum(x) / size, q = sum((x - mean)^2), rstd = 1 / sqrt(q / size + eps),
// out = (x - mean) * rstd * w + b; backward with a = mean(gh), c = mean(gh (x - mean) rstd):
// gx = rstd (gh - a - (x - mean) rstd c); gw = sum over rows of g (x - mean) rstd, gb = sum of g.
// The row sums go four rows at a time, one row per lane of two f64x2 (four independent sums, each
// adding its row in order: the sequential sums' latency hidden, the results unchanged).

/** layer norm's output pass over one row, from its mean and rstd. */
// @ts-ignore: decorator
@inline function lnRowOut64(xr: usize, w: usize, b: usize, o: usize, size: i32, mu: f64, rs: f64): void {
  const mv = f64x2.splat(mu);
  const rv = f64x2.splat(rs);
  let i = 0;
  for (; i + 2 <= size; i += 2) {
    const off = <usize>i << 3;
    let v = f64x2.mul(f64x2.sub(v128.load(xr + off), mv), rv);
    if (w) v = f64x2.mul(v, v128.load(w + off));
    if (b) v = f64x2.add(v, v128.load(b + off));
    v128.store(o + off, v);
  }
  if (i < size) {
    const off = <usize>i << 3;
    let v = (load<f64>(xr + off) - mu) * rs;
    if (w) v *= load<f64>(w + off);
    if (b) v += load<f64>(b + off);
    store<f64>(o + off, v);
  }
}

export function layernorm_f64(
  x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize,
  outer: i32, size: i32, eps: f64, task: i32, ntasks: i32,
): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 3;
  const sz = f64x2.splat(<f64>size);
  const ev = f64x2.splat(eps);
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const xr = x + <usize>r * rowBytes;
    const xr2 = xr + 2 * rowBytes;
    let s0 = f64x2.splat(0);
    let s1 = s0;
    for (let i = 0; i < size; i++) {
      const off = <usize>i << 3;
      s0 = f64x2.add(s0, gather2(xr + off, rowBytes));
      s1 = f64x2.add(s1, gather2(xr2 + off, rowBytes));
    }
    const mu0 = f64x2.div(s0, sz);
    const mu1 = f64x2.div(s1, sz);
    let q0 = f64x2.splat(0);
    let q1 = q0;
    for (let i = 0; i < size; i++) {
      const off = <usize>i << 3;
      const d0 = f64x2.sub(gather2(xr + off, rowBytes), mu0);
      const d1 = f64x2.sub(gather2(xr2 + off, rowBytes), mu1);
      q0 = f64x2.add(q0, f64x2.mul(d0, d0));
      q1 = f64x2.add(q1, f64x2.mul(d1, d1));
    }
    const one = f64x2.splat(1);
    const rs0 = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(q0, sz), ev)));
    const rs1 = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(q1, sz), ev)));
    const ro = <usize>r << 3;
    v128.store(mean + ro, mu0);
    v128.store(mean + ro, mu1, 16);
    v128.store(rstd + ro, rs0);
    v128.store(rstd + ro, rs1, 16);
    for (let k = 0; k < 4; k++) {
      const rb = <usize>(r + k) * rowBytes;
      lnRowOut64(x + rb, w, b, out + rb, size, load<f64>(mean + ro + (<usize>k << 3)), load<f64>(rstd + ro + (<usize>k << 3)));
    }
  }
  for (; r < r1; r++) {
    const xr = x + <usize>r * rowBytes;
    let s: f64 = 0;
    for (let i = 0; i < size; i++) s += load<f64>(xr + (<usize>i << 3));
    const mu = s / <f64>size;
    let q: f64 = 0;
    for (let i = 0; i < size; i++) {
      const d = load<f64>(xr + (<usize>i << 3)) - mu;
      q += d * d;
    }
    const rs = 1 / Math.sqrt(q / <f64>size + eps);
    store<f64>(mean + (<usize>r << 3), mu);
    store<f64>(rstd + (<usize>r << 3), rs);
    lnRowOut64(xr, w, b, out + <usize>r * rowBytes, size, mu, rs);
  }
}

/** layer norm backward's gx pass over one row, from its mean, rstd and the means a and c. */
// @ts-ignore: decorator
@inline function lnBwdRowOut64(gr: usize, xr: usize, w: usize, o: usize, size: i32, mu: f64, rs: f64, a: f64, c: f64): void {
  const mv = f64x2.splat(mu);
  const rv = f64x2.splat(rs);
  const av = f64x2.splat(a);
  const cv = f64x2.splat(c);
  let i = 0;
  for (; i + 2 <= size; i += 2) {
    const off = <usize>i << 3;
    const gh = w ? f64x2.mul(v128.load(gr + off), v128.load(w + off)) : v128.load(gr + off);
    const xh = f64x2.mul(f64x2.sub(v128.load(xr + off), mv), rv);
    v128.store(o + off, f64x2.mul(rv, f64x2.sub(f64x2.sub(gh, av), f64x2.mul(xh, cv))));
  }
  if (i < size) {
    const off = <usize>i << 3;
    const gh = w ? load<f64>(gr + off) * load<f64>(w + off) : load<f64>(gr + off);
    store<f64>(o + off, rs * (gh - a - (load<f64>(xr + off) - mu) * rs * c));
  }
}

export function layernorm_bwd_f64(
  g: usize, x: usize, w: usize, mean: usize, rstd: usize, gx: usize,
  outer: i32, size: i32, task: i32, ntasks: i32,
): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  const rowBytes = <usize>size << 3;
  const sz = f64x2.splat(<f64>size);
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const rb = <usize>r * rowBytes;
    const gr = g + rb;
    const xr = x + rb;
    const ro = <usize>r << 3;
    const mu0 = v128.load(mean + ro);
    const mu1 = v128.load(mean + ro, 16);
    const rs0 = v128.load(rstd + ro);
    const rs1 = v128.load(rstd + ro, 16);
    let a0 = f64x2.splat(0);
    let a1 = a0;
    let c0 = a0;
    let c1 = a0;
    for (let i = 0; i < size; i++) {
      const off = <usize>i << 3;
      let g0 = gather2(gr + off, rowBytes);
      let g1 = gather2(gr + off + 2 * rowBytes, rowBytes);
      if (w) {
        const wv = v128.load64_splat(w + off);
        g0 = f64x2.mul(g0, wv);
        g1 = f64x2.mul(g1, wv);
      }
      a0 = f64x2.add(a0, g0);
      a1 = f64x2.add(a1, g1);
      c0 = f64x2.add(c0, f64x2.mul(f64x2.mul(g0, f64x2.sub(gather2(xr + off, rowBytes), mu0)), rs0));
      c1 = f64x2.add(c1, f64x2.mul(f64x2.mul(g1, f64x2.sub(gather2(xr + off + 2 * rowBytes, rowBytes), mu1)), rs1));
    }
    a0 = f64x2.div(a0, sz);
    a1 = f64x2.div(a1, sz);
    c0 = f64x2.div(c0, sz);
    c1 = f64x2.div(c1, sz);
    lnBwdRowOut64(gr, xr, w, gx + rb, size, f64x2.extract_lane(mu0, 0), f64x2.extract_lane(rs0, 0), f64x2.extract_lane(a0, 0), f64x2.extract_lane(c0, 0));
    lnBwdRowOut64(gr + rowBytes, xr + rowBytes, w, gx + rb + rowBytes, size, f64x2.extract_lane(mu0, 1), f64x2.extract_lane(rs0, 1), f64x2.extract_lane(a0, 1), f64x2.extract_lane(c0, 1));
    const rb2 = 2 * rowBytes;
    const rb3 = 3 * rowBytes;
    lnBwdRowOut64(gr + rb2, xr + rb2, w, gx + rb + rb2, size, f64x2.extract_lane(mu1, 0), f64x2.extract_lane(rs1, 0), f64x2.extract_lane(a1, 0), f64x2.extract_lane(c1, 0));
    lnBwdRowOut64(gr + rb3, xr + rb3, w, gx + rb + rb3, size, f64x2.extract_lane(mu1, 1), f64x2.extract_lane(rs1, 1), f64x2.extract_lane(a1, 1), f64x2.extract_lane(c1, 1));
  }
  for (; r < r1; r++) {
    const rb = <usize>r * rowBytes;
    const gr = g + rb;
    const xr = x + rb;
    const mu = load<f64>(mean + (<usize>r << 3));
    const rs = load<f64>(rstd + (<usize>r << 3));
    let a: f64 = 0;
    let c: f64 = 0;
    for (let i = 0; i < size; i++) {
      const off = <usize>i << 3;
      const gh = w ? load<f64>(gr + off) * load<f64>(w + off) : load<f64>(gr + off);
      a += gh;
      c += gh * (load<f64>(xr + off) - mu) * rs;
    }
    lnBwdRowOut64(gr, xr, w, gx + rb, size, mu, rs, a / <f64>size, c / <f64>size);
  }
}

export function layernorm_bwd_wb_f64(
  g: usize, x: usize, mean: usize, rstd: usize, gw: usize, gb: usize,
  outer: i32, size: i32, task: i32, ntasks: i32,
): void {
  const c0 = partStart(size, task, ntasks, 16);
  const c1 = partStart(size, task + 1, ntasks, 16);
  if (c0 >= c1) return;
  const rowBytes = <usize>size << 3;
  for (let j = c0; j < c1; j++) {
    if (gw) store<f64>(gw + (<usize>j << 3), 0);
    if (gb) store<f64>(gb + (<usize>j << 3), 0);
  }
  const j2 = c0 + ((c1 - c0) & ~1);
  for (let r = 0; r < outer; r++) {
    const gr = g + <usize>r * rowBytes;
    const xr = x + <usize>r * rowBytes;
    const mu = load<f64>(mean + (<usize>r << 3));
    const rs = load<f64>(rstd + (<usize>r << 3));
    const mv = f64x2.splat(mu);
    const rv = f64x2.splat(rs);
    let j = c0;
    for (; j < j2; j += 2) {
      const off = <usize>j << 3;
      const gv = v128.load(gr + off);
      if (gw) {
        const t = f64x2.mul(f64x2.mul(gv, f64x2.sub(v128.load(xr + off), mv)), rv);
        v128.store(gw + off, f64x2.add(v128.load(gw + off), t));
      }
      if (gb) v128.store(gb + off, f64x2.add(v128.load(gb + off), gv));
    }
    if (j < c1) {
      const off = <usize>j << 3;
      const gv = load<f64>(gr + off);
      if (gw) store<f64>(gw + off, load<f64>(gw + off) + gv * (load<f64>(xr + off) - mu) * rs);
      if (gb) store<f64>(gb + off, load<f64>(gb + off) + gv);
    }
  }
}

// Adam / AdamW in f64 (the reference's order; outputs may alias inputs):
//   g = sign * grad; g += l2 * p (Adam); p *= decay (AdamW); m = b1*m + c1*g; v = b2*v + c2*g*g;
//   p += negStep * (m / (sqrt(v) / bc2s + eps))

export function adam_f64(
  p: usize, g: usize, m: usize, v: usize, po: usize, mo: usize, vo: usize, n: i32,
  sign: f64, l2: f64, decay: f64, b1: f64, c1: f64, b2: f64, c2: f64, negStep: f64, bc2s: f64, eps: f64,
  task: i32, ntasks: i32,
): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const signV = f64x2.splat(sign), l2V = f64x2.splat(l2), decayV = f64x2.splat(decay);
  const b1V = f64x2.splat(b1), c1V = f64x2.splat(c1), b2V = f64x2.splat(b2), c2V = f64x2.splat(c2);
  const stepV = f64x2.splat(negStep), bcV = f64x2.splat(bc2s), epsV = f64x2.splat(eps);
  const useL2 = l2 != 0;
  const useDecay = decay != 1;
  let i = s;
  for (; i + 2 <= e; i += 2) {
    const off = <usize>i << 3;
    let pv = v128.load(p + off);
    let gv = f64x2.mul(signV, v128.load(g + off));
    if (useL2) gv = f64x2.add(gv, f64x2.mul(l2V, pv));
    if (useDecay) pv = f64x2.mul(pv, decayV);
    const mv = f64x2.add(f64x2.mul(b1V, v128.load(m + off)), f64x2.mul(c1V, gv));
    const vv = f64x2.add(f64x2.mul(b2V, v128.load(v + off)), f64x2.mul(c2V, f64x2.mul(gv, gv)));
    const denom = f64x2.add(f64x2.div(f64x2.sqrt(vv), bcV), epsV);
    v128.store(po + off, f64x2.add(pv, f64x2.mul(stepV, f64x2.div(mv, denom))));
    v128.store(mo + off, mv);
    v128.store(vo + off, vv);
  }
  if (i < e) {
    adamOne<f64>(<usize>i << 3, p, g, m, v, po, mo, vo, sign, l2, decay, b1, c1, b2, c2, negStep, bc2s, eps, useL2, useDecay);
  }
}

// Batch normalization (training) of a compact (n, c, inner) f64 array, the reference's formulas:
// mean = sum(x) / m, var = sum((x - mean)^2) / m (sums in the order n then inner),
// rstd = 1 / sqrt(var + eps), y = ((x - mean) * rstd) * w + b; running statistics
// rmo = rm * keep + mean * mom, rvo = rv * keep + (var * unbias) * mom. Backward (as the float32
// kernel): gw = sgx = sum g xhat, gb = sg = sum g; gx = rstd ((g w - sg w / m) - xhat sgx w / m).
// The channel sums go two channels per f64x2 (each lane one channel's sum in order): inner == 1
// two adjacent channels a vector, inner > 1 four channels in two vectors. Tasks split the channels
// in twos.

/**
 * Channels ch, ch + 1 from their means mu and sums of squares q (f64x2): stores mean, var and rstd
 * (and the running statistics when rm) and returns rstd.
 */
// @ts-ignore: decorator
@inline function bnStats2(
  ch: i32, mu: v128, q: v128, fm: f64, eps: f64, mean: usize, vr: usize, rstd: usize,
  rm: usize, rv: usize, rmo: usize, rvo: usize, keep: f64, mom: f64, unbias: f64,
): v128 {
  const off = <usize>ch << 3;
  const va = f64x2.div(q, f64x2.splat(fm));
  const r = f64x2.div(f64x2.splat(1), f64x2.sqrt(f64x2.add(va, f64x2.splat(eps))));
  v128.store(mean + off, mu);
  v128.store(vr + off, va);
  v128.store(rstd + off, r);
  if (rm) {
    const kv = f64x2.splat(keep);
    const mm = f64x2.splat(mom);
    v128.store(rmo + off, f64x2.add(f64x2.mul(v128.load(rm + off), kv), f64x2.mul(mu, mm)));
    v128.store(rvo + off, f64x2.add(f64x2.mul(v128.load(rv + off), kv), f64x2.mul(f64x2.mul(va, f64x2.splat(unbias)), mm)));
  }
  return r;
}

/** batch norm's output pass over channel ch (inner elements per sample). */
// @ts-ignore: decorator
@inline function bnChanOut64(
  x: usize, out: usize, w: usize, b: usize, mean: usize, rstd: usize, ch: i32, n: i32, inner: i32, rowBytes: usize,
): void {
  const off = <usize>ch << 3;
  const mu = load<f64>(mean + off);
  const r = load<f64>(rstd + off);
  const wc: f64 = w ? load<f64>(w + off) : 1;
  const bc: f64 = b ? load<f64>(b + off) : 0;
  const mv = f64x2.splat(mu);
  const rv = f64x2.splat(r);
  const wv = f64x2.splat(wc);
  const bv = f64x2.splat(bc);
  let p = x + <usize>ch * (<usize>inner << 3);
  let po = out + <usize>ch * (<usize>inner << 3);
  for (let i = 0; i < n; i++, p += rowBytes, po += rowBytes) {
    let l = 0;
    for (; l + 2 <= inner; l += 2) {
      const lo = <usize>l << 3;
      let y = f64x2.mul(f64x2.sub(v128.load(p + lo), mv), rv);
      if (w) y = f64x2.mul(y, wv);
      if (b) y = f64x2.add(y, bv);
      v128.store(po + lo, y);
    }
    if (l < inner) {
      const lo = <usize>l << 3;
      let y = (load<f64>(p + lo) - mu) * r;
      if (w) y = y * wc;
      if (b) y = y + bc;
      store<f64>(po + lo, y);
    }
  }
}

export function batchnorm_f64(
  x: usize, w: usize, b: usize, out: usize, mean: usize, vr: usize, rstd: usize,
  n: i32, c: i32, inner: i32, eps: f64,
  rm: usize, rv: usize, rmo: usize, rvo: usize, keep: f64, mom: f64, unbias: f64,
  task: i32, ntasks: i32,
): void {
  const c0 = partStart(c, task, ntasks, 2);
  const c1 = partStart(c, task + 1, ntasks, 2);
  const fm = <f64>n * <f64>inner;
  const fmv = f64x2.splat(fm);
  const rowBytes = <usize>c * <usize>inner << 3;
  const cs = <usize>inner << 3;
  let ch = c0;
  if (inner == 1) {
    for (; ch + 2 <= c1; ch += 2) {
      const off = <usize>ch << 3;
      let s = f64x2.splat(0);
      for (let i = 0, p = x + off; i < n; i++, p += rowBytes) s = f64x2.add(s, v128.load(p));
      const mu = f64x2.div(s, fmv);
      let q = f64x2.splat(0);
      for (let i = 0, p = x + off; i < n; i++, p += rowBytes) {
        const d = f64x2.sub(v128.load(p), mu);
        q = f64x2.add(q, f64x2.mul(d, d));
      }
      const r = bnStats2(ch, mu, q, fm, eps, mean, vr, rstd, rm, rv, rmo, rvo, keep, mom, unbias);
      const wv = w ? v128.load(w + off) : f64x2.splat(1);
      const bv = b ? v128.load(b + off) : f64x2.splat(0);
      for (let i = 0, p = off; i < n; i++, p += rowBytes) {
        let y = f64x2.mul(f64x2.sub(v128.load(x + p), mu), r);
        if (w) y = f64x2.mul(y, wv);
        if (b) y = f64x2.add(y, bv);
        v128.store(out + p, y);
      }
    }
  } else {
    for (; ch + 4 <= c1; ch += 4) {
      const first = x + <usize>ch * cs;
      let s0 = f64x2.splat(0);
      let s1 = s0;
      let p = first;
      for (let i = 0; i < n; i++, p += rowBytes) {
        for (let l = 0; l < inner; l++) {
          const pl = p + (<usize>l << 3);
          s0 = f64x2.add(s0, gather2(pl, cs));
          s1 = f64x2.add(s1, gather2(pl + 2 * cs, cs));
        }
      }
      const mu0 = f64x2.div(s0, fmv);
      const mu1 = f64x2.div(s1, fmv);
      let q0 = f64x2.splat(0);
      let q1 = q0;
      p = first;
      for (let i = 0; i < n; i++, p += rowBytes) {
        for (let l = 0; l < inner; l++) {
          const pl = p + (<usize>l << 3);
          const d0 = f64x2.sub(gather2(pl, cs), mu0);
          const d1 = f64x2.sub(gather2(pl + 2 * cs, cs), mu1);
          q0 = f64x2.add(q0, f64x2.mul(d0, d0));
          q1 = f64x2.add(q1, f64x2.mul(d1, d1));
        }
      }
      bnStats2(ch, mu0, q0, fm, eps, mean, vr, rstd, rm, rv, rmo, rvo, keep, mom, unbias);
      bnStats2(ch + 2, mu1, q1, fm, eps, mean, vr, rstd, rm, rv, rmo, rvo, keep, mom, unbias);
      for (let k = 0; k < 4; k++) bnChanOut64(x, out, w, b, mean, rstd, ch + k, n, inner, rowBytes);
    }
  }
  for (; ch < c1; ch++) {
    const first = x + <usize>ch * cs;
    let s: f64 = 0;
    let p = first;
    for (let i = 0; i < n; i++, p += rowBytes) {
      for (let l = 0; l < inner; l++) s += load<f64>(p + (<usize>l << 3));
    }
    const mu = s / fm;
    let q: f64 = 0;
    p = first;
    for (let i = 0; i < n; i++, p += rowBytes) {
      for (let l = 0; l < inner; l++) {
        const d = load<f64>(p + (<usize>l << 3)) - mu;
        q += d * d;
      }
    }
    const va = q / fm;
    const r = 1 / Math.sqrt(va + eps);
    const off = <usize>ch << 3;
    store<f64>(mean + off, mu);
    store<f64>(vr + off, va);
    store<f64>(rstd + off, r);
    if (rm) {
      store<f64>(rmo + off, load<f64>(rm + off) * keep + mu * mom);
      store<f64>(rvo + off, load<f64>(rv + off) * keep + (va * unbias) * mom);
    }
    bnChanOut64(x, out, w, b, mean, rstd, ch, n, inner, rowBytes);
  }
}

/** batch norm backward's gx pass over channel ch from a = sg w / m and cc = sgx w / m. */
// @ts-ignore: decorator
@inline function bnBwdChanOut64(
  g: usize, x: usize, gx: usize, mu: f64, rs: f64, wc: f64, a: f64, cc: f64, ch: i32, n: i32, inner: i32, rowBytes: usize,
): void {
  const mv = f64x2.splat(mu);
  const rv = f64x2.splat(rs);
  const wv = f64x2.splat(wc);
  const av = f64x2.splat(a);
  const cv = f64x2.splat(cc);
  for (let i = 0; i < n; i++) {
    const base = <usize>i * rowBytes + <usize>ch * (<usize>inner << 3);
    let l = 0;
    for (; l + 2 <= inner; l += 2) {
      const o = base + (<usize>l << 3);
      const xh = f64x2.mul(f64x2.sub(v128.load(x + o), mv), rv);
      v128.store(gx + o, f64x2.mul(rv, f64x2.sub(f64x2.sub(f64x2.mul(v128.load(g + o), wv), av), f64x2.mul(xh, cv))));
    }
    if (l < inner) {
      const o = base + (<usize>l << 3);
      const xh = (load<f64>(x + o) - mu) * rs;
      store<f64>(gx + o, rs * ((load<f64>(g + o) * wc - a) - xh * cc));
    }
  }
}

export function batchnorm_bwd_f64(
  g: usize, x: usize, w: usize, mean: usize, rstd: usize, gx: usize, gw: usize, gb: usize,
  n: i32, c: i32, inner: i32, task: i32, ntasks: i32,
): void {
  const c0 = partStart(c, task, ntasks, 2);
  const c1 = partStart(c, task + 1, ntasks, 2);
  const m = <f64>n * <f64>inner;
  const mv = f64x2.splat(m);
  const rowBytes = <usize>c * <usize>inner << 3;
  const cs = <usize>inner << 3;
  let ch = c0;
  if (inner == 1) {
    for (; ch + 2 <= c1; ch += 2) {
      const off = <usize>ch << 3;
      const mu = v128.load(mean + off);
      const rs = v128.load(rstd + off);
      let sg = f64x2.splat(0);
      let sx = sg;
      for (let i = 0, p = off; i < n; i++, p += rowBytes) {
        const gv = v128.load(g + p);
        sg = f64x2.add(sg, gv);
        sx = f64x2.add(sx, f64x2.mul(gv, f64x2.mul(f64x2.sub(v128.load(x + p), mu), rs)));
      }
      if (gw) v128.store(gw + off, sx);
      if (gb) v128.store(gb + off, sg);
      if (!gx) continue;
      const wv = w ? v128.load(w + off) : f64x2.splat(1);
      const a = f64x2.div(f64x2.mul(sg, wv), mv);
      const k = f64x2.div(f64x2.mul(sx, wv), mv);
      for (let i = 0, p = off; i < n; i++, p += rowBytes) {
        const xh = f64x2.mul(f64x2.sub(v128.load(x + p), mu), rs);
        v128.store(gx + p, f64x2.mul(rs, f64x2.sub(f64x2.sub(f64x2.mul(v128.load(g + p), wv), a), f64x2.mul(xh, k))));
      }
    }
  } else {
    for (; ch + 4 <= c1; ch += 4) {
      const off = <usize>ch << 3;
      const mu0 = v128.load(mean + off);
      const mu1 = v128.load(mean + off, 16);
      const rs0 = v128.load(rstd + off);
      const rs1 = v128.load(rstd + off, 16);
      let sg0 = f64x2.splat(0);
      let sg1 = sg0;
      let sx0 = sg0;
      let sx1 = sg0;
      for (let i = 0; i < n; i++) {
        const base = <usize>i * rowBytes + <usize>ch * cs;
        for (let l = 0; l < inner; l++) {
          const o = base + (<usize>l << 3);
          const g0 = gather2(g + o, cs);
          const g1 = gather2(g + o + 2 * cs, cs);
          sg0 = f64x2.add(sg0, g0);
          sg1 = f64x2.add(sg1, g1);
          sx0 = f64x2.add(sx0, f64x2.mul(g0, f64x2.mul(f64x2.sub(gather2(x + o, cs), mu0), rs0)));
          sx1 = f64x2.add(sx1, f64x2.mul(g1, f64x2.mul(f64x2.sub(gather2(x + o + 2 * cs, cs), mu1), rs1)));
        }
      }
      if (gw) {
        v128.store(gw + off, sx0);
        v128.store(gw + off, sx1, 16);
      }
      if (gb) {
        v128.store(gb + off, sg0);
        v128.store(gb + off, sg1, 16);
      }
      if (!gx) continue;
      const w0 = w ? v128.load(w + off) : f64x2.splat(1);
      const w1 = w ? v128.load(w + off, 16) : f64x2.splat(1);
      const a0 = f64x2.div(f64x2.mul(sg0, w0), mv);
      const a1 = f64x2.div(f64x2.mul(sg1, w1), mv);
      const k0 = f64x2.div(f64x2.mul(sx0, w0), mv);
      const k1 = f64x2.div(f64x2.mul(sx1, w1), mv);
      bnBwdChanOut64(g, x, gx, f64x2.extract_lane(mu0, 0), f64x2.extract_lane(rs0, 0), f64x2.extract_lane(w0, 0), f64x2.extract_lane(a0, 0), f64x2.extract_lane(k0, 0), ch, n, inner, rowBytes);
      bnBwdChanOut64(g, x, gx, f64x2.extract_lane(mu0, 1), f64x2.extract_lane(rs0, 1), f64x2.extract_lane(w0, 1), f64x2.extract_lane(a0, 1), f64x2.extract_lane(k0, 1), ch + 1, n, inner, rowBytes);
      bnBwdChanOut64(g, x, gx, f64x2.extract_lane(mu1, 0), f64x2.extract_lane(rs1, 0), f64x2.extract_lane(w1, 0), f64x2.extract_lane(a1, 0), f64x2.extract_lane(k1, 0), ch + 2, n, inner, rowBytes);
      bnBwdChanOut64(g, x, gx, f64x2.extract_lane(mu1, 1), f64x2.extract_lane(rs1, 1), f64x2.extract_lane(w1, 1), f64x2.extract_lane(a1, 1), f64x2.extract_lane(k1, 1), ch + 3, n, inner, rowBytes);
    }
  }
  for (; ch < c1; ch++) {
    const off = <usize>ch << 3;
    const mu = load<f64>(mean + off);
    const rs = load<f64>(rstd + off);
    const wc: f64 = w ? load<f64>(w + off) : 1;
    let sg: f64 = 0;
    let sgx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const base = <usize>i * rowBytes + <usize>ch * cs;
      for (let l = 0; l < inner; l++) {
        const o = base + (<usize>l << 3);
        const gv = load<f64>(g + o);
        sg += gv;
        sgx += gv * ((load<f64>(x + o) - mu) * rs);
      }
    }
    if (gw) store<f64>(gw + off, sgx);
    if (gb) store<f64>(gb + off, sg);
    if (!gx) continue;
    bnBwdChanOut64(g, x, gx, mu, rs, wc, (sg * wc) / m, (sgx * wc) / m, ch, n, inner, rowBytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Bernoulli draws from the Philox4x32-10 stream of src/random.ts: element i takes words
// phase + 2i and phase + 2i + 1 counted from block (ctrHi << 32 | ctrLo) under key (k0, k1), makes
// u = ((w1 >>> 5) * 2^26 + (w2 >>> 6)) / 2^53 and stores `value` where u < p, else 0. Counter-based,
// so tasks split the elements and results never depend on the split.

const PM0: u64 = 0xd2511f53;
const PM1: u64 = 0xcd9e8d57;
const PW0: u32 = 0x9e3779b9;
const PW1: u32 = 0xbb67ae85;

/** The four words of block `blk` as an i32x4. */
// @ts-ignore: decorator
@inline function philoxBlock(blk: u64, k0: u32, k1: u32): v128 {
  let c0 = <u32>blk;
  let c1 = <u32>(blk >> 32);
  let c2: u32 = 0;
  let c3: u32 = 0;
  for (let r = 0; r < 10; r++) {
    const p0 = PM0 * <u64>c0;
    const p1 = PM1 * <u64>c2;
    const n0 = <u32>(p1 >> 32) ^ c1 ^ k0;
    const n2 = <u32>(p0 >> 32) ^ c3 ^ k1;
    c1 = <u32>p1;
    c3 = <u32>p0;
    c0 = n0;
    c2 = n2;
    k0 += PW0;
    k1 += PW1;
  }
  return i32x4(c0, c1, c2, c3);
}

// @ts-ignore: decorator
@inline function lane(v: v128, k: i32): u32 {
  if (k == 0) return <u32>i32x4.extract_lane(v, 0);
  if (k == 1) return <u32>i32x4.extract_lane(v, 1);
  if (k == 2) return <u32>i32x4.extract_lane(v, 2);
  return <u32>i32x4.extract_lane(v, 3);
}

/** The outcome of one draw from words (w1, w2): u < p with u = ((w1 >>> 5) 2^26 + (w2 >>> 6)) / 2^53. */
// @ts-ignore: decorator
@inline function draw<T>(out: usize, e: i32, w1: u32, w2: u32, p: f64, value: T): void {
  // (the scaling by 2^-53 is exact: the same u as the division)
  const u = (<f64>(w1 >>> 5) * 67108864.0 + <f64>(w2 >>> 6)) * 1.1102230246251565e-16;
  store<T>(out + (<usize>e << alignof<T>()), u < p ? value : <T>0);
}

/** The high 32 bits of each lane's 64-bit product a * m (m splatted), as an i32x4. */
// @ts-ignore: decorator
@inline function mulhi4(a: v128, m: v128): v128 {
  return i32x4.shuffle(i64x2.extmul_low_i32x4_u(a, m), i64x2.extmul_high_i32x4_u(a, m), 1, 3, 5, 7);
}

// @ts-ignore: decorator
@inline function bernoulliT<T>(
  out: usize, n: i32, p: f64, value: T, k0: u32, k1: u32, ctrLo: u32, ctrHi: u32, phase: i32, task: i32, ntasks: i32,
): void {
  const e0 = partStart(n, task, ntasks, 2);
  const e1 = partStart(n, task + 1, ntasks, 2);
  if (e0 >= e1) return;
  const w0 = <u64>phase + 2 * <u64>e0;
  let blk = ((<u64>ctrHi << 32) | <u64>ctrLo) + (w0 >> 2);
  let pos = <i32>(w0 & 3);
  let words = philoxBlock(blk, k0, k1);
  let first: u32 = 0;
  let have = false;
  const m0 = i32x4.splat(<i32>PM0);
  const m1 = i32x4.splat(<i32>PM1);
  for (let e = e0; e < e1; ) {
    if (pos == 4 && e + 8 <= e1) {
      // four blocks at once, one per lane (eight draws): ten Philox rounds on i32x4
      const b = blk + 1;
      blk += 4;
      let c0 = i32x4(<i32>b, <i32>(b + 1), <i32>(b + 2), <i32>(b + 3));
      let c1 = i32x4(<i32>(b >> 32), <i32>((b + 1) >> 32), <i32>((b + 2) >> 32), <i32>((b + 3) >> 32));
      let c2 = i32x4.splat(0);
      let c3 = c2;
      let ka = k0;
      let kb = k1;
      for (let r = 0; r < 10; r++) {
        const h0 = mulhi4(c0, m0);
        const l0 = i32x4.mul(c0, m0);
        const h1 = mulhi4(c2, m1);
        const l1 = i32x4.mul(c2, m1);
        c0 = v128.xor(v128.xor(h1, c1), i32x4.splat(<i32>ka));
        c1 = l1;
        c2 = v128.xor(v128.xor(h0, c3), i32x4.splat(<i32>kb));
        c3 = l0;
        ka += PW0;
        kb += PW1;
      }
      if (!have) {
        draw<T>(out, e, <u32>i32x4.extract_lane(c0, 0), <u32>i32x4.extract_lane(c1, 0), p, value);
        draw<T>(out, e + 1, <u32>i32x4.extract_lane(c2, 0), <u32>i32x4.extract_lane(c3, 0), p, value);
        draw<T>(out, e + 2, <u32>i32x4.extract_lane(c0, 1), <u32>i32x4.extract_lane(c1, 1), p, value);
        draw<T>(out, e + 3, <u32>i32x4.extract_lane(c2, 1), <u32>i32x4.extract_lane(c3, 1), p, value);
        draw<T>(out, e + 4, <u32>i32x4.extract_lane(c0, 2), <u32>i32x4.extract_lane(c1, 2), p, value);
        draw<T>(out, e + 5, <u32>i32x4.extract_lane(c2, 2), <u32>i32x4.extract_lane(c3, 2), p, value);
        draw<T>(out, e + 6, <u32>i32x4.extract_lane(c0, 3), <u32>i32x4.extract_lane(c1, 3), p, value);
        draw<T>(out, e + 7, <u32>i32x4.extract_lane(c2, 3), <u32>i32x4.extract_lane(c3, 3), p, value);
      } else {
        // an odd phase: each draw straddles, the last word stays pending
        draw<T>(out, e, first, <u32>i32x4.extract_lane(c0, 0), p, value);
        draw<T>(out, e + 1, <u32>i32x4.extract_lane(c1, 0), <u32>i32x4.extract_lane(c2, 0), p, value);
        draw<T>(out, e + 2, <u32>i32x4.extract_lane(c3, 0), <u32>i32x4.extract_lane(c0, 1), p, value);
        draw<T>(out, e + 3, <u32>i32x4.extract_lane(c1, 1), <u32>i32x4.extract_lane(c2, 1), p, value);
        draw<T>(out, e + 4, <u32>i32x4.extract_lane(c3, 1), <u32>i32x4.extract_lane(c0, 2), p, value);
        draw<T>(out, e + 5, <u32>i32x4.extract_lane(c1, 2), <u32>i32x4.extract_lane(c2, 2), p, value);
        draw<T>(out, e + 6, <u32>i32x4.extract_lane(c3, 2), <u32>i32x4.extract_lane(c0, 3), p, value);
        draw<T>(out, e + 7, <u32>i32x4.extract_lane(c1, 3), <u32>i32x4.extract_lane(c2, 3), p, value);
        first = <u32>i32x4.extract_lane(c3, 3);
      }
      e += 8;
      continue;
    }
    if (pos == 4) {
      blk++;
      words = philoxBlock(blk, k0, k1);
      pos = 0;
    }
    const wd = lane(words, pos);
    pos++;
    if (!have) {
      first = wd;
      have = true;
    } else {
      draw<T>(out, e, first, wd, p, value);
      e++;
      have = false;
    }
  }
}

export function philox_bernoulli_f32(
  out: usize, n: i32, p: f64, value: f32, k0: u32, k1: u32, ctrLo: u32, ctrHi: u32, phase: i32, task: i32, ntasks: i32,
): void {
  bernoulliT<f32>(out, n, p, value, k0, k1, ctrLo, ctrHi, phase, task, ntasks);
}

export function philox_bernoulli_f64(
  out: usize, n: i32, p: f64, value: f64, k0: u32, k1: u32, ctrLo: u32, ctrHi: u32, phase: i32, task: i32, ntasks: i32,
): void {
  bernoulliT<f64>(out, n, p, value, k0, k1, ctrLo, ctrHi, phase, task, ntasks);
}
