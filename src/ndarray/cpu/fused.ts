/**
 * Reference implementations of the optional fused members of the Backend contract (softmax and
 * its backward, layerNorm and its backward, batchNorm and its backward, adamStep, philoxBernoulli)
 * in plain TypeScript over host typed arrays. They define what the fast
 * kernels of other backends compute, and run wherever a dtype or case has no fast kernel (the wasm
 * backend's float64, for instance). Row statistics accumulate in float64.
 */
import type {
  AdamStepOperands, AdamStepSpec, Backend, BatchNormRunning, BatchNormSpec, Dense, PhiloxSpec, Storage,
} from '../backend.js';
import type { AnyTypedArray } from '../dtype.js';
import { internal } from '../../errors.js';
import { bernoulliInto } from './philox.js';

function arr(s: Storage): AnyTypedArray {
  const data = (s as { data?: AnyTypedArray }).data;
  if (data === undefined) throw internal(`cpu fused kernels got storage of device ${s.device} without host data`);
  return data;
}

/** Softmax (or log-softmax) of each row; see Backend.softmax. */
function softmax(a: Dense, out: Dense, outer: number, size: number, log: boolean): void {
  const x = arr(a.storage);
  const o = arr(out.storage);
  for (let r = 0; r < outer; r++) {
    const xb = a.offset + r * size;
    const ob = out.offset + r * size;
    let m = -Infinity;
    for (let i = 0; i < size; i++) {
      const v = x[xb + i]!;
      if (v > m || v !== v) m = v;
      if (m !== m) break;
    }
    const shift = log && !Number.isFinite(m) ? 0 : m;
    let s = 0;
    if (log) {
      for (let i = 0; i < size; i++) s += Math.exp(x[xb + i]! - shift);
      const ls = Math.log(s);
      for (let i = 0; i < size; i++) o[ob + i] = x[xb + i]! - shift - ls;
    } else {
      for (let i = 0; i < size; i++) {
        const e = Math.exp(x[xb + i]! - shift);
        o[ob + i] = e;
        s += e;
      }
      for (let i = 0; i < size; i++) o[ob + i] = o[ob + i]! / s;
    }
  }
}

/** The vjp of softmax (or log-softmax) per row; see Backend.softmaxBackward. */
function softmaxBackward(yd: Dense, gd: Dense, od: Dense, outer: number, size: number, log: boolean): void {
  const y = arr(yd.storage);
  const g = arr(gd.storage);
  const o = arr(od.storage);
  for (let r = 0; r < outer; r++) {
    const yb = yd.offset + r * size;
    const gb = gd.offset + r * size;
    const ob = od.offset + r * size;
    let s = 0;
    if (log) {
      for (let i = 0; i < size; i++) s += g[gb + i]!;
      for (let i = 0; i < size; i++) o[ob + i] = g[gb + i]! - Math.exp(y[yb + i]!) * s;
    } else {
      for (let i = 0; i < size; i++) s += g[gb + i]! * y[yb + i]!;
      for (let i = 0; i < size; i++) o[ob + i] = y[yb + i]! * (g[gb + i]! - s);
    }
  }
}

/** Layer normalization of each row; see Backend.layerNorm. */
function layerNorm(
  xd: Dense, wd: Dense | null, bd: Dense | null, od: Dense, md: Dense, rd: Dense,
  outer: number, size: number, eps: number,
): void {
  const x = arr(xd.storage);
  const o = arr(od.storage);
  const mean = arr(md.storage);
  const rstd = arr(rd.storage);
  const w = wd ? arr(wd.storage) : null;
  const b = bd ? arr(bd.storage) : null;
  const wo = wd?.offset ?? 0;
  const bo = bd?.offset ?? 0;
  for (let r = 0; r < outer; r++) {
    const xb = xd.offset + r * size;
    const ob = od.offset + r * size;
    let s = 0;
    for (let i = 0; i < size; i++) s += x[xb + i]!;
    const mu = s / size;
    let q = 0;
    for (let i = 0; i < size; i++) {
      const d = x[xb + i]! - mu;
      q += d * d;
    }
    const rs = 1 / Math.sqrt(q / size + eps);
    mean[md.offset + r] = mu;
    rstd[rd.offset + r] = rs;
    for (let i = 0; i < size; i++) {
      let y = (x[xb + i]! - mu) * rs;
      if (w) y *= w[wo + i]!;
      if (b) y += b[bo + i]!;
      o[ob + i] = y;
    }
  }
}

