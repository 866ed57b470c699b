/**
 * A small live chart on a canvas: training loss (raw, faint, and smoothed) on the left axis and
 * test accuracy on the right axis (0-100%), against the step.
 */

export interface Point {
  step: number;
  value: number;
}

const COLORS = { raw: 'rgba(37, 99, 235, 0.25)', loss: '#2563eb', acc: '#16a34a', grid: '#e5e7eb', text: '#4b5563' };

/** Keeps at most `max` points, evenly spaced in index (the last point always kept). */
function thin(points: readonly Point[], max: number): readonly Point[] {
  if (points.length <= max) return points;
  const out: Point[] = [];
  const stride = points.length / max;
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * stride)]!);
  out.push(points[points.length - 1]!);
  return out;
}

export class LossAccuracyChart {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('chart: no 2d canvas context');
    this.ctx = ctx;
    const ratio = globalThis.devicePixelRatio || 1;
    const { width, height } = canvas;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    ctx.scale(ratio, ratio);
  }

  draw(raw: readonly Point[], smooth: readonly Point[], acc: readonly Point[]): void {
    const ctx = this.ctx;
    const ratio = globalThis.devicePixelRatio || 1;
    const W = this.canvas.width / ratio;
    const H = this.canvas.height / ratio;
    const L = 44;
    const R = 44;
    const T = 12;
    const B = 28;
    ctx.clearRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    const lastStep = Math.max(10, raw.length > 0 ? raw[raw.length - 1]!.step : 0, acc.length > 0 ? acc[acc.length - 1]!.step : 0);
    const maxLoss = Math.max(0.5, ...thin(raw, 400).map((p) => (Number.isFinite(p.value) ? p.value : 0)));
    const lossMax = Math.ceil(maxLoss / 0.4) * 0.4;
    const x = (s: number) => L + ((W - L - R) * s) / lastStep;
    const yL = (v: number) => T + (H - T - B) * (1 - Math.min(v, lossMax) / lossMax);
    const yA = (v: number) => T + (H - T - B) * (1 - v);
    // grid and axes
    ctx.strokeStyle = COLORS.grid;
    ctx.fillStyle = COLORS.text;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = T + ((H - T - B) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(L, y);
      ctx.lineTo(W - R, y);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(((lossMax * (4 - i)) / 4).toFixed(1), L - 6, y + 4);
      ctx.textAlign = 'left';
      ctx.fillText(`${100 - 25 * i}%`, W - R + 6, y + 4);
    }
    ctx.textAlign = 'center';
    for (let i = 0; i <= 4; i++) ctx.fillText(String(Math.round((lastStep * i) / 4)), x((lastStep * i) / 4), H - B + 16);
    ctx.fillText('step', (L + W - R) / 2, H - 2);
    const line = (pts: readonly Point[], y: (v: number) => number, color: string, width: number, dots = false) => {
      if (pts.length === 0) return;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(p.value)) : ctx.lineTo(x(p.step), y(p.value))));
      ctx.stroke();
      if (dots) for (const p of pts) ctx.fillRect(x(p.step) - 2, y(p.value) - 2, 4, 4);
    };
    line(thin(raw, 600), yL, COLORS.raw, 1);
    line(thin(smooth, 600), yL, COLORS.loss, 2);
    line(acc, yA, COLORS.acc, 2, true);
    // legend, in the middle band on the right (loss falls towards 0, accuracy rises towards 100%)
    const ly = T + (H - T - B) * 0.45;
    ctx.textAlign = 'left';
    ctx.fillStyle = COLORS.loss;
    ctx.fillText('— loss (smoothed)', W - R - 220, ly);
    ctx.fillStyle = COLORS.acc;
    ctx.fillText('— test accuracy', W - R - 105, ly);
  }
}
