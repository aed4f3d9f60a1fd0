/**
 * Source checks before any work (issue #13, point 1), through the real CLI: a --source that does not
 * exist, is not a folder or prefix, or holds no log objects for any date exits 2 with one line naming
 * --source, what was looked for and the likeliest fix, and writes nothing; a key date with no objects in
 * a source that holds logs still exits 0. `s3://b/logs` reads as the local `./logs` does. The check's
 * cost is counted in list requests.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import { openSource } from '../src/locations.js';
import { checkSource, inspectSource, MAX_REQUESTS } from '../src/preflight.js';
import type { KeyLayout } from '../src/stages/list.js';
import { LocalStorage } from '../src/storage/local.js';
import { createS3Storage } from '../src/storage/s3.js';
import type { ListOptions, ListPage, ObjectInfo, Storage } from '../src/storage/Storage.js';
import { s3Backend, type Backend } from './helpers/backends.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { S3RVER_CREDENTIALS } from './helpers/s3Server.js';

const KEY_DATE = '2024-01-29';
const OTHER_DATE = '2024-01-30';
const small = (layout: GenerateOptions['layout'], prefix: string, seed = 1, keyDate = KEY_DATE): GenerateOptions => ({
  seed,
  keyDate,
  layout,
  prefix,
  objects: 4,
  minObjectBytes: 2048,
  maxObjectBytes: 8192,
});
const NAMES = 'YYYY-MM-DD-hh-mm-ss-ID or [account/region/bucket/]YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-ID';

/** Exit 2 with exactly one line (besides JSON log lines of the jobs), which contains every `parts`. */
function expectUsage(result: CliResult, ...parts: string[]): string {
  expect(result.code, result.stdout + result.stderr).toBe(2);
  const lines = result.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  expect(lines, result.stderr).toHaveLength(1);
  for (const part of parts) expect(lines[0]).toContain(part);
  expect(result.stdout).toBe('');
  return lines[0]!;
}

class CountingLocal extends LocalStorage {
  lists = 0;
  override list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.lists++;
    return super.list(prefix, options);
  }
}