/** The vjp of layerNorm; see Backend.layerNormBackward. */
function layerNormBackward(
  gd: Dense, xd: Dense, wd: Dense | null, md: Dense, rd: Dense,
  gxd: Dense | null, gwd: Dense | null, gbd: Dense | null, outer: number, size: number,
): void {
  const g = arr(gd.storage);
  const x = arr(xd.storage);
  const w = wd ? arr(wd.storage) : null;
  const wo = wd?.offset ?? 0;
  const mean = arr(md.storage);
  const rstd = arr(rd.storage);
  const gx = gxd ? arr(gxd.storage) : null;
  const gw = gwd ? new Float64Array(size) : null;
  const gb = gbd ? new Float64Array(size) : null;
  for (let r = 0; r < outer; r++) {
    const xb = xd.offset + r * size;
    const gbase = gd.offset + r * size;
    const mu = mean[md.offset + r]!;
    const rs = rstd[rd.offset + r]!;
    if (gx) {
      let a = 0;
      let c = 0;
      for (let i = 0; i < size; i++) {
        const gh = w ? g[gbase + i]! * w[wo + i]! : g[gbase + i]!;
        a += gh;
        c += gh * (x[xb + i]! - mu) * rs;
      }
      a /= size;
      c /= size;
      const ob = gxd!.offset + r * size;
      for (let i = 0; i < size; i++) {
        const gh = w ? g[gbase + i]! * w[wo + i]! : g[gbase + i]!;
        gx[ob + i] = rs * (gh - a - (x[xb + i]! - mu) * rs * c);
      }
    }
    if (gw) for (let i = 0; i < size; i++) gw[i] += g[gbase + i]! * (x[xb + i]! - mu) * rs;
    if (gb) for (let i = 0; i < size; i++) gb[i] += g[gbase + i]!;
  }
  if (gw) arr(gwd!.storage).set(gw, gwd!.offset);
  if (gb) arr(gbd!.storage).set(gb, gbd!.offset);
}

const identity = (v: number): number => v;

/**
 * Training batch normalization per channel of a compact (n, c, inner) array; see Backend.batchNorm.
 * Every operation rounds to the dtype as the composite of primitives does (mean = sum / m in the
 * dtype, d = x - mean, var = sum(d * d) / m, rstd = 1 / sqrt(var + eps), y = (d * rstd) * w + b);
 * the sums accumulate in float64 in the order n, then inner.
 */
function batchNorm(
  xd: Dense, wd: Dense | null, bd: Dense | null, od: Dense, md: Dense, vd: Dense, rd: Dense,
  sp: BatchNormSpec, running: BatchNormRunning | null,
): void {
  const f = xd.storage.dtype === 'float32' ? Math.fround : identity;
  const x = arr(xd.storage);
  const o = arr(od.storage);
  const w = wd ? arr(wd.storage) : null;
  const b = bd ? arr(bd.storage) : null;
  const { n, c, inner } = sp;
  const fm = f(n * inner);
  const eps = f(sp.eps);
  const rs = running ? { m: arr(running.mean.storage), v: arr(running.var.storage), mo: arr(running.meanOut.storage), vo: arr(running.varOut.storage) } : null;
  const keep = f(running?.keep ?? 0), mom = f(running?.momentum ?? 0), unbias = f(running?.unbias ?? 0);
  const cs = c * inner;
  for (let ch = 0; ch < c; ch++) {
    const first = xd.offset + ch * inner;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const p = first + i * cs;
      for (let l = 0; l < inner; l++) s += x[p + l]!;
    }
    const mu = f(f(s) / fm);
    let q = 0;
    for (let i = 0; i < n; i++) {
      const p = first + i * cs;
      for (let l = 0; l < inner; l++) {
        const d = f(x[p + l]! - mu);
        q += f(d * d);
      }
    }
    const v = f(f(q) / fm);
    const r = f(1 / Math.sqrt(f(v + eps)));
    const wc = w ? w[wd!.offset + ch]! : 1;
    const bc = b ? b[bd!.offset + ch]! : 0;
    const ofirst = od.offset + ch * inner;
    for (let i = 0; i < n; i++) {
      const p = first + i * cs;
      const po = ofirst + i * cs;
      for (let l = 0; l < inner; l++) {
        let y = f(f(x[p + l]! - mu) * r);
        if (w) y = f(y * wc);
        if (b) y = f(y + bc);
        o[po + l] = y;
      }
    }
    arr(md.storage)[md.offset + ch] = mu;
    arr(vd.storage)[vd.offset + ch] = v;
    arr(rd.storage)[rd.offset + ch] = r;
    if (rs) {
      rs.mo[running!.meanOut.offset + ch] = f(f(rs.m[running!.mean.offset + ch]! * keep) + f(mu * mom));
      rs.vo[running!.varOut.offset + ch] = f(f(rs.v[running!.var.offset + ch]! * keep) + f(f(v * unbias) * mom));
    }
  }
}

/**
 * The vjp of batchNorm per channel (float64 arithmetic, rounded once on store); see
 * Backend.batchNormBackward.
 */
