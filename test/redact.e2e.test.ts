/**
 * --redact through the real CLI on the local store, with the seeded generator's presigned URLs: live
 * tokens before, none after, every other value unchanged; the setting in the manifest and the catalog;
 * a run with another setting re-publishes the key date or refuses to mix (exit 2); jobs re-convert a
 * key date whose setting changed; doctor's sample sees the tokens.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import type { KeyDateManifest } from '../src/records.js';
import { checkLakeSecrets, lakeSecretsCheck, sampleLakeSecrets } from '../src/setup/lakeSecrets.js';
import { truncateIp } from '../src/stages/redact.js';
import { LocalStorage } from '../src/storage/local.js';
import { runCli } from './helpers/cli.js';
import { query, readTable, rowKey } from './helpers/duck.js';

const KEY_DATE = '2024-03-10';
const OPTIONS: GenerateOptions = {
  seed: 31,
  keyDate: KEY_DATE,
  layout: 'date-based',
  prefix: 'logs/',
  objects: 10,
  minObjectBytes: 64 * 1024,
  maxObjectBytes: 160 * 1024,
  rejectFraction: 0.002,
};

let root: string;
let raw: string;
const lake = (name: string) => join(root, name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 's3logs-redact-e2e-'));
  raw = join(root, 'raw');
  await writeKeyDateToDirectory(raw, OPTIONS);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const convert = (dest: string, extra: string[] = []) =>
  runCli(['convert', '--source', join(raw, 'logs') + '/', '--dest', dest, '--date', KEY_DATE, '--workers', '0', '--json', ...extra]);
const manifest = async (dest: string) =>
  JSON.parse(await readFile(join(dest, '_s3logs/keydates', KEY_DATE, 'manifest.json'), 'utf8')) as KeyDateManifest;
const tableRedact = async (dest: string) =>
  (JSON.parse(await readFile(join(dest, '_s3logs/catalog.json'), 'utf8')) as { table: { redact?: string[] } }).table.redact;

/** Rows holding a value of the parameter that is not the marker, in request_uri or request_query. */
async function liveRows(dest: string, name: string): Promise<number> {
  const live = (column: string) =>
    `len(list_filter(regexp_extract_all(coalesce(${column}, ''), '(?i)[?&]${name}=([^&\\s]*)', 1), v -> v <> 'REDACTED')) > 0`;
  const [row] = await query(
    `SELECT count(*) FILTER (WHERE ${live('request_uri')}) AS uri, count(*) FILTER (WHERE ${live("'?' || request_query")}) AS query FROM read_parquet('${dest}/**/*.parquet')`,
  );
  expect(Number(row!.uri)).toBe(Number(row!.query));
  return Number(row!.uri);
}