describe('source checks on a local folder', () => {
  let work: string;
  const lake = (name: string) => join(work, 'lakes', name);
  const convert = (source: string, dest: string, ...extra: string[]) =>
    runCli(['convert', '--source', source, '--dest', dest, '--date', KEY_DATE, ...extra]);
  /** Nothing was written for --dest: not even its folder. */
  const untouched = (dest: string) => expect(existsSync(dest), `${dest} was created`).toBe(false);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-preflight-'));
    // As `npm start` lays it out: out/raw-logs/logs/<account>/<region>/<bucket>/YYYY/MM/DD/<name>.
    await writeKeyDateToDirectory(join(work, 'out', 'raw-logs'), small('date-based', 'logs/'));
    await writeKeyDateToDirectory(join(work, 'simple'), small('simple', 'logs/', 2));
    await writeKeyDateToDirectory(join(work, 'mid'), small('simple', 'emr', 3));
    await mkdir(join(work, 'empty', 'sub'), { recursive: true });
    await mkdir(join(work, 'junk', 'docs'), { recursive: true });
    await writeFile(join(work, 'junk', 'notes.txt'), 'not a log\n');
    await writeFile(join(work, 'junk', 'docs', 'readme.md'), 'not a log\n');
    await writeFile(join(work, 'file.txt'), 'not a log\n');
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("a folder that does not exist, with or without a trailing slash, and the README's ./raw-logs/", async () => {
    expect(existsSync('raw-logs'), 'the test expects no ./raw-logs in the working directory').toBe(false);
    const cases: Array<[string, string]> = [
      [
        join(work, 'nope') + '/',
        `--source ${join(work, 'nope')}/ does not exist; pass the directory (or S3 prefix) that holds the raw access logs`,
      ],
      [join(work, 'nope'), `--source ${join(work, 'nope')} does not exist (nothing in ${work} starts with "nope")`],
      [join(work, 'no', 'such', 'dir'), `--source ${join(work, 'no', 'such', 'dir')} does not exist`],
      ['./raw-logs/', '--source ./raw-logs/ does not exist'],
      // A name prefix nothing starts with is not a source either (logs/emr works: see below).
      [join(work, 'mid', 'ex'), `--source ${join(work, 'mid', 'ex')} does not exist (nothing in ${join(work, 'mid')} starts with "ex")`],
    ];
    for (const [source, message] of cases) {
      const dest = lake(`nope-${cases.findIndex((c) => c[0] === source)}`);
      expectUsage(await convert(source, dest), `s3logs convert: ${message}`);
      untouched(dest);
    }
  });

  it('a plain file, a log object, a file through a trailing slash', async () => {
    const file = join(work, 'file.txt');
    expectUsage(
      await convert(file, lake('file')),
      `s3logs convert: --source ${file} is a file, not a folder of S3 access log objects; pass the folder that holds the raw access logs`,
    );
    const name = (await readdir(join(work, 'simple', 'logs')))[0]!;
    const object = join(work, 'simple', 'logs', name);
    expectUsage(
      await convert(object, lake('object')),
      `s3logs convert: --source ${object} is one log object, not a folder; did you mean ${join(work, 'simple', 'logs')}/?`,
    );
    expectUsage(await convert(file + '/', lake('file-slash')), `--source ${file}/ is not a directory`);
    for (const dest of ['file', 'object', 'file-slash']) untouched(lake(dest));
  });

  it("the demo's folder one level too high, with and without its slash: the message names the folder that holds the logs", async () => {
    const high = join(work, 'out', 'raw-logs');
    for (const source of [high + '/', high]) {
      const line = expectUsage(
        await convert(source, lake('high')),
        `s3logs convert: --source ${source}: no S3 access log object names under ${high}/ (looked for ${NAMES}); did you mean ${high}/logs/?`,
      );
      expect(line.endsWith(`did you mean ${high}/logs/?`)).toBe(true);
    }
    untouched(lake('high'));
    // Simple-layout names one level deeper.
    const simple = join(work, 'simple');
    expectUsage(
      await convert(simple, lake('simple-high')),
      `--source ${simple}: no S3 access log object names under ${simple}/`,
      `did you mean ${simple}/logs/?`,
    );
    untouched(lake('simple-high'));
  });

  it('an empty folder, a folder of other files, and the other layout than --layout', async () => {
    const empty = join(work, 'empty');
    expectUsage(
      await convert(empty + '/', lake('empty')),
      `--source ${empty}/: the folder holds no files (looked for ${NAMES}); pass the folder that holds the raw access logs`,
    );
    const junk = join(work, 'junk');
    expectUsage(
      await convert(junk, lake('junk')),
      `--source ${junk}: no S3 access log object names under ${junk}/ (looked for ${NAMES}; found only other objects, such as `,
      'notes.txt',
    );
    const logs = join(work, 'out', 'raw-logs', 'logs') + '/';
    expectUsage(
      await convert(logs, lake('layout'), '--layout', 'simple'),
      `--source ${logs}: no simple layout log object names under ${logs} (looked for YYYY-MM-DD-hh-mm-ss-ID), but date-based layout ones are there; pass --layout date-based (or auto)`,
    );
    for (const dest of ['empty', 'junk', 'layout']) untouched(lake(dest));
  });

  it('a source that holds logs: a key date without objects still exits 0 and says so; the logs of the key date convert', async () => {
    const logs = join(work, 'out', 'raw-logs', 'logs') + '/';
    const none = await runCli(['convert', '--source', logs, '--dest', lake('none'), '--date', OTHER_DATE]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain(`${OTHER_DATE}: no log objects found for this key date; nothing written`);
    const converted = await convert(logs, lake('demo'), '--json', '--quiet');
    expect(converted.code, converted.stderr).toBe(0);
    expect(JSON.parse(converted.stdout).objects).toBe([...generateKeyDate(small('date-based', 'logs/'))].length);
  });

  it('a folder + file-name prefix (logs/emr for emr2021-…) still converts; one that matches no log name says which would', async () => {
    const result = await convert(join(work, 'mid', 'emr'), lake('mid'), '--json', '--quiet');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).objects).toBe(4);
    const em = join(work, 'mid', 'em');
    expectUsage(
      await convert(em, lake('mid-em')),
      `--source ${em}: no S3 access log object names starting ${em} (looked for emYYYY-MM-DD-hh-mm-ss-ID or em[account/region/bucket/]`,
      `did you mean ${em}r?`,
    );
    untouched(lake('mid-em'));
  });

  it("a --dest that is a file exits 2 naming it, not the store's temp files", async () => {
    const message = expectUsage(
      await convert(join(work, 'simple', 'logs/'), join(work, 'file.txt')),
      `--dest ${join(work, 'file.txt')}: is a file (or lies under one), not a directory`,
    );
    expect(message).not.toMatch(/s3logs-tmp|_s3logs/);
  });

  it('backfill and nightly stop with the same single line and exit 2, before any key date', async () => {
    const high = join(work, 'out', 'raw-logs') + '/';
    const message = `--source ${high}: no S3 access log object names under ${high} (looked for ${NAMES}); did you mean ${high}logs/?`;
    for (const quiet of [[], ['--quiet']]) {
      const backfill = await runCli([
        'backfill',
        '--source',
        high,
        '--dest',
        lake('backfill'),
        '--from',
        KEY_DATE,
        '--to',
        OTHER_DATE,
        ...quiet,
      ]);
      expectUsage(backfill, `s3logs backfill: ${message}`);
      expect(backfill.stderr).not.toContain('key date failed');
      const nightly = await runCli(['nightly', '--source', high, '--dest', lake('nightly'), ...quiet]);
      expectUsage(nightly, `s3logs nightly: ${message}`);
    }
    const missing = await runCli([
      'backfill',
      '--source',
      join(work, 'nope'),
      '--dest',
      lake('backfill'),
      '--from',
      KEY_DATE,
      '--to',
      KEY_DATE,
      '--quiet',
    ]);
    expectUsage(missing, `s3logs backfill: --source ${join(work, 'nope')} does not exist`);
    untouched(lake('backfill'));
    untouched(lake('nightly'));
  });

  it('costs a few list requests: one for a simple folder, one per level for a date-based tree, bounded on a wide one', async () => {
    const count = async (root: string, prefix: string, layout: KeyLayout = 'auto') => {
      const storage = new CountingLocal(root);
      const check = await inspectSource(storage, prefix, layout);
      expect(check.listRequests).toBe(storage.lists);
      return check;
    };
    expect(await count(join(work, 'simple', 'logs'), '')).toMatchObject({ found: true, listRequests: 1 });
    expect(await count(join(work, 'mid'), 'emr')).toMatchObject({ found: true, listRequests: 1 });
    // logs/ → account → region → bucket → 2024 → 01 → 29: one listing per level.
    expect(await count(join(work, 'out', 'raw-logs', 'logs'), '')).toMatchObject({ found: true, listRequests: 7 });
    // One level too high: the four levels a run would look through, then down to one log name for the hint.
    const high = await count(join(work, 'out', 'raw-logs'), '');
    expect(high).toMatchObject({ found: false, complete: true, suggestions: ['logs/'] });
    expect(high.listRequests).toBeLessThanOrEqual(9);
    expect(await count(join(work, 'empty'), '')).toMatchObject({ found: false, complete: true, objectsSeen: 0, listRequests: 2 });

    // A wide tree of other folders: the budget runs out, nothing is decided, and the source passes.
    const wide = join(work, 'wide');
    for (let i = 0; i < 40; i++) {
      await mkdir(join(wide, `team-${String(i).padStart(2, '0')}`, 'data'), { recursive: true });
      await writeFile(join(wide, `team-${String(i).padStart(2, '0')}`, 'data', 'x.csv'), 'x\n');
    }
    const undecided = await count(wide, '');
    expect(undecided).toMatchObject({ found: false, complete: false, listRequests: MAX_REQUESTS });
    await expect(checkSource({ storage: new LocalStorage(wide), prefix: '' }, 'auto', wide)).resolves.toBeUndefined();
  });
});

