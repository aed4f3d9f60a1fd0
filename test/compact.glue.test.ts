/**
 * Compaction with the Glue catalog (the stand-in speaking Glue's JSON protocol, the real SDK): Glue knows
 * partitions (values and locations) and the table's properties (`s3logs.schema_version`, `s3logs.redact`),
 * none of which compaction changes — it rewrites files inside partition directories, and s3logs records
 * no file counts, sizes or statistics in Glue. So after `s3logs compact`, after a convert that splits a
 * compacted file, and after a nightly that compacts, Glue's partitions are exactly the lake's (no partition
 * new, missing, or pointing at a directory without files), the table's properties are what the converts
 * made them, and the key dates' registered markers follow the manifests compaction wrote, so a later
 * job that finds a key date unchanged does not register it again.
 */
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../schemas/accessLog.js';
import { generateKeyDate, writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import type { KeyDateManifest, RegisteredMarker } from '../src/records.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { GLUE_WRITE_OPERATIONS, startGlueStandIn, type GlueStandIn } from './helpers/glueStandIn.js';

const ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const DATABASE = 'logs_db';
/** Convert writes files of at most 20 rows; compaction's target merges them (see compact.test.ts). */
const SMALL_FILES = ['--file-rows', '20', '--row-group-rows', '50', '--workers', '0'];
const TARGET = ['--target-file-mb', '0.03'];

const options = (keyDate: string, seed: number): GenerateOptions => ({
  seed,
  keyDate,
  layout: 'simple',
  prefix: 'logs/',
  objects: 6,
  minObjectBytes: 8 * 1024,
  maxObjectBytes: 32 * 1024,
  // Late records put rows of several key dates into one partition: compacted files are shared.
  lateFraction: 0.4,
  rejectFraction: 0.003,
});

/** `bucket\u0001dt` of every partition directory holding Parquet files, with their number. */
async function lakePartitions(lake: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const b of (await readdir(lake)).filter((d) => d.startsWith('bucket='))) {
    for (const d of await readdir(join(lake, b))) {
      const files = (await readdir(join(lake, b, d))).filter((f) => f.endsWith('.parquet')).length;
      if (files > 0) out.set(`${b.slice('bucket='.length)}\u0001${d.slice('dt='.length)}`, files);
    }
  }
  return out;
}

