/** Shared by the CLI tests: run `needle-ts` in this process with captured output. */
import { main } from '../src/cli/main.js';

/** A CLI run's exit code and captured streams. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process with captured output. */
export async function cli(...argv: string[]): Promise<Run> {
  const r = { code: -1, out: '', err: '' };
  const stdout = { isTTY: false, write: (t: string) => void (r.out += t) };
  const stderr = { isTTY: false, write: (t: string) => void (r.err += t) };
  r.code = await main(argv, { stdout, stderr });
  return r;
}
