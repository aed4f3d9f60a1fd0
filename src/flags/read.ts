/**
 * Reading flags through the table: argv → raw values (node:util parseArgs with the command's options),
 * then typed values on demand. A value is checked by its flag's kind when the command reads it, so a
 * command's checks run in the order it reads them, whichever of flags, S3LOGS_* or a config file gave it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';
import type { Kind } from './kinds.js';
import { flagsOf, type BooleanFlag, type Command, type FlagSpec, type StringFlag } from './table.js';

/** As given: strings, or true/false for boolean flags; absent flags are undefined. */
export type RawValues = Record<string, string | boolean | undefined>;

/** The parseArgs options of a command. */
export function parseArgsOptions(command: Command): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(flagsOf(command).map((f) => [f.name, { type: f.type, ...(f.short ? { short: f.short } : {}) }]));
}

export function readArgv(command: Command, argv: string[]): RawValues {
  return readArgvAndPositionals(command, argv, false).values;
}

/** For a command that also takes arguments (`s3logs query "<SQL>"`). */
export function readArgvAndPositionals(
  command: Command,
  argv: string[],
  allowPositionals = true,
): { values: RawValues; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: parseArgsOptions(command), strict: true, allowPositionals });
    return { values: parsed.values as RawValues, positionals: parsed.positionals };
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown)
      throw new ConfigError(`unknown flag ${unknown[1]} for \`s3logs ${command}\`; see \`s3logs ${command} --help\``, unknown[1]);
    const flag = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
    throw new ConfigError(`${message.replace(/\.$/, '')}; see \`s3logs ${command} --help\``, flag);
  }
}

/** A command's settings, read through its flags' kinds. */
export class FlagValues {
  constructor(
    readonly command: Command,
    readonly raw: RawValues,
  ) {}

  static fromArgv(command: Command, argv: string[]): FlagValues {
    return new FlagValues(command, readArgv(command, argv));
  }

  private check(flag: FlagSpec): void {
    // A builder reading a flag its command does not take is a bug in the table, not a usage error.
    if (!flag.commands.includes(this.command)) throw new Error(`--${flag.name} is not a flag of ${this.command} in src/flags/table.ts`);
  }

  /** Given at all (flag, variable or file). */
  given(flag: FlagSpec): boolean {
    this.check(flag);
    return this.raw[flag.name] !== undefined;
  }

  /** The raw text as given, unchecked (for messages that quote it). */
  text(flag: StringFlag): string | undefined {
    this.check(flag);
    const value = this.raw[flag.name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(flag: BooleanFlag): boolean {
    this.check(flag);
    return this.raw[flag.name] === true;
  }

  /** The checked value, or undefined when not given (the default is not applied). */
  optional<T>(flag: StringFlag & { readonly kind: Kind<T> }): T | undefined {
    const value = this.text(flag);
    return value === undefined ? undefined : (flag.kind as Kind<T>).parse(value, `--${flag.name}`);
  }

  /** The checked value, or the flag's default. */
  value<T>(flag: StringFlag & { readonly kind: Kind<T>; readonly default: NoInfer<T> }): T {
    return this.optional(flag) ?? flag.default;
  }
}