/** An S3-like store in memory: key order, delimiter folding, MaxKeys pages that say they are truncated. */
class PagedMemory implements Storage {
  readonly uri = 's3://memory/';
  lists = 0;
  constructor(readonly keys: string[]) {
    keys.sort();
  }
  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.lists++;
    const objects: ObjectInfo[] = [];
    const commonPrefixes: string[] = [];
    const max = options.maxKeys ?? Infinity;
    for (const key of this.keys) {
      if (!key.startsWith(prefix)) continue;
      const cut = options.delimiter ? key.indexOf('/', prefix.length) : -1;
      if (cut >= 0) {
        const folder = key.slice(0, cut + 1);
        if (commonPrefixes[commonPrefixes.length - 1] === folder) continue;
        if (objects.length + commonPrefixes.length >= max) return { objects, commonPrefixes, truncated: true };
        commonPrefixes.push(folder);
      } else {
        if (objects.length + commonPrefixes.length >= max) return { objects, commonPrefixes, truncated: true };
        objects.push({ key, size: 1, etag: 'e' });
      }
    }
    return { objects, commonPrefixes };
  }
  get(): Promise<Uint8Array> {
    throw new Error('not used');
  }
  head(): Promise<undefined> {
    throw new Error('not used');
  }
  put(): Promise<void> {
    throw new Error('not used');
  }
  putIfAbsent(): Promise<boolean> {
    throw new Error('not used');
  }
  getVersioned(): Promise<undefined> {
    throw new Error('not used');
  }
  putIfMatch(): Promise<boolean> {
    throw new Error('not used');
  }
  delete(): Promise<void> {
    throw new Error('not used');
  }
}

