/**
 * Reference implementations of the optional fused members of the Backend contract (softmax and
 * its backward, layerNorm and its backward, adamStep) in plain TypeScript over host typed arrays. They define what the fast
 * kernels of other backends compute, and run wherever a dtype or case has no fast kernel (the wasm
 * backend's float64, for instance). Row statistics accumulate in float64.
 */
import type { AdamStepOperands, AdamStepSpec, Backend, Dense, Storage } from '../backend.js';
import type { AnyTypedArray } from '../dtype.js';
import { internal } from '../../errors.js';

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
  softmax, softmaxBackward, layerNorm, layerNormBackward, adamStep,
};

/** The names of the optional fused Backend members. */
export type FusedMember = 'softmax' | 'softmaxBackward' | 'layerNorm' | 'layerNormBackward' | 'adamStep';
export const FUSED_MEMBERS: readonly FusedMember[] = ['softmax', 'softmaxBackward', 'layerNorm', 'layerNormBackward', 'adamStep'];
