/**
 * One flag table (src/flags/table.ts) drives parsing, help, job settings and the README tables: these
 * tests fail when README drifts from it, when a command's help leaves a flag out, or when a job setting's
 * S3LOGS_* name or config-file key stops reaching the same check as its flag.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFlagTables } from '../scripts/flagDocs.js';
import { parseConvertConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { FlagValues } from '../src/flags/read.js';
import { COMMANDS, envOf, FLAGS, flagsOf } from '../src/flags/table.js';
import { commandHelp, HELP } from '../src/help.js';
import { loadJobSettings } from '../src/jobs/settings.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3logs-flags-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const job = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  loadJobSettings('backfill', ['--from', '2024-01-01', '--to', '2024-01-02', ...argv], env, () => ['2024-01-01', '2024-01-02']);

describe('the flag table', () => {
  it('README shows the tables rendered from it (run node dist/scripts/flagDocs.js --write to refresh)', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(withFlagTables(readme)).toBe(readme);
    expect(readme).toContain('| `--max-reject-ratio <r>` | 0.01 | `S3LOGS_MAX_REJECT_RATIO` |');
  });

  it('gives each command one flag per name, and every help names every flag the command takes', () => {
    for (const command of COMMANDS) {
      const names = flagsOf(command).map((f) => f.name);
      expect(new Set(names).size, `${command}: ${names.join(' ')}`).toBe(names.length);
      const help = commandHelp(command);
      expect(help.startsWith(`s3logs ${command}`)).toBe(true);
      for (const flag of flagsOf(command).filter((f) => !f.hidden))
        expect(help, `${command} --help`).toMatch(new RegExp(`^  --${flag.name}\\b`, 'm'));
    }
  });

  it('lists every command exactly once in s3logs --help', () => {
    const listed = [...HELP.matchAll(/^ {2}([a-z]+) +\S/gm)].map((m) => m[1]);
    expect(listed).toEqual([...COMMANDS]);
  });

  it('shows defaults in help from the table', () => {
    expect(commandHelp('convert')).toMatch(/--concurrency <n> +concurrent object fetches \(default 16\)/);
    expect(commandHelp('nightly')).toMatch(/--lookback-days <n>[^\n]*\n?[^\n]*\(default 3\)/);
  });

  it('names job settings S3LOGS_<FLAG> and gives date flags of convert none', () => {
    expect(envOf(FLAGS.maxRejectRatio, 'nightly')).toBe('S3LOGS_MAX_REJECT_RATIO');
    expect(envOf(FLAGS.lagDays, 'nightly')).toBe('S3LOGS_LAG_DAYS');
    expect(envOf(FLAGS.concurrency, 'convert')).toBeUndefined();
    expect(flagsOf('nightly').map((f) => f.name)).not.toContain('date');
    // A tuning variable of convert's progress printer, not the job setting; the config file key still is.
    expect(envOf(FLAGS.progressSeconds, 'backfill')).toBeUndefined();
  });
});

describe('one check per setting, whichever way it comes', () => {
  it('a flag, its S3LOGS_* variable and its config-file key reach the same typed value and the same message', async () => {
    const base = ['--source', join(work, 'raw/'), '--dest', join(work, 'lake')];
    expect(job([...base, '--concurrency', '7']).convert.concurrency).toBe(7);
    expect(job(base, { S3LOGS_CONCURRENCY: '8' }).convert.concurrency).toBe(8);
    const file = join(work, 'settings.json');
    await writeFile(file, JSON.stringify({ concurrency: 9, 'progress-seconds': 5, 'max-reject-ratio': '0.5', json: true }));
    const fromFile = job([...base, '--config', file]);
    expect([
      fromFile.convert.concurrency,
      fromFile.convert.maxRejectRatio,
      fromFile.convert.json,
      fromFile.values.value(FLAGS.progressSeconds),
    ]).toEqual([9, 0.5, true, 5]);
    // Precedence: flag over environment over file.
    expect(job([...base, '--config', file, '--concurrency', '3'], { S3LOGS_CONCURRENCY: '4' }).convert.concurrency).toBe(3);
    expect(job([...base, '--config', file], { S3LOGS_CONCURRENCY: '4' }).convert.concurrency).toBe(4);

    const message = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('no ConfigError');
    };
    const fromFlag = message(() => job([...base, '--concurrency', '0']));
    expect(fromFlag).toBe('--concurrency must be a whole number from 1 to 512, got "0"');
    expect(message(() => job(base, { S3LOGS_CONCURRENCY: '0' }))).toBe(fromFlag);
    expect(message(() => parseConvertConfig([...base, '--date', '2024-01-01', '--concurrency', '0']))).toBe(fromFlag);
  });

  it('parses --source and --dest once, into the config', () => {
    const config = parseConvertConfig(['--source', 's3://logs/raw/', '--dest', join(work, 'lake'), '--date', '2024-01-01']);
    expect(config.sourceLocation).toEqual({ kind: 's3', uri: 's3://logs/raw/', bucket: 'logs', prefix: 'raw/' });
    expect(config.destLocation).toEqual({ kind: 'local', uri: join(work, 'lake'), path: join(work, 'lake') });
  });

  it("reads commit's --shards through the table, in either spelling", () => {
    expect(FlagValues.fromArgv('commit', ['--shards=3']).optional(FLAGS.commitShards)).toBe(3);
    expect(FlagValues.fromArgv('commit', ['--shards', '4']).optional(FLAGS.commitShards)).toBe(4);
    expect(() => FlagValues.fromArgv('commit', ['--shards', '1']).optional(FLAGS.commitShards)).toThrow(
      '--shards must be a whole number from 2 to 1000000',
    );
  });

  it('refuses to read a flag the command does not take (a table bug, not a usage error)', () => {
    expect(() => FlagValues.fromArgv('ddl', []).value(FLAGS.concurrency)).toThrow(/not a flag of ddl/);
  });
});