describe('the S3 path of the check on a paged store', () => {
  const junk = Array.from({ length: 1500 }, (_, i) => `.archive/part-${String(i).padStart(5, '0')}`);

  it('decides from one page of whole keys; pages past junk with a folder walk', async () => {
    const dateBased = [
      'logs/123456789012/us-east-1/b/2024/01/29/2024-01-29-00-00-00-AAAA',
      'logs/123456789012/us-east-1/b/2024/01/30/2024-01-30-00-00-00-BBBB',
    ];
    expect(await inspectSource(new PagedMemory([...dateBased]), 'logs/', 'auto')).toMatchObject({ found: true, listRequests: 1 });
    // The bucket root: one page says the logs are under logs/.
    expect(await inspectSource(new PagedMemory([...dateBased, 'notes.txt']), '', 'auto')).toMatchObject({
      found: false,
      complete: true,
      suggestions: ['logs/'],
      listRequests: 1,
    });
    // 1500 other keys sort first: the key page is truncated, one folder listing finds the names beside them.
    const store = new PagedMemory([...junk, '2024-01-29-10-00-00-CCCC']);
    expect(await inspectSource(store, '', 'auto')).toMatchObject({ found: true, listRequests: 2 });
    // Junk only, more than one page of it, in a folder that cannot be listed in one page: undecided, passes.
    const undecided = await inspectSource(new PagedMemory([...junk]), '', 'auto');
    expect(undecided).toMatchObject({ found: false, complete: false });
    expect(undecided.listRequests).toBeLessThanOrEqual(MAX_REQUESTS);
    await expect(checkSource({ storage: new PagedMemory([...junk]), prefix: '' }, 'auto', 's3://memory/')).resolves.toBeUndefined();
  });
});

