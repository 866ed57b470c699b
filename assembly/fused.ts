// Fused kernels for f32: the optional Backend members softmax, softmaxBackward, layerNorm,
// layerNormBackward and adamStep (src/ndarray/wasm/fused.ts calls them).
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
    const off = <usize>i << 2;
    let pi = load<f32>(p + off);
    let gi = load<f32>(g + off) * sign;
    if (useL2) gi = gi + l2 * pi;
    if (useDecay) pi = pi * decay;
    const mi = b1 * load<f32>(m + off) + c1 * gi;
    const vi = b2 * load<f32>(v + off) + c2 * (gi * gi);
    const denom = Mathf.sqrt(vi) / bc2s + eps;
    store<f32>(po + off, pi + negStep * (mi / denom));
    store<f32>(mo + off, mi);
    store<f32>(vo + off, vi);
  }
}
