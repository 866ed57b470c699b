/**
 * Benchmark helpers: a timer that takes the median of several timed samples after a warm-up, and
 * markdown/console table formatting. Each sample repeats the function enough times to last at
 * least `minSampleMs`, so fast ops are not dominated by timer resolution.
 */
import { performance } from 'node:perf_hooks';

export interface TimingOptions {
  /** Number of timed samples (median is reported). */
  reps?: number;
  /** Minimum duration of one sample in ms; fast functions are repeated inside a sample. */
  minSampleMs?: number;
  /** Warm-up duration in ms (at least one call is always made). */
  warmupMs?: number;
}

export interface Timing {
  /** Median time per call in ms. */
  median: number;
  /** All per-call sample times in ms. */
  samples: number[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Times `fn` (synchronous): warm-up, then `reps` samples, each of `inner` calls. */
export function time(fn: () => void, opts: TimingOptions = {}): Timing {
  const reps = opts.reps ?? 11;
  const minSampleMs = opts.minSampleMs ?? 20;
  const warmupMs = opts.warmupMs ?? 100;
  // warm-up, and an estimate of one call's duration
  let calls = 0;
  const w0 = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - w0;
  } while (elapsed < warmupMs && calls < 1000);
  const est = elapsed / calls;
  const inner = Math.max(1, Math.ceil(minSampleMs / Math.max(est, 1e-6)));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((performance.now() - t0) / inner);
  }
  return { median: median(samples), samples };
}

/** `time` for an asynchronous `fn` (each call awaited; for libraries whose results are ready later). */
export async function timeAsync(fn: () => Promise<void>, opts: TimingOptions = {}): Promise<Timing> {
  const reps = opts.reps ?? 11;
  const minSampleMs = opts.minSampleMs ?? 20;
  const warmupMs = opts.warmupMs ?? 100;
  let calls = 0;
  const w0 = performance.now();
  let elapsed = 0;
  do {
    await fn();
    calls++;
    elapsed = performance.now() - w0;
  } while (elapsed < warmupMs && calls < 1000);
  const est = elapsed / calls;
  const inner = Math.max(1, Math.ceil(minSampleMs / Math.max(est, 1e-6)));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    samples.push((performance.now() - t0) / inner);
  }
  return { median: median(samples), samples };
}

/** Formats milliseconds with 3 significant digits. */
export function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A plain-text table with right-aligned columns (first column left-aligned). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}
