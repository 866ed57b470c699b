/**
 * An SVG plot of training curves (loss; accuracy or perplexity), as a self-contained string with
 * no dependencies: write it to a file, or put it into a page's innerHTML. Browser-safe.
 */
import type { EpochLog } from './callbacks.js';

/** A point of the per-batch loss curve: x in epochs (fractional), y the mean loss. */
export interface CurvePoint {
  x: number;
  y: number;
}

/** Options of {@link plotHistory}. */
export interface PlotOptions {
  /** Title above the panels. */
  title?: string;
  /** The training loss at sub-epoch resolution (drawn as a thin line under the epoch points). */
  curve?: readonly CurvePoint[];
  /** Size of one panel in pixels (default 420 x 300). */
  width?: number;
  height?: number;
}

interface Series {
  name: string;
  color: string;
  points: CurvePoint[];
  /** Thin line without markers. */
  thin?: boolean;
}

const TRAIN = '#1f77b4';
const VAL = '#ff7f0e';

/** Escapes text for XML. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Rounds for coordinates (2 decimals keeps files small). */
function r2(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** About `count` round tick values within [lo, hi] (steps of 1, 2 or 5 times a power of 10). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  // the 1-2-5 step closest to (hi - lo) / count (in ratio), as d3's ticks
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const err = raw / mag;
  const step = mag * (err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1);
  const out: number[] = [];
  const k1 = Math.floor(hi / step + 1e-9);
  for (let k = Math.ceil(lo / step - 1e-9); k <= k1; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

function tickLabel(v: number, ticks: number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : Math.abs(v) || 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

function extent(values: number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.1 || 1;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

/** One panel: axes, grid, ticks, series and legend, translated to (ox, 0). */
function panel(title: string, series: Series[], ox: number, w: number, h: number, xLabel: string): string {
  const m = { l: 56, r: 14, t: 28, b: 40 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x1 <= x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  const [y0, y1] = extent(ys);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [`<g transform="translate(${ox},0)">`];
  parts.push(`<text x="${r2(m.l + pw / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  const yt = niceTicks(y0, y1);
  for (const v of yt) {
    const y = r2(sy(v));
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="10">${tickLabel(v, yt)}</text>`);
  }
  let xt = niceTicks(x0, x1).filter((v) => v >= x0 && v <= x1);
  if (xt.length > 1 && xt[1]! - xt[0]! < 1 && x1 - x0 >= 1) xt = xt.filter((v) => Number.isInteger(v));
  for (const v of xt) {
    const x = r2(sx(v));
    parts.push(`<line x1="${x}" y1="${m.t + ph}" x2="${x}" y2="${m.t + ph + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle" font-size="10">${tickLabel(v, xt)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${r2(m.l + pw / 2)}" y="${h - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length === 0) continue;
    const coords = pts.map((p) => `${r2(sx(p.x))},${r2(sy(p.y))}`).join(' ');
    if (pts.length > 1) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.thin ? 1 : 2}"${s.thin ? ' stroke-opacity="0.35"' : ''} points="${coords}"/>`);
    }
    if (!s.thin) for (const p of pts) parts.push(`<circle cx="${r2(sx(p.x))}" cy="${r2(sy(p.y))}" r="2.5" fill="${s.color}"/>`);
  }
  const named = series.filter((s) => !s.thin && s.points.length > 0);
  named.forEach((s, i) => {
    const y = m.t + 12 + i * 14;
    const x = m.l + pw - 70;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 16}" y2="${y}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${x + 20}" y="${y}" dominant-baseline="middle" font-size="10">${esc(s.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

function pointsOf(history: readonly EpochLog[], key: string, scale = 1): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const h of history) {
    const v = h[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ x: h.epoch, y: v * scale });
  }
  return out;
}

/**
 * Draws the loss panel (train curve, train and validation per epoch) and, when logged, an
 * accuracy panel (in %) or else a perplexity panel. Returns a well-formed SVG document.
 *
 * @example
 * const svg = nd.train.plotHistory(result.history, { title: 'MLP-ResNet on Fashion-MNIST' });
 */
export function plotHistory(history: readonly EpochLog[], opts: PlotOptions = {}): string {
  const w = opts.width ?? 420;
  const h = opts.height ?? 300;
  const lossSeries: Series[] = [];
  if (opts.curve && opts.curve.length > 0) lossSeries.push({ name: 'train (batches)', color: TRAIN, points: [...opts.curve], thin: true });
  lossSeries.push({ name: 'train', color: TRAIN, points: pointsOf(history, 'trainLoss') });
  lossSeries.push({ name: 'val', color: VAL, points: pointsOf(history, 'valLoss') });
  const panels: [string, Series[]][] = [['Loss', lossSeries]];
  const acc = [pointsOf(history, 'trainAccuracy', 100), pointsOf(history, 'valAccuracy', 100)];
  const ppl = [pointsOf(history, 'trainPerplexity'), pointsOf(history, 'valPerplexity')];
  if (acc.some((p) => p.length > 0)) {
    panels.push(['Accuracy (%)', [{ name: 'train', color: TRAIN, points: acc[0]! }, { name: 'val', color: VAL, points: acc[1]! }]]);
  } else if (ppl.some((p) => p.length > 0)) {
    panels.push(['Perplexity', [{ name: 'train', color: TRAIN, points: ppl[0]! }, { name: 'val', color: VAL, points: ppl[1]! }]]);
  }
  const top = opts.title ? 24 : 0;
  const totalW = w * panels.length;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${h + top}" viewBox="0 0 ${totalW} ${h + top}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (opts.title) out.push(`<text x="${totalW / 2}" y="17" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`);
  out.push(`<g transform="translate(0,${top})">`);
  panels.forEach(([title, series], i) => out.push(panel(title, series, i * w, w, h, 'epoch')));
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}
