/**
 * The CLI's argument parser: `--flag value`, `--flag=value`, boolean `--flag`, `-h`/`--help`,
 * typed values (int, number, choice) with errors in the project grammar, and generated help text.
 * Usage errors are {@link UsageError}s: the CLI prints them and exits with code 2.
 */

/** A command-line usage error (unknown flag, bad value, missing argument): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** The value types of flags. */
export type FlagType = 'string' | 'int' | 'number' | 'boolean' | 'choice';

/** One flag of a command. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `batch-size`. */
  name: string;
  type: FlagType;
  help: string;
  /** For 'choice'. */
  choices?: readonly string[];
  /** Shown in help; the parser does not apply it (commands merge their own defaults). */
  defaultText?: string;
  /** Placeholder in help (default: N for numbers, the choices, or VALUE). */
  value?: string;
  /** Lower bound for int / number (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  /** Upper bound for number (inclusive). */
  max?: number;
  /**
   * The value may be omitted (string flags only): it is then `true`. A value is taken only as
   * `--flag=value` or when the next argument ends with `valueSuffix`.
   */
  optionalValue?: boolean;
  valueSuffix?: string;
}

/** One positional argument. */
export interface PositionalSpec {
  name: string;
  help: string;
  required: boolean;
}

/** A command's interface: used for parsing and help. */
export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  positionals: readonly PositionalSpec[];
  flags: readonly FlagSpec[];
  /** Extra help paragraphs (examples). */
  epilog?: string;
}

/** Parsed arguments: flag values by name (only those given), positionals in order. */
export interface ParsedArgs {
  flags: Record<string, string | number | boolean>;
  positionals: string[];
  help: boolean;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function convert(cmd: string, spec: FlagSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  const fail = (expected: string): never => {
    throw new UsageError(`${cmd}: ${flag} ${expected}, got ${quote(raw)}`);
  };
  switch (spec.type) {
    case 'string':
      if (raw.length === 0) fail('a non-empty value');
      return raw;
    case 'choice':
      if (!spec.choices!.includes(raw)) fail(`one of ${spec.choices!.join(', ')}`);
      return raw;
    case 'int':
    case 'number': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      const isInt = spec.type === 'int';
      const min = spec.min;
      const bound =
        min === undefined ? '' : spec.exclusiveMin ? ` > ${min}` : min === 0 && isInt ? ' >= 0' : min === 1 && isInt ? ' >= 1' : ` >= ${min}`;
      const kind = isInt ? (min === 1 && !spec.exclusiveMin ? 'a positive integer' : `an integer${bound}`) : `a number${bound}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`;
      if (!Number.isFinite(v) || (isInt && !Number.isInteger(v))) fail(kind);
      if (min !== undefined && (spec.exclusiveMin ? !(v > min) : !(v >= min))) fail(kind);
      if (spec.max !== undefined && v > spec.max) fail(kind);
      return v;
    }
    default:
      throw new Error(`internal: flag type ${spec.type} takes no value`);
  }
}

/**
 * Parses `argv` (the arguments after the command name) against `spec`. `--help` / `-h` anywhere
 * sets `help` and skips validation of everything else.
 *
 * @throws UsageError for unknown flags, missing or bad values, and wrong positional counts.
 */
export function parseArgs(prog: string, spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const cmd = `${prog} ${spec.name}`;
  if (argv.includes('--help') || argv.includes('-h')) return { flags: {}, positionals: [], help: true };
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-' && !/^-\d/.test(a)) {
      const body = a.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      let f = byName.get(name);
      let negated = false;
      if (!f && name.startsWith('no-')) {
        const g = byName.get(name.slice(3));
        if (g && g.type === 'boolean') {
          f = g;
          negated = true;
        }
      }
      if (!f || !a.startsWith('--')) {
        throw new UsageError(`${cmd}: a known flag (see ${cmd} --help), got unknown flag ${a.startsWith('--') ? `--${name}` : a}`);
      }
      if (Object.prototype.hasOwnProperty.call(flags, f.name)) throw new UsageError(`${cmd}: --${f.name} at most once, got it twice`);
      if (f.type === 'boolean') {
        if (eq >= 0) {
          const v = body.slice(eq + 1);
          if (v !== 'true' && v !== 'false') throw new UsageError(`${cmd}: --${f.name} true or false (or no value), got ${quote(v)}`);
          flags[f.name] = (v === 'true') !== negated;
        } else {
          flags[f.name] = !negated;
        }
        continue;
      }
      let raw: string | undefined;
      if (eq >= 0) raw = body.slice(eq + 1);
      else if (f.optionalValue) {
        const next = argv[i + 1];
        if (next !== undefined && f.valueSuffix && next.endsWith(f.valueSuffix)) raw = argv[++i];
      } else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new UsageError(`${cmd}: --${f.name} a value (${valuePlaceholder(f)}), got ${next === undefined ? 'end of arguments' : `flag ${next}`}`);
        }
        raw = argv[++i];
      }
      flags[f.name] = raw === undefined ? true : convert(cmd, f, raw);
      continue;
    }
    positionals.push(a);
  }
  const required = spec.positionals.filter((p) => p.required).length;
  if (positionals.length < required) {
    const missing = spec.positionals[positionals.length]!;
    throw new UsageError(`${cmd}: a <${missing.name}> argument (${missing.help}; see ${cmd} --help), got none`);
  }
  if (positionals.length > spec.positionals.length) {
    throw new UsageError(`${cmd}: at most ${spec.positionals.length} argument${spec.positionals.length === 1 ? '' : 's'}, got unexpected ${quote(positionals[spec.positionals.length]!)}`);
  }
  return { flags, positionals, help: false };
}

function valuePlaceholder(f: FlagSpec): string {
  if (f.value) return f.value;
  if (f.type === 'choice') return f.choices!.join('|');
  if (f.type === 'int' || f.type === 'number') return 'N';
  return 'VALUE';
}

/** The help text of a command. */
export function helpText(prog: string, spec: CommandSpec): string {
  const lines = [`Usage: ${prog} ${spec.usage}`, '', spec.summary, ''];
  if (spec.positionals.length > 0) {
    lines.push('Arguments:');
    for (const p of spec.positionals) lines.push(`  ${`<${p.name}>`.padEnd(28)}${p.help}`);
    lines.push('');
  }
  lines.push('Options:');
  const rows: [string, string][] = spec.flags.map((f) => {
    const left = f.type === 'boolean' ? `--${f.name}` : f.optionalValue ? `--${f.name} [${valuePlaceholder(f)}]` : `--${f.name} ${valuePlaceholder(f)}`;
    return [left, `${f.help}${f.defaultText !== undefined ? ` (default: ${f.defaultText})` : ''}`];
  });
  rows.push(['-h, --help', 'Show this help']);
  const width = Math.max(28, ...rows.map(([l]) => l.length + 2));
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(width)}${r}`);
  if (spec.epilog) lines.push('', spec.epilog.trimEnd());
  return `${lines.join('\n')}\n`;
}
