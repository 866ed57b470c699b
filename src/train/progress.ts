/**
 * A progress bar for training loops. Browser-safe: it writes to any `{ write(text) }` stream and
 * uses `process.stdout` only when one exists (read through `globalThis`, never imported).
 *
 * On a TTY it redraws one line with carriage returns (bar, percent, count, elapsed<ETA,
 * samples/s and the running metrics), at most every `minIntervalMs`. Elsewhere (CI logs, pipes,
 * files) it stays silent until {@link ProgressBar.done}, which prints one summary line.
 */
import { now } from './metrics.js';
import { fmt, rangeError, typeError } from '../errors.js';

/** Where progress goes: `process.stdout`, a file stream, or any object with `write`. */
export interface OutputStream {
  write(text: string): unknown;
  /** True for a terminal: the bar redraws in place. */
  isTTY?: boolean;
  /** Terminal width in characters (default 80). */
  columns?: number;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Number of steps (batches) in a full bar; 0 or unknown (NaN) shows no bar and no ETA. */
  total: number;
  /** Text before the bar, e.g. `epoch 2/10`. */
  label?: string;
  /** Where to write (default: `process.stdout` in Node, the console elsewhere). */
  stream?: OutputStream;
  /** Force redrawing (true) or silent mode (false); default: the stream's `isTTY`. */
  tty?: boolean;
  /** Minimum time between redraws in ms (default 100). */
  minIntervalMs?: number;
  /** Name of the counted samples in the rate (default `samples`). */
  unit?: string;
}

/** Values shown after the bar: numbers get 4 significant decimals, strings are shown as is. */
export type ProgressValues = Record<string, number | string | undefined>;

/** A stream that prints whole lines with `console.log` (browsers, workers). */
const consoleStream: OutputStream = {
  write(text: string): void {
    const line = text.replace(/\r/g, '').replace(/\n$/, '');
    if (line.length > 0) console.log(line);
  },
  isTTY: false,
};

/** `process.stdout` when running in Node, otherwise a console-backed stream. */
export function defaultStream(): OutputStream {
  const proc = (globalThis as { process?: { stdout?: OutputStream } }).process;
  return proc?.stdout && typeof proc.stdout.write === 'function' ? proc.stdout : consoleStream;
}

/** `m:ss` (or `h:mm:ss`) for a duration in seconds; `--:--` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A number for a log line: 4 decimals below 1000, integers above, `nan` for NaN. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return v.toFixed(4);
}

/** Formats `values` as `key value` pairs. */
export function formatValues(values: ProgressValues): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    parts.push(`${k} ${typeof v === 'number' ? formatNumber(v) : v}`);
  }
  return parts.join('  ');
}

/**
 * A one-line progress bar with ETA and throughput.
 *
 * @example
 * const bar = new nd.train.ProgressBar({ total: loader.length, label: 'epoch 1/5' });
 * for (const [x, y] of loader) { ...; bar.tick(1, { loss }, x.shape[0]); }
 * bar.done('epoch 1/5  loss 0.3121');
 */
export class ProgressBar {
  readonly total: number;
  readonly label: string;
  readonly stream: OutputStream;
  /** Whether the bar redraws in place. */
  readonly tty: boolean;
  /** Steps done. */
  current = 0;
  /** Samples counted (for the rate). */
  samples = 0;
  private values: ProgressValues = {};
  private readonly t0 = now();
  private lastDraw = -Infinity;
  private readonly minInterval: number;
  private readonly unit: string;
  private finished = false;

  constructor(opts: ProgressBarOptions) {
    const fn = 'ProgressBar';
    if (opts === null || typeof opts !== 'object') throw typeError(fn, 'options {total, ...}', fmt(opts));
    const total = opts.total;
    if (typeof total !== 'number' || total < 0) throw rangeError(fn, 'total to be a non-negative number (or NaN when unknown)', fmt(total));
    this.total = total;
    this.label = opts.label ?? '';
    this.stream = opts.stream ?? defaultStream();
    if (typeof this.stream?.write !== 'function') throw typeError(fn, 'stream with a write(text) method', fmt(this.stream));
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.minInterval = opts.minIntervalMs ?? 100;
    this.unit = opts.unit ?? 'samples';
  }

  /** Seconds since the bar was created. */
  get elapsed(): number {
    return (now() - this.t0) / 1000;
  }

  /** Estimated seconds left (NaN when the total is unknown or nothing is done yet). */
  get eta(): number {
    if (!(this.total > 0) || this.current === 0) return NaN;
    return (this.elapsed / this.current) * Math.max(0, this.total - this.current);
  }

  /** Samples per second so far. */
  get rate(): number {
    const e = this.elapsed;
    return e > 0 ? this.samples / e : 0;
  }

  /** Advances by `steps`, counting `samples` for the rate and showing `values` (merged). */
  tick(steps = 1, values?: ProgressValues, samples = 0): void {
    this.current += steps;
    this.samples += samples;
    if (values) Object.assign(this.values, values);
    if (!this.tty || this.finished) return;
    const t = now();
    if (t - this.lastDraw >= this.minInterval || this.current >= this.total) {
      this.lastDraw = t;
      this.stream.write(`\r${this.render()}\x1b[K`);
    }
  }

  /** The current line (no control characters): label, bar, percent, count, time, rate, values. */
  render(): string {
    const cols = Math.max(20, (this.stream.columns || 80) - 1);
    const known = this.total > 0;
    const count = known ? `${this.current}/${this.total}` : `${this.current}`;
    const pct = known ? `${String(Math.floor((100 * Math.min(this.current, this.total)) / this.total)).padStart(3)}%` : '';
    const time = `${formatDuration(this.elapsed)}<${formatDuration(this.eta)}`;
    const rate = this.samples > 0 ? `${Math.round(this.rate)} ${this.unit}/s` : '';
    const values = Object.entries(this.values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`);
    const head = this.label ? `${this.label} ` : '';
    const join = (parts: string[]) => parts.filter((x) => x.length > 0).join(' ');
    let tail = join([pct, count, time, rate, ...values]);
    let bar = '';
    if (known) {
      // the bar takes what the text leaves (up to 30 characters); to make room for at least 10,
      // drop the percentage, then the shown values from the last one
      const variants = [tail, join([count, time, rate, ...values])];
      for (let k = values.length - 1; k >= 0; k--) variants.push(join([count, time, rate, ...values.slice(0, k)]));
      for (const t of variants) {
        const width = Math.min(30, cols - head.length - t.length - 3);
        if (width >= 10) {
          const filled = Math.round((width * Math.min(this.current, this.total)) / this.total);
          bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] `;
          tail = t;
          break;
        }
      }
    }
    const line = `${head}${bar}${tail}`;
    return line.length > cols ? line.slice(0, cols) : line;
  }

  /**
   * Finishes the bar. On a TTY the bar line is replaced by `summary` (or kept, drawn complete);
   * otherwise `summary`, when given, is printed as one line.
   */
  done(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty) {
      this.stream.write(summary !== undefined ? `\r${summary}\x1b[K\n` : `\r${this.render()}\x1b[K\n`);
    } else if (summary !== undefined) {
      this.stream.write(`${summary}\n`);
    }
  }

  /** Removes the bar line (TTY only) without printing a summary. */
  clear(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty) this.stream.write('\r\x1b[K');
  }
}