describe('compaction with --catalog glue', () => {
  let glue: GlueStandIn;
  let work: string;
  const raw = () => join(work, 'raw', 'logs/');
  const glueArgs = (table: string) => ['--catalog', 'glue', '--database', DATABASE, '--table', table, '--endpoint-url', glue.endpoint];

  /** Every Glue partition of a table: values → its PartitionInput (location, descriptor, creation time). */
  const partitions = (table: string) => glue.state.partitions.get(`${DATABASE}.${table}`) ?? new Map<string, Record<string, unknown>>();
  const tableOf = (table: string) => glue.state.tables.get(`${DATABASE}.${table}`)!;
  /** All of the table's Glue state, as JSON: what must not change when only files inside partitions do. */
  const glueState = (table: string) =>
    JSON.stringify({ table: tableOf(table), partitions: [...partitions(table)].sort(([a], [b]) => (a < b ? -1 : 1)) });
  const calls = () => Object.values(glue.calls).reduce((a, b) => a + b, 0);

  /** Glue's partitions are the lake's: the same set, each at its directory (which holds files). */
  async function expectCatalogIsLake(lake: string, table: string): Promise<void> {
    const registered = partitions(table);
    expect([...registered.keys()].sort()).toEqual([...(await lakePartitions(lake)).keys()].sort());
    for (const [values, p] of registered) {
      const [bucket, dt] = values.split('\u0001');
      expect((p as { StorageDescriptor: { Location: string } }).StorageDescriptor.Location).toBe(`${lake}/bucket=${bucket}/dt=${dt}/`);
    }
  }

  /** Each key date's registered marker names its manifest's run (as after a convert): jobs see it registered. */
  async function expectMarkersFollowManifests(lake: string, keyDates: readonly string[]): Promise<void> {
    for (const keyDate of keyDates) {
      const dir = join(lake, '_s3logs', 'keydates', keyDate);
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as KeyDateManifest;
      const marker = JSON.parse(await readFile(join(dir, 'registered.json'), 'utf8')) as RegisteredMarker;
      expect(marker, keyDate).toMatchObject({ runId: manifest.runId, catalog: 'glue' });
    }
  }

  const rows = async (lake: string) => (await readTable(lake)).map(rowKey).sort();
  const ok = (result: CliResult) => {
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return result.stdout ? JSON.parse(result.stdout) : undefined;
  };

  beforeAll(async () => {
    glue = await startGlueStandIn({ pageSize: 3 });
    work = await mkdtemp(join(tmpdir(), 's3logs-compact-glue-'));
  });
  afterAll(async () => {
    await glue?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('s3logs compact, then a convert that splits', () => {
    const KEY_DATES = ['2024-06-10', '2024-06-11', '2024-06-12'];
    const TABLE = 'access';
    let lake: string;
    let converted: string[];
    const convert = (from: string, to = from) =>
      runCli(
        [
          'convert',
          '--source',
          raw(),
          '--dest',
          lake,
          '--date',
          from,
          '--to',
          to,
          '--redact',
          'ip',
          ...SMALL_FILES,
          '--json',
          '--quiet',
          ...glueArgs(TABLE),
        ],
        ENV,
      );
    const compact = () =>
      runCli([
        'compact',
        '--dest',
        lake,
        '--from',
        '2024-06-01',
        '--to',
        KEY_DATES[2]!,
        ...TARGET,
        '--row-group-rows',
        '50',
        '--json',
        '--quiet',
      ]);

    beforeAll(async () => {
      lake = join(work, 'lake');
      for (const [i, keyDate] of KEY_DATES.entries()) await writeKeyDateToDirectory(join(work, 'raw'), options(keyDate, 50 + i));
      ok(await convert(KEY_DATES[0]!, KEY_DATES[2]!));
      converted = await rows(lake);
      const generated = KEY_DATES.flatMap((d, i) => [...generateKeyDate(options(d, 50 + i))].flatMap((o) => o.rows));
      expect(converted).toHaveLength(generated.length);
    }, 60_000);

    it('compaction leaves Glue as it was, and the lake still matches it', async () => {
      await expectCatalogIsLake(lake, TABLE);
      const before = glueState(TABLE);
      const filesBefore = await lakePartitions(lake);
      const callsBefore = calls();
      const summary = ok(await compact());
      expect(summary.partitions.compacted).toBeGreaterThan(0);
      expect(summary.results.some((r: { members: string[] }) => r.members.length > 1)).toBe(true);
      const filesAfter = await lakePartitions(lake);
      expect([...filesAfter.values()].reduce((a, b) => a + b)).toBeLessThan([...filesBefore.values()].reduce((a, b) => a + b));
      // Glue: not one call, and nothing in it differs (partitions, locations, descriptors, table properties).
      expect(calls()).toBe(callsBefore);
      expect(glueState(TABLE)).toBe(before);
      await expectCatalogIsLake(lake, TABLE);
      const params = tableOf(TABLE).input.Parameters as Record<string, string>;
      expect(params['s3logs.redact']).toBe('ip');
      expect(params['s3logs.schema_version']).toBe(String(SCHEMA_VERSION));
      expect(await rows(lake)).toEqual(converted);
      await expectMarkersFollowManifests(lake, KEY_DATES);
    });

    it('a convert that must split a compacted file registers the same partitions, and compacting again changes nothing in Glue', async () => {
      const before = glueState(TABLE);
      const writes = glue.count(...GLUE_WRITE_OPERATIONS);
      const middle = KEY_DATES[1]!;
      const manifestOf = async (keyDate: string) =>
        JSON.parse(await readFile(join(lake, '_s3logs', 'keydates', keyDate, 'manifest.json'), 'utf8')) as KeyDateManifest;
      expect((await manifestOf(middle)).files.some((f) => f.shared)).toBe(true);
      ok(await convert(middle));
      // It split: the middle key date holds no compacted file now.
      expect((await manifestOf(middle)).files.some((f) => f.shared)).toBe(false);
      await expectCatalogIsLake(lake, TABLE);
      expect(glue.count(...GLUE_WRITE_OPERATIONS)).toBe(writes);
      expect(glueState(TABLE)).toBe(before);
      expect(await rows(lake)).toEqual(converted);

      ok(await compact());
      await expectCatalogIsLake(lake, TABLE);
      expect(glueState(TABLE)).toBe(before);
      expect(await rows(lake)).toEqual(converted);
    });
  });

  it('a nightly that compacts: Glue holds the partitions of one that does not, and the next nightly registers nothing again', async () => {
    const AS_OF = '2024-05-10';
    const KEY_DATES = ['2024-05-08', '2024-05-09'];
    for (const [i, keyDate] of KEY_DATES.entries()) await writeKeyDateToDirectory(join(work, 'raw'), options(keyDate, 60 + i));
    const nightly = (lake: string, table: string, ...extra: string[]) =>
      runCli(
        [
          'nightly',
          '--source',
          raw(),
          '--dest',
          lake,
          '--as-of',
          AS_OF,
          '--lookback-days',
          '1',
          '--redact',
          'ip',
          ...SMALL_FILES,
          ...TARGET,
          '--json',
          '--quiet',
          ...glueArgs(table),
          ...extra,
        ],
        ENV,
      );
    const off = join(work, 'nightly-off');
    const on = join(work, 'nightly-on');
    ok(await nightly(off, 'nightly_off', '--no-compact'));
    const summary = ok(await nightly(on, 'nightly_on'));
    expect(summary.keyDates.map((k: { status: string }) => k.status)).toEqual(['converted', 'converted']);
    expect(summary.compact, JSON.stringify(summary.compact)).toMatchObject({ ok: true });
    expect(summary.compact.partitions.compacted).toBeGreaterThan(0);

    await expectCatalogIsLake(on, 'nightly_on');
    await expectCatalogIsLake(off, 'nightly_off');
    // The same partitions as without compaction, described alike, and the same table properties.
    const described = (table: string, lake: string) =>
      Object.fromEntries(
        [...partitions(table)].map(([values, p]) => [values, JSON.parse(JSON.stringify(p.StorageDescriptor).replaceAll(lake, '<lake>'))]),
      );
    expect(described('nightly_on', on)).toEqual(described('nightly_off', off));
    const params = (table: string) => tableOf(table).input.Parameters as Record<string, string>;
    expect(params('nightly_on')).toMatchObject({ 's3logs.redact': 'ip', 's3logs.schema_version': String(SCHEMA_VERSION) });
    expect(params('nightly_on')).toEqual(params('nightly_off'));
    const truth = await rows(off);
    expect(truth).toHaveLength(KEY_DATES.flatMap((d, i) => [...generateKeyDate(options(d, 60 + i))].flatMap((o) => o.rows)).length);
    expect(await rows(on)).toEqual(truth);
    await expectMarkersFollowManifests(on, KEY_DATES);

    // Nothing changed since: the key dates are skipped and not registered again (their markers follow
    // the manifests compaction wrote), and no partition needs compacting.
    const before = glueState('nightly_on');
    const registering = glue.count(...GLUE_WRITE_OPERATIONS, 'BatchGetPartition');
    const again = ok(await nightly(on, 'nightly_on'));
    expect(again.keyDates.map((k: { status: string }) => k.status)).toEqual(['unchanged', 'unchanged']);
    expect(again.compact.partitions.compacted).toBe(0);
    expect(glue.count(...GLUE_WRITE_OPERATIONS, 'BatchGetPartition')).toBe(registering);
    expect(glueState('nightly_on')).toBe(before);
    await expectCatalogIsLake(on, 'nightly_on');
    expect(await rows(on)).toEqual(truth);
  }, 120_000);
});