describe('source checks on S3', () => {
  let backend: Backend;
  let endpoint: string;
  const date = [...generateKeyDate(small('date-based', 'logs/'))];
  const mid = [...generateKeyDate(small('simple', 'simple/emr', 3))];
  const run = (command: string, source: string, dest: string, ...extra: string[]) =>
    runCli(
      [
        command,
        '--source',
        source,
        '--dest',
        backend.destUri(dest),
        ...(command === 'convert' ? ['--date', KEY_DATE] : command === 'backfill' ? ['--from', KEY_DATE, '--to', KEY_DATE] : []),
        ...backend.args,
        ...extra,
      ],
      backend.env,
    );
  const untouched = async (dest: string) => expect((await backend.snapshot(dest)).files.size, `${dest} was written`).toBe(0);
  const storage = () =>
    createS3Storage('s3://raw/', {
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      aws: { endpointUrl: endpoint, region: 'us-east-1' },
    });

  beforeAll(async () => {
    backend = await s3Backend();
    endpoint = backend.args[backend.args.indexOf('--endpoint-url') + 1]!;
    await backend.putRaw([...date, ...mid, { key: 'notes/readme.txt', body: Buffer.from('not a log\n') }]);
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('a bucket root, a prefix that does not exist, a bucket that does not exist: exit 2, one line, nothing written', async () => {
    expectUsage(
      await run('convert', 's3://raw/', 'root'),
      `s3logs convert: --source s3://raw/: no S3 access log object names under s3://raw/ (looked for ${NAMES}); did you mean s3://raw/logs/ (or s3://raw/simple/emr)?`,
    );
    expectUsage(
      await run('convert', 's3://raw', 'root'),
      '--source s3://raw: no S3 access log object names under s3://raw/ (',
      'did you mean s3://raw/logs/',
    );
    expectUsage(
      await run('convert', 's3://raw/nope/', 'nope'),
      `s3logs convert: --source s3://raw/nope/: nothing under s3://raw/nope/ (the prefix does not exist or is empty; looked for ${NAMES}); pass the prefix that holds the raw access logs`,
    );
    expectUsage(
      await run('convert', 's3://no-such-bucket/logs/', 'nobucket'),
      's3logs convert: --source s3://no-such-bucket/logs/: bucket no-such-bucket does not exist',
    );
    expectUsage(
      await run('backfill', 's3://raw/', 'root'),
      's3logs backfill: --source s3://raw/: no S3 access log object names under s3://raw/',
      'did you mean s3://raw/logs/',
    );
    expectUsage(
      await run('nightly', 's3://raw/nope/', 'nope', '--quiet'),
      's3logs nightly: --source s3://raw/nope/: nothing under s3://raw/nope/',
    );
    for (const dest of ['root', 'nope', 'nobucket']) await untouched(dest);
  });

  it('no region, no credentials, a destination bucket that does not exist: one line for a month of key dates, exit 2, with the fix', async () => {
    const month = ['--from', '2024-01-01', '--to', '2024-01-31'];
    const noRegion = await runCli(
      ['backfill', '--source', 's3://raw/logs/', '--dest', backend.destUri('setup'), ...month, ...backend.args],
      { AWS_ACCESS_KEY_ID: backend.env.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: backend.env.AWS_SECRET_ACCESS_KEY!, AWS_REGION: '' },
    );
    expectUsage(noRegion, 's3logs backfill: --source s3://raw/logs/: no AWS region is configured', 'pass --region or set AWS_REGION');
    const noCredentials = await runCli(
      ['backfill', '--source', 's3://raw/logs/', '--dest', backend.destUri('setup'), ...month, ...backend.args],
      {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        AWS_CONFIG_FILE: '/nonexistent/aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    );
    expectUsage(noCredentials, '--source s3://raw/logs/: no AWS credentials found', 'pass --profile <name>');
    const noDest = await runCli(
      ['convert', '--source', 's3://raw/logs/', '--dest', 's3://no-such-lake/out/', '--date', KEY_DATE, ...backend.args],
      backend.env,
    );
    expectUsage(noDest, 's3logs convert: --dest s3://no-such-lake/out/: ', 'bucket no-such-lake does not exist');
    await untouched('setup');
  });

  it('s3://raw/logs (no slash) converts exactly like s3://raw/logs/', async () => {
    const slash = await run('convert', 's3://raw/logs/', 'slash', '--json', '--quiet');
    const bare = await run('convert', 's3://raw/logs', 'bare', '--json', '--quiet');
    for (const result of [slash, bare]) expect(result.code, result.stderr).toBe(0);
    const [a, b] = [JSON.parse(slash.stdout), JSON.parse(bare.stdout)];
    expect(b.objects).toBe(date.length);
    for (const field of ['objects', 'lines', 'rows', 'rejects', 'filesWritten', 'partitions']) expect(b[field], field).toBe(a[field]);
    const parquet = async (dest: string) => [...(await backend.snapshot(dest)).files].filter(([key]) => key.endsWith('.parquet')).sort();
    const files = await parquet('slash');
    expect(files.length).toBeGreaterThan(0);
    expect(await parquet('bare')).toEqual(files);
  }, 120_000);

  it('a file-name prefix on S3 (s3://raw/simple/emr for simple/emr2024-…) still converts', async () => {
    const result = await run('convert', 's3://raw/simple/emr', 'mid', '--json', '--quiet');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).objects).toBe(mid.length);
  });

  it('costs one list request on S3 (plus one for a prefix without its slash)', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['logs/', { found: true }],
      ['simple/emr', { found: true }],
      ['', { found: false, complete: true, suggestions: ['logs/', 'simple/emr'] }],
      ['nope/', { found: false, complete: true, objectsSeen: 0 }],
    ];
    for (const [prefix, expected] of cases) {
      const store = storage();
      try {
        const check = await inspectSource(store, prefix, 'auto');
        expect(check, prefix).toMatchObject({ ...expected, listRequests: 1 });
        expect(store.stats().requests, prefix).toBe(1);
      } finally {
        await store.close();
      }
    }
    // openSource reads `s3://raw/logs` as the folder logs/ with one single-key request.
    const saved = Object.fromEntries(Object.keys(backend.env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, backend.env);
    try {
      for (const [uri, prefix, requests] of [
        ['s3://raw/logs', 'logs/', 1],
        ['s3://raw/logs/', 'logs/', 0],
        ['s3://raw/simple/emr', 'simple/emr', 1],
      ] as const) {
        const source = await openSource(uri, { aws: { endpointUrl: endpoint, region: 'us-east-1' } });
        try {
          expect(source.prefix, uri).toBe(prefix);
          expect(source.storage.stats?.().requests, uri).toBe(requests);
        } finally {
          await source.storage.close?.();
        }
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
