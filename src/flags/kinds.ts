/**
 * Value kinds of the flag table: each checks a raw setting (a flag's text, an S3LOGS_* variable, a
 * config-file value) and returns the typed value, or throws a ConfigError that names the flag and the fix.
 * One of each: every whole-number flag goes through `int`, every bucket name through `bucket`.
 */
import { isBucketName } from '../bucketName.js';
import { ConfigError } from '../errors.js';
import { parseDay } from '../stages/time.js';

export interface Kind<T> {
  /** For help and README: what the value looks like when the flag gives no placeholder. */
  readonly arg: string;
  parse(raw: string, flag: string): T;
}

const quote = JSON.stringify;

/** A whole number from min to max. */
export function int(min: number, max: number): Kind<number> {
  return {
    arg: '<n>',
    parse(raw, flag) {
      if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
        throw new ConfigError(`${flag} must be a whole number from ${min} to ${max}, got ${quote(raw)}`, flag);
      return Number(raw);
    },
  };
}

/** A share from 0 to 1. */
export const ratio: Kind<number> = {
  arg: '<r>',
  parse(raw, flag) {
    const parsed = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
      throw new ConfigError(`${flag} must be a number from 0 to 1 (a share of the lines, 1 turns the check off), got ${quote(raw)}`, flag);
    }
    return parsed;
  },
};

export function oneOf<T extends string>(allowed: readonly T[]): Kind<T> & { readonly allowed: readonly T[] } {
  return {
    allowed,
    arg: allowed.join('|'),
    parse(raw, flag) {
      if (!(allowed as readonly string[]).includes(raw))
        throw new ConfigError(`${flag} must be one of ${allowed.join(', ')}, got ${quote(raw)}`, flag);
      return raw as T;
    },
  };
}

/** Day number (days since 1970-01-01, UTC) of a YYYY-MM-DD flag. */
export function parseDate(raw: string, flag: string): number {
  const day = parseDay(raw);
  if (Number.isNaN(day)) throw new ConfigError(`${flag} must be a date as YYYY-MM-DD (UTC), got ${quote(raw)}`, flag);
  return day;
}

/** A UTC date, kept as its YYYY-MM-DD text. */
export const date: Kind<string> = {
  arg: 'YYYY-MM-DD',
  parse(raw, flag) {
    parseDate(raw, flag);
    return raw;
  },
};

/** Any text (locations are parsed by the command, which knows what they are for). */
export const text: Kind<string> = { arg: '<value>', parse: (raw) => raw };

/** A Glue/Hive database or table name. */
export const glueName: Kind<string> = {
  arg: '<name>',
  parse(raw, flag) {
    if (!/^[a-z0-9_]{1,255}$/.test(raw))
      throw new ConfigError(`${flag} must be lower case letters, digits and _ (Glue/Hive names), got ${quote(raw)}`, flag);
    return raw;
  },
};

/** An S3 bucket name (an s3:// prefix and a trailing slash are tolerated). */
export const bucket: Kind<string> = {
  arg: '<name>',
  parse(raw, flag) {
    const name = raw.replace(/^s3:\/\//, '').replace(/\/$/, '');
    if (!isBucketName(name)) throw new ConfigError(`${flag} ${quote(raw)} is not an S3 bucket name`, flag);
    return name;
  },
};

/** Comma-separated bucket names (a comma would split an Athena enum, so it never is part of one). */
export const bucketList: Kind<string[]> = {
  arg: '<a,b,...>',
  parse(raw, flag) {
    const names = raw.split(',').map((b) => b.trim());
    const bad = names.find((b) => !isBucketName(b));
    if (bad !== undefined)
      throw new ConfigError(
        `${flag}: ${quote(bad)} is not a bucket name; pass the logged buckets comma-separated, e.g. ${flag} web-assets,api-data`,
        flag,
      );
    return names;
  },
};

/** MiB of Parquet per compacted file; fractions allowed (tests and small lakes). */
export const targetMib: Kind<number> = {
  arg: '<MiB>',
  parse(raw, flag) {
    const mb = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(mb) || mb < 0.01 || mb > 4096)
      throw new ConfigError(`${flag} must be a number of MiB from 0.01 to 4096 (default 128), got ${quote(raw)}`, flag);
    return mb;
  },
};

/** A 12-digit AWS account ID. */
export function account(what: string): Kind<string> {
  return {
    arg: '<account>',
    parse(raw, flag) {
      if (!/^\d{12}$/.test(raw)) throw new ConfigError(`${flag} must be ${what}, got ${quote(raw)}`, flag);
      return raw;
    },
  };
}

export const region: Kind<string> = {
  arg: '<region>',
  parse(raw, flag) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw))
      throw new ConfigError(`${flag} ${quote(raw)} is not an AWS region name such as us-east-1`, flag);
    return raw;
  },
};

export const httpUrl: Kind<string> = {
  arg: '<url>',
  parse(raw, flag) {
    if (!/^https?:\/\/[^\s/]+/.test(raw))
      throw new ConfigError(`${flag} must be an http(s) URL such as http://127.0.0.1:9000, got ${quote(raw)}`, flag);
    return raw;
  },
};
