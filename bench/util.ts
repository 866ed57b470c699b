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

/**
 * A timing procedure, apart from how `fn` is called: it yields how many calls to make next and
 * receives the milliseconds they took; it returns the result. `runPlan` drives it with a
 * synchronous `fn`, `runPlanAsync` with one whose calls are awaited, so both time alike.
 */
export type Plan<T> = Generator<number, T, number>;

/** Runs `plan` with a synchronous `fn`. */
export function runPlan<T>(fn: () => void, plan: Plan<T>): T {
  let step = plan.next();
  while (!step.done) {
    const n = step.value;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    step = plan.next(performance.now() - t0);
  }
  return step.value;
}

/** Runs `plan` with an asynchronous `fn` (each call awaited before the next). */
export async function runPlanAsync<T>(fn: () => Promise<void>, plan: Plan<T>): Promise<T> {
  let step = plan.next();
  while (!step.done) {
    const n = step.value;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    step = plan.next(performance.now() - t0);
  }
  return step.value;
}

/** Warm-up (at least one call), then `reps` samples, each of `inner` calls lasting `minSampleMs`. */
export function* timingPlan(opts: TimingOptions = {}): Plan<Timing> {
  const reps = opts.reps ?? 11;
  const minSampleMs = opts.minSampleMs ?? 20;
  const warmupMs = opts.warmupMs ?? 100;
  // warm-up, and an estimate of one call's duration
  let calls = 0;
  let elapsed = 0;
  do {
    elapsed += yield 1;
    calls++;
  } while (elapsed < warmupMs && calls < 1000);
  const est = elapsed / calls;
  const inner = Math.max(1, Math.ceil(minSampleMs / Math.max(est, 1e-6)));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) samples.push((yield inner) / inner);
  return { median: median(samples), samples };
}

/** Times `fn` (synchronous): see timingPlan. */
export function time(fn: () => void, opts: TimingOptions = {}): Timing {
  return runPlan(fn, timingPlan(opts));
}

/** `time` for an asynchronous `fn` (each call awaited; for libraries whose results are ready later). */
export function timeAsync(fn: () => Promise<void>, opts: TimingOptions = {}): Promise<Timing> {
  return runPlanAsync(fn, timingPlan(opts));
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