function batchNormBackward(
  gd: Dense, xd: Dense, wd: Dense | null, md: Dense, rd: Dense,
  gxd: Dense | null, gwd: Dense | null, gbd: Dense | null, sp: BatchNormSpec,
): void {
  const g = arr(gd.storage);
  const x = arr(xd.storage);
  const w = wd ? arr(wd.storage) : null;
  const mean = arr(md.storage);
  const rstd = arr(rd.storage);
  const gx = gxd ? arr(gxd.storage) : null;
  const { n, c, inner } = sp;
  const m = n * inner;
  const cs = c * inner;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[md.offset + ch]!;
    const rs = rstd[rd.offset + ch]!;
    const wc = w ? w[wd!.offset + ch]! : 1;
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < n; i++) {
      const px = xd.offset + i * cs + ch * inner;
      const pg = gd.offset + i * cs + ch * inner;
      for (let l = 0; l < inner; l++) {
        const gv = g[pg + l]!;
        sg += gv;
        sgx += gv * ((x[px + l]! - mu) * rs);
      }
    }
    if (gwd) arr(gwd.storage)[gwd.offset + ch] = sgx;
    if (gbd) arr(gbd.storage)[gbd.offset + ch] = sg;
    if (!gx) continue;
    // mean(gh) and mean(gh * xhat) with gh = g * w
    const a = (sg * wc) / m;
    const cc = (sgx * wc) / m;
    for (let i = 0; i < n; i++) {
      const px = xd.offset + i * cs + ch * inner;
      const pg = gd.offset + i * cs + ch * inner;
      const po = gxd!.offset + i * cs + ch * inner;
      for (let l = 0; l < inner; l++) {
        const xh = (x[px + l]! - mu) * rs;
        gx[po + l] = rs * (g[pg + l]! * wc - a - xh * cc);
      }
    }
  }
}

/** Bernoulli draws from the Philox stream; see Backend.philoxBernoulli. */
function philoxBernoulli(out: Dense, size: number, sp: PhiloxSpec, p: number, value: number): void {
  bernoulliInto(arr(out.storage), out.offset, size, sp.key0, sp.key1, sp.counter, sp.phase, p, value);
}

/** One Adam/AdamW step; see Backend.adamStep. Rounds every operation to float32 for float32 operands. */
function adamStep(ops: AdamStepOperands, size: number, sp: AdamStepSpec): void {
  const f = ops.param.storage.dtype === 'float32' ? Math.fround : identity;
  const p = arr(ops.param.storage), g = arr(ops.grad.storage);
  const m = arr(ops.expAvg.storage), v = arr(ops.expAvgSq.storage);
  const po = arr(ops.paramOut.storage), mo = arr(ops.expAvgOut.storage), vo = arr(ops.expAvgSqOut.storage);
  const pO = ops.param.offset, gO = ops.grad.offset, mO = ops.expAvg.offset, vO = ops.expAvgSq.offset;
  const poO = ops.paramOut.offset, moO = ops.expAvgOut.offset, voO = ops.expAvgSqOut.offset;
  const b1 = f(sp.beta1), b2 = f(sp.beta2), c1 = f(1 - sp.beta1), c2 = f(1 - sp.beta2);
  const decay = sp.decoupled ? f(1 - sp.lr * sp.weightDecay) : 1;
  const l2 = sp.decoupled ? 0 : f(sp.weightDecay);
  const negStep = f(-sp.lr / (1 - sp.beta1 ** sp.step));
  const bc2s = f(Math.sqrt(1 - sp.beta2 ** sp.step));
  const eps = f(sp.eps);
  const sign = sp.maximize ? -1 : 1;
  for (let i = 0; i < size; i++) {
    let pi = p[pO + i]!;
    let gi = sign * g[gO + i]!;
    if (l2 !== 0) gi = f(gi + f(l2 * pi));
    if (decay !== 1) pi = f(pi * decay);
    const mi = f(f(b1 * m[mO + i]!) + f(c1 * gi));
    const vi = f(f(b2 * v[vO + i]!) + f(c2 * f(gi * gi)));
    const denom = f(f(f(Math.sqrt(vi)) / bc2s) + eps);
    po[poO + i] = f(pi + f(negStep * f(mi / denom)));
    mo[moO + i] = mi;
    vo[voO + i] = vi;
  }
}

/** The fused members of the cpu backend. */
export const cpuFused: Pick<Required<Backend>, FusedMember> = {
  softmax, softmaxBackward, layerNorm, layerNormBackward, batchNorm, batchNormBackward, adamStep, philoxBernoulli,
};

/** The names of the optional fused Backend members. */
export type FusedMember =
  | 'softmax' | 'softmaxBackward' | 'layerNorm' | 'layerNormBackward' | 'batchNorm' | 'batchNormBackward'
  | 'adamStep' | 'philoxBernoulli';
export const FUSED_MEMBERS: readonly FusedMember[] = [
  'softmax', 'softmaxBackward', 'layerNorm', 'layerNormBackward', 'batchNorm', 'batchNormBackward', 'adamStep', 'philoxBernoulli',
];
