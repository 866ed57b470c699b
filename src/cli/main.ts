/**
 * The `needle-ts` command line (Node-only; bin/needle-ts.js runs it from dist/). Not exported by
 * the library barrel, so it never reaches a browser bundle.
 *
 * Exit codes: 0 success, 1 a runtime error, 2 a usage error (unknown command or flag, bad value).
 */
import { UsageError } from './args.js';
import { packageVersion, println, PROG, type CliIO } from './common.js';
import { evalCommand, sampleCommand } from './evaluate.js';
import { infoCommand } from './info.js';
import { trainCommand } from './train.js';

type Command = (argv: readonly string[], io: CliIO) => Promise<number>;

/** The subcommands. */
export const COMMANDS: Record<string, { run: Command; summary: string }> = {
  train: { run: trainCommand, summary: 'Train a model (default main job: mlp-resnet on Fashion-MNIST)' },
  eval: { run: evalCommand, summary: 'Evaluate a checkpoint' },
  sample: { run: sampleCommand, summary: 'Generate text from a language-model checkpoint (or show a model\'s test predictions)' },
  info: { run: infoCommand, summary: 'Show versions, devices, backends, models and data sets' },
};

/** The top-level help text. */
export function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(10)}${c.summary}`);
  return [
    `Usage: ${PROG} <command> [options]`,
    '',
    'needle-ts: a deep-learning framework in TypeScript.',
    '',
    'Commands:',
    ...rows,
    '',
    `Run \`${PROG} <command> --help\` for a command's options. \`${PROG} --version\` prints the version.`,
    '',
  ].join('\n');
}

/** The process streams. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr };
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and returns the exit code.
 * Output goes to `io` (tests pass capturing streams).
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(mainHelp());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    println(io.stdout, await packageVersion());
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(`${PROG}: a command (${Object.keys(COMMANDS).join(', ')}), got ${JSON.stringify(name)} (see ${PROG} --help)`);
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      println(io.stderr, e.message);
      return e.exitCode;
    }
    const err = e as Error;
    println(io.stderr, `${PROG} ${name}: ${err?.message ?? String(e)}`);
    if (process.env['NEEDLE_TS_DEBUG'] && err?.stack) println(io.stderr, err.stack);
    return 1;
  }
}

/** Runs the CLI on process.argv and sets process.exitCode (what bin/needle-ts.js calls). */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await main(argv);
}