const ORACLE =
  /((?:^|[?&]|%3F|%26))(x-amz-credential|x-amz-signature|x-amz-security-token|awsaccesskeyid|signature)(=|%3D)((?:(?!%26)[^&\s#"])+)/gi;
function presigned(value: unknown, shape: 'url' | 'query'): unknown {
  if (typeof value !== 'string') return value;
  const replace = (text: string) => text.replace(ORACLE, (_m, sep: string, name: string, eq: string) => `${sep}${name}${eq}REDACTED`);
  if (shape === 'query') return replace(value);
  const q = value.indexOf('?');
  return q < 0 ? value : value.slice(0, q + 1) + replace(value.slice(q + 1));
}
function ip(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const out = new Uint8Array(64);
  const n = truncateIp(Buffer.from(value), 0, value.length, out);
  return n < 0 ? value : Buffer.from(out.subarray(0, n)).toString();
}

async function rejectText(dest: string): Promise<string> {
  const dir = join(dest, '_s3logs/rejects', `keydate=${KEY_DATE}`);
  const names = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')))).join('');
}

describe('--redact end to end', () => {
  it('removes every live secret and IP tail, changes nothing else, and records the setting', async () => {
    const plain = lake('plain');
    const redacted = lake('redacted');
    expect((await convert(plain)).code).toBe(0);
    const run = await convert(redacted, ['--redact', 'presigned,ip']);
    expect(run.code, run.stderr).toBe(0);

    // The generator's presigned URLs: live values before, none after.
    const before = {
      token: await liveRows(plain, 'X-Amz-Security-Token'),
      signature: await liveRows(plain, 'X-Amz-Signature'),
      credential: await liveRows(plain, 'X-Amz-Credential'),
      sigv2: await liveRows(plain, 'Signature'),
    };
    expect(before.token).toBeGreaterThan(0);
    expect(before.signature).toBeGreaterThan(before.token);
    expect(before.sigv2).toBeGreaterThan(0);
    for (const name of ['X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-Credential', 'Signature', 'AWSAccessKeyId'])
      expect(await liveRows(redacted, name), name).toBe(0);
    const [marked] = await query(
      `SELECT count(*) AS n FROM read_parquet('${redacted}/**/*.parquet') WHERE request_query LIKE '%X-Amz-Security-Token=REDACTED%'`,
    );
    expect(Number(marked!.n)).toBe(before.token);

    // Every row of the plain lake, redacted by the independent rule, is a row of the redacted lake.
    const expected = (await readTable(plain)).map((row) => ({
      ...row,
      request_uri: presigned(row.request_uri, 'url'),
      request_query: presigned(row.request_query, 'query'),
      referrer: presigned(row.referrer, 'url'),
      remoteip: ip(row.remoteip),
    }));
    const actual = await readTable(redacted);
    expect(actual.length).toBe(expected.length);
    expect(actual.map(rowKey).sort()).toEqual(expected.map(rowKey).sort());
    const [ips] = await query(
      `SELECT count(*) FILTER (WHERE remoteip LIKE '%.%' AND NOT remoteip LIKE '%.0') AS v4, count(*) FILTER (WHERE remoteip LIKE '%:%' AND NOT remoteip LIKE '%::') AS v6, count(*) FILTER (WHERE remoteip LIKE '%:%') AS v6all FROM read_parquet('${redacted}/**/*.parquet')`,
    );
    expect([Number(ips!.v4), Number(ips!.v6)]).toEqual([0, 0]);
    expect(Number(ips!.v6all)).toBeGreaterThan(0);

    // Rejected lines are kept redacted too.
    expect(await rejectText(plain)).toMatch(/Signature=(?!REDACTED)\w/);
    expect(await rejectText(redacted)).not.toMatch(
      /(?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|[?&]Signature)=(?!REDACTED)[^&\s"\\]/i,
    );

    // Recorded: the key date's manifest and the catalog's table.
    expect((await manifest(redacted)).redact).toEqual(['ip', 'presigned']);
    expect((await manifest(plain)).redact).toEqual([]);
    expect(await tableRedact(redacted)).toEqual(['ip', 'presigned']);
    expect(await tableRedact(plain)).toEqual([]);

    // doctor's sample sees the live tokens in one lake and none in the other.
    const plainSample = await sampleLakeSecrets(new LocalStorage(plain));
    expect(plainSample!.tokenRows).toBe(before.token);
    const check = lakeSecretsCheck(plainSample!);
    expect(check.status).toBe('warn');
    expect(check.fix).toContain('--redact presigned');
    const redactedSample = await sampleLakeSecrets(new LocalStorage(redacted));
    expect([redactedSample!.tokenRows, redactedSample!.signatureRows, redactedSample!.rows]).toEqual([0, 0, actual.length]);
    expect(lakeSecretsCheck(redactedSample!).status).toBe('pass');
    expect(await sampleLakeSecrets(new LocalStorage(lake('empty')))).toBeUndefined();
    // As doctor runs it, from --dest.
    expect(await checkLakeSecrets(plain, {})).toMatchObject({ id: 'lake-secrets', status: 'warn' });
    expect(await checkLakeSecrets(lake('empty'), {})).toBeUndefined();
  }, 60_000);

  it('another setting re-publishes a key date it re-reads whole, and refuses (exit 2) to mix with rows it cannot re-read', async () => {
    const dest = lake('switch');
    expect((await convert(dest, ['--redact', 'presigned'])).code).toBe(0);
    const rows = (await manifest(dest)).objects.reduce((n, o) => n + o.rows, 0);
    // Every object is still at the source: the run re-reads them all, the key date switches setting.
    const plainRun = await convert(dest);
    expect(plainRun.code, plainRun.stderr).toBe(0);
    expect((await manifest(dest)).redact).toEqual([]);
    expect(await liveRows(dest, 'X-Amz-Signature')).toBeGreaterThan(0);
    // The table held redacted rows and now holds unredacted ones: it no longer claims any redaction.
    expect(await tableRedact(dest)).toEqual([]);

    // One raw object expires: its rows stay, written without redaction; a redacting run would mix.
    const gone = [...generateKeyDate(OPTIONS)][3]!;
    await rm(join(raw, ...gone.key.split('/')));
    const before = await readFile(join(dest, '_s3logs/keydates', KEY_DATE, 'manifest.json'), 'utf8');
    const refused = await convert(dest, ['--redact', 'presigned']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--redact none');
    expect(refused.stderr).toContain(gone.key.split('/').pop());
    expect(refused.stderr).toContain('--delete-vanished');
    expect(await readFile(join(dest, '_s3logs/keydates', KEY_DATE, 'manifest.json'), 'utf8')).toBe(before);

    // Dropping the expired object's rows makes the key date whole again under the new setting.
    const dropped = await convert(dest, ['--redact', 'presigned', '--delete-vanished']);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect((await manifest(dest)).redact).toEqual(['presigned']);
    expect((await manifest(dest)).objects.reduce((n, o) => n + o.rows, 0)).toBe(rows - gone.rows.length);
    expect(await liveRows(dest, 'X-Amz-Signature')).toBe(0);
    await writeKeyDateToDirectory(raw, OPTIONS);
  }, 60_000);

  it('jobs skip a key date converted with the same setting and re-convert one whose setting changed', async () => {
    const dest = lake('jobs');
    const backfill = (extra: string[]) =>
      runCli([
        'backfill',
        '--source',
        join(raw, 'logs') + '/',
        '--dest',
        dest,
        '--from',
        KEY_DATE,
        '--to',
        KEY_DATE,
        '--workers',
        '0',
        '--json',
        ...extra,
      ]);
    const status = (out: string) => (JSON.parse(out) as { keyDates: Array<{ status: string }> }).keyDates[0]!.status;
    let run = await backfill(['--redact', 'presigned']);
    expect(run.code, run.stderr).toBe(0);
    expect(status(run.stdout)).toBe('converted');
    run = await backfill(['--redact', 'presigned']);
    expect(status(run.stdout)).toBe('unchanged');
    run = await backfill(['--redact', 'presigned,ip']);
    expect(status(run.stdout)).toBe('converted');
    expect((await manifest(dest)).redact).toEqual(['ip', 'presigned']);
    run = await runCli(
      ['backfill', '--source', join(raw, 'logs') + '/', '--dest', dest, '--from', KEY_DATE, '--to', KEY_DATE, '--workers', '0', '--json'],
      { S3LOGS_REDACT: 'ip,presigned' },
    );
    expect(status(run.stdout)).toBe('unchanged');
  }, 60_000);
});
