/**
 * A small, strict argument parser: flags are declared, anything undeclared is a usage error,
 * `--flag=value` and `--flag value` both work, and `--` ends the flags.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Which flags a command takes. */
export interface FlagSpec {
  readonly boolean?: readonly string[];
  readonly string?: readonly string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly booleans: ReadonlySet<string>;
  readonly strings: ReadonlyMap<string, string>;
}

/** Parses `argv` against `spec`. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const positional: string[] = [];
  const booleans = new Set<string>();
  const strings = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg)) {
        throw new UsageError(`Unknown option "${arg}"`);
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (spec.boolean?.includes(name)) {
      if (eq !== -1) throw new UsageError(`Option --${name} takes no value`);
      booleans.add(name);
    } else if (spec.string?.includes(name)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") {
        throw new UsageError(`Option --${name} needs a value`);
      }
      strings.set(name, value);
    } else {
      throw new UsageError(`Unknown option "--${name}"`);
    }
  }
  return { positional, booleans, strings };
}

/** Takes exactly `names.length` positional arguments, naming the first one missing. */
export function expectPositional(
  args: ParsedArgs,
  names: readonly string[],
  usage: string,
): string[] {
  if (args.positional.length < names.length) {
    throw new UsageError(`Missing ${names[args.positional.length]}; usage: ${usage}`);
  }
  if (args.positional.length > names.length) {
    throw new UsageError(`Unexpected argument "${args.positional[names.length]}"; usage: ${usage}`);
  }
  return [...args.positional];
}
