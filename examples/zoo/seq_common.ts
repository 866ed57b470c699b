// Helpers shared by the sequence-model zoo scripts (examples/zoo/seq_*.ts): results, timing,
// command-line overrides of a script's configuration, and a seeded integer source for data.
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';

/** One row of the summary table. */
export interface ZooResult {
  task: string;
  model: string;
  metric: string;
  value: number;
  baseline: number;
  baselineName: string;
  target: string;
  passed: boolean;
  seconds: number;
  params: number;
  notes?: string;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

/**
 * Overrides a configuration from `--key=value` arguments (numbers and booleans parsed). Unknown
 * keys are an error so that a typo does not silently run the default.
 */
export function withArgs<T extends object>(defaults: T, argv: readonly string[] = process.argv.slice(2)): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const a of argv) {
    const m = /^--([A-Za-z0-9]+)=(.*)$/.exec(a);
    if (!m) continue;
    const [, k, v] = m as unknown as [string, string, string];
    if (!(k in out)) throw new RangeError(`withArgs: a key of ${Object.keys(out).join(', ')}, got ${k}`);
    const d = out[k];
    out[k] = typeof d === 'number' ? Number(v) : typeof d === 'boolean' ? v === 'true' || v === '1' : v;
  }
  return out as T;
}

/** Seconds since `t0` (from performance.now()). */
export function since(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/**
 * Seeded integers for synthetic data, independent of the global generator used by init. The data
 * generators of nd.datasets (addingProblem, randomStrings, ...) take its `generator`.
 */
export class Ints {
  readonly generator: nd.Generator;
  constructor(seed: number) {
    this.generator = new nd.Generator(seed);
  }
  /** Uniform on [0, n). */
  below(n: number): number {
    return this.generator.nextBelow(n);
  }
  /** Uniform on [0, 1). */
  uniform(): number {
    return this.generator.nextUniform('float64');
  }
}

/** Prints one result line. */
export function report(r: ZooResult): void {
  const ok = r.passed ? 'PASS' : 'MISS';
  console.log(
    `[${ok}] ${r.task} / ${r.model}: ${r.metric} ${fmtNum(r.value)} (${r.baselineName} ${fmtNum(r.baseline)}; target ${r.target}) in ${r.seconds.toFixed(0)} s, ${r.params} parameters`,
  );
}

/** 4 significant digits. */
export function fmtNum(v: number): string {
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(4)).toString();
}
