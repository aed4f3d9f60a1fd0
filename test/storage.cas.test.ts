/**
 * The compare-and-swap contract (getVersioned, putIfMatch, putIfAbsent) that lease locks and the key
 * date manifest build on, run against every Storage: local files, the in-memory test store, and S3
 * (s3rver behind the fault proxy, which plays S3's conditional writes: s3rver itself ignores them).
 * The S3-only cases pin down what real S3 does after a lost answer, which callers must handle.
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../src/errors.js';
import { LocalStorage } from '../src/storage/local.js';
import { createS3Storage, type S3Storage, type S3StorageOptions } from '../src/storage/s3.js';
import type { Storage } from '../src/storage/Storage.js';
import { s3ErrorXml, startFaultProxy, type FaultPlan, type FaultProxy, type RecordedRequest } from './helpers/faultProxy.js';
import { MemoryStorage } from './helpers/memoryStorage.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const BUCKET = 'cas-bucket';
const MiB = 1024 * 1024;

let server: S3Server;
const cleanups: Array<() => Promise<void>> = [];
let unique = 0;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
afterAll(async () => {
  await server?.close();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());

type Extra = Partial<Omit<S3StorageOptions, 'aws'>> & { aws?: Partial<S3StorageOptions['aws']> };

/** Test-only settings: s3rver credentials, WHEN_REQUIRED checksums, short backoff; a fresh prefix each. */
function s3Store(endpoint: string, extra: Extra = {}, bucket = BUCKET): S3Storage {
  const storage = createS3Storage(`s3://${bucket}/cas-${++unique}/`, {
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    retryBaseDelayMs: 1,
    ...extra,
    aws: { endpointUrl: endpoint, region: 'us-east-1', ...extra.aws },
  });
  cleanups.push(() => storage.close());
  return storage;
}

async function proxy(plan: FaultPlan = {}): Promise<FaultProxy> {
  const p = await startFaultProxy(server.endpoint, { conditionalWrites: true, ...plan });
  cleanups.push(() => p.close());
  return p;
}

async function localRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 's3logs-cas-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

const backends: Array<[string, () => Promise<Storage>]> = [
  ['local', async () => new LocalStorage(await localRoot())],
  ['memory', async () => new MemoryStorage()],
  ['s3 (s3rver + conditional-write proxy)', async () => s3Store((await proxy()).endpoint)],
];

describe.each(backends)('compare-and-swap contract: %s', (_name, make) => {
  it('getVersioned: undefined for a missing key, body and version of one read otherwise', async () => {
    const storage = await make();
    expect(await storage.getVersioned('locks/none')).toBeUndefined();
    await storage.put('locks/a', text('first'));
    const got = await storage.getVersioned('locks/a');
    expect(str(got?.body)).toBe('first');
    expect(got?.version).toMatch(/\S/);
    // Reading again without a write in between gives the same version.
    expect((await storage.getVersioned('locks/a'))?.version).toBe(got?.version);
  });

  it('gives every write a new version, same size and back to back included', async () => {
    const storage = await make();
    const versions = new Set<string>();
    for (const body of ['aaaa', 'bbbb', 'cccc', 'dddd']) {
      await storage.put('m/manifest', text(body));
      const got = await storage.getVersioned('m/manifest');
      expect(str(got?.body)).toBe(body);
      versions.add(got!.version);
    }
    expect(versions.size).toBe(4);
  });

  it('putIfMatch replaces the current version only, and says false for a stale one', async () => {
    const storage = await make();
    await storage.put('m/manifest', text('v1'));
    const v1 = (await storage.getVersioned('m/manifest'))!.version;

    expect(await storage.putIfMatch('m/manifest', text('v2'), v1)).toBe(true);
    const after = await storage.getVersioned('m/manifest');
    expect(str(after?.body)).toBe('v2');
    expect(after?.version).not.toBe(v1);

    // Someone else's version moved on: the stale writer must not clobber it.
    expect(await storage.putIfMatch('m/manifest', text('stale'), v1)).toBe(false);
    expect(await storage.getVersioned('m/manifest')).toEqual(after);

    // A chain of swaps, each from the version just read.
    let version = after!.version;
    for (const body of ['v3', 'v4']) {
      expect(await storage.putIfMatch('m/manifest', text(body), version)).toBe(true);
      version = (await storage.getVersioned('m/manifest'))!.version;
    }
    expect(str(await storage.get('m/manifest'))).toBe('v4');
  });

  it('putIfMatch on a missing key is false and creates nothing', async () => {
    const storage = await make();
    await storage.put('m/other', text('x'));
    const someVersion = (await storage.getVersioned('m/other'))!.version;
    expect(await storage.putIfMatch('m/missing', text('y'), someVersion)).toBe(false);
    expect(await storage.putIfMatch('deep/missing/dir/key', text('y'), someVersion)).toBe(false);
    expect(await storage.getVersioned('m/missing')).toBeUndefined();
    expect(await storage.head('deep/missing/dir/key')).toBeUndefined();

    // Deleted after it was read: gone, so the swap fails.
    await storage.delete(['m/other']);
    expect(await storage.putIfMatch('m/other', text('z'), someVersion)).toBe(false);
    expect(await storage.getVersioned('m/other')).toBeUndefined();
  });

  it('putIfAbsent creates once; then false, and the first body stays', async () => {
    const storage = await make();
    expect(await storage.putIfAbsent('locks/run', text('mine'))).toBe(true);
    expect(await storage.putIfAbsent('locks/run', text('theirs'))).toBe(false);
    expect(str((await storage.getVersioned('locks/run'))?.body)).toBe('mine');
    // The version it created is swappable.
    const version = (await storage.getVersioned('locks/run'))!.version;
    expect(await storage.putIfMatch('locks/run', text('renewed'), version)).toBe(true);
    expect(str(await storage.get('locks/run'))).toBe('renewed');
    expect((await storage.list('locks/')).objects.map((o) => o.key)).toEqual(['locks/run']);
  });

  it('20 concurrent putIfMatch from one version: exactly one wins, and its body is the one stored', async () => {
    const storage = await make();
    await storage.put('locks/lease', text('start'));
    const start = (await storage.getVersioned('locks/lease'))!.version;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.putIfMatch('locks/lease', text(`writer-${i}`), start)));
    const winners = results.flatMap((ok, i) => (ok ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(str(await storage.get('locks/lease'))).toBe(`writer-${winners[0]}`);
    expect((await storage.list('locks/')).objects.map((o) => o.key)).toEqual(['locks/lease']);
  });

  it('20 concurrent putIfAbsent: exactly one creates the key', async () => {
    const storage = await make();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.putIfAbsent('locks/new', text(`taker-${i}`))));
    const winners = results.flatMap((ok, i) => (ok ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(str(await storage.get('locks/new'))).toBe(`taker-${winners[0]}`);
  });
});

describe('LocalStorage compare-and-swap', () => {
  it('hashes the content: the version is the sha256 of the bytes read', async () => {
    const storage = new LocalStorage(await localRoot());
    await storage.put('k', text('abc'));
    expect((await storage.getVersioned('k'))?.version).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('is atomic across independent store instances (no shared in-process state)', async () => {
    const root = await localRoot();
    // Two hosts' worth of processes, simulated: each instance knows nothing of the others.
    const stores = Array.from({ length: 4 }, () => new LocalStorage(root));
    await stores[0]!.put('locks/lease', text('start'));
    const start = (await stores[0]!.getVersioned('locks/lease'))!.version;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.putIfMatch('locks/lease', text(`w${i}`), start)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('leaves no mutex or temp file behind, and list() never shows them', async () => {
    const root = await localRoot();
    const storage = new LocalStorage(root);
    await storage.put('d/key', text('1'));
    const v = (await storage.getVersioned('d/key'))!.version;
    expect(await storage.putIfMatch('d/key', text('2'), v)).toBe(true);
    expect(await storage.putIfMatch('d/key', text('3'), v)).toBe(false);
    expect(await readdir(join(root, 'd'))).toEqual(['key']);

    // A mutex and a temp file of a crashed process sit beside the key: hidden from listings.
    await writeFile(join(root, 'd', '.key.s3logs-cas'), '');
    await writeFile(join(root, 'd', '.abc123.s3logs-tmp'), '');
    expect((await storage.list('d/')).objects.map((o) => o.key)).toEqual(['d/key']);
    expect((await storage.list('', { delimiter: '/' })).commonPrefixes).toEqual(['d/']);
  });

  it("removes killed writers' temp files at the next write or delete in their directory, and no write in flight", async () => {
    const root = await localRoot();
    const storage = new LocalStorage(root);
    const dir = join(root, 'd');
    await storage.put('d/key', text('1'));
    // A process that has exited: its pid names no process (until reused, when its file is merely kept).
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const host = hostname();
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    const temps = {
      killedHere: `.key~${host}~${deadPid}~aa11.s3logs-tmp`,
      // Another key's, e.g. a journal whose name no later run writes again; its name holds a `~`.
      otherKeyKilledHere: `.publish~x.json~${host}~${deadPid}~cc33.s3logs-tmp`,
      inFlightHere: `.key~${host}~1~bb22.s3logs-tmp`, // pid 1 always exists
      otherHostFresh: `.key~elsewhere~${deadPid}~dd44.s3logs-tmp`,
      otherHostOld: `.key~elsewhere~${deadPid}~ee55.s3logs-tmp`,
      // Temp names of earlier versions say nothing of their writer: judged by age alone.
      unnamedFresh: '.abc123.s3logs-tmp',
      unnamedOld: '.def456.s3logs-tmp',
    };
    for (const name of Object.values(temps)) await writeFile(join(dir, name), 'partial');
    for (const name of [temps.otherHostOld, temps.unnamedOld]) await utimes(join(dir, name), hoursAgo, hoursAgo);

    await storage.put('d/key', text('2'));
    expect((await readdir(dir)).sort()).toEqual(['key', temps.inFlightHere, temps.otherHostFresh, temps.unnamedFresh].sort());
    // Hidden from listings all along.
    expect((await storage.list('d/')).objects.map((o) => o.key)).toEqual(['d/key']);

    // Likewise putIfMatch and putIfAbsent (the lock writes), and a delete, which then prunes the directory.
    await writeFile(join(dir, temps.killedHere), 'partial');
    expect(await storage.putIfMatch('d/key', text('3'), (await storage.getVersioned('d/key'))!.version)).toBe(true);
    expect(await readdir(dir)).not.toContain(temps.killedHere);
    await writeFile(join(dir, `.other~${host}~${deadPid}~ff66.s3logs-tmp`), 'partial');
    expect(await storage.putIfAbsent('d/new', text('1'))).toBe(true);
    expect((await readdir(dir)).filter((n) => n.startsWith('.other'))).toEqual([]);
    await storage.delete(['d/new']);
    for (const name of [temps.inFlightHere, temps.otherHostFresh, temps.unnamedFresh]) await rm(join(dir, name));
    await writeFile(join(dir, temps.otherKeyKilledHere), 'partial');
    await storage.delete(['d/key']);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("a listing removes killed writers' temp files in the directories it reads, where no write may come again", async () => {
    const root = await localRoot();
    const storage = new LocalStorage(root);
    await storage.put('g/run-a/outcome.json', text('{}'));
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const host = hostname();
    // A write killed between its temp file and the link (run-a), one whose directory holds nothing else
    // (run-b), and a write in flight (pid 1 always exists).
    const killed = join(root, 'g', 'run-a', `.outcome.json~${host}~${deadPid}~aa11.s3logs-tmp`);
    const alone = join(root, 'g', 'run-b', `.outcome.json~${host}~${deadPid}~bb22.s3logs-tmp`);
    const inFlight = join(root, 'g', 'run-a', `.other.json~${host}~1~cc33.s3logs-tmp`);
    await mkdir(join(root, 'g', 'run-b'), { recursive: true });
    for (const path of [killed, alone, inFlight]) await writeFile(path, 'partial');
    expect((await storage.list('g/')).objects.map((o) => o.key)).toEqual(['g/run-a/outcome.json']);
    expect((await readdir(join(root, 'g', 'run-a'))).sort()).toEqual([basename(inFlight), 'outcome.json'].sort());
    // Like S3, a "directory" exists only while it holds objects.
    expect(await readdir(join(root, 'g'))).toEqual(['run-a']);
  });

  /** Key `k` at version `v`, with its compare-and-swap mutex file held (by "another process"). */
  const heldMutex = async () => {
    const root = await localRoot();
    const storage = new LocalStorage(root);
    await storage.put('k', text('1'));
    const v = (await storage.getVersioned('k'))!.version;
    const mutex = join(root, '.k.s3logs-cas');
    await writeFile(mutex, '');
    return { root, storage, v, mutex };
  };

  it('writes into a directory other processes empty and prune at the same moment (as concurrent write checks do)', async () => {
    const root = await localRoot();
    // Three processes (the built store, as the CLI runs it), each putting and deleting its own object.
    const script = `
      const { LocalStorage } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'dist', 'src', 'storage', 'local.js')).href)});
      const storage = new LocalStorage(process.argv[1]);
      for (let round = 0; round < 300; round++) {
        const key = '_s3logs/probe-' + process.argv[2] + '-' + round;
        await storage.put(key, Buffer.from('x'));
        await storage.delete([key]);
      }`;
    const runs = [0, 1, 2].map(
      (i) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, String(i)], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('close', (code) => resolve({ code, stderr }));
        }),
    );
    for (const result of await Promise.all(runs)) expect(result.code, result.stderr).toBe(0);
    expect(await readdir(root)).toEqual([]);
  });

  it('waits while another process holds the mutex, then swaps', async () => {
    const { storage, v, mutex } = await heldMutex();
    let settled = false;
    const swap = storage.putIfMatch('k', text('2'), v).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    expect(str(await storage.get('k'))).toBe('1');
    await rm(mutex);
    expect(await swap).toBe(true);
    expect(str(await storage.get('k'))).toBe('2');
  });

  it('breaks a mutex left by a crashed process (older than 10 s)', async () => {
    const { root, storage, v, mutex } = await heldMutex();
    const old = new Date(Date.now() - 11_000);
    await utimes(mutex, old, old);
    expect(await storage.putIfMatch('k', text('2'), v)).toBe(true);
    expect(await readdir(root)).toEqual(['k']);
  });

  it('breaks at once the mutex of a holder whose process is gone from this host (a SIGKILL mid-swap)', async () => {
    const { root, storage, v, mutex } = await heldMutex();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(mutex, `${hostname()}~${deadPid}`);
    const started = performance.now();
    expect(await storage.putIfMatch('k', text('2'), v)).toBe(true);
    // Not the 10 s a holder of unknown fate gets.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await readdir(root)).toEqual(['k']);
  });

  it("a compare-and-swap read clears a killed holder's mutex of its key, and no live or unknown holder's", async () => {
    // The swap may never follow (nothing to change): the read is the only visit the key gets.
    const { root, storage, mutex } = await heldMutex();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const kept = [
      `${hostname()}~1`, // pid 1 always exists: a holder still at work
      `${hostname()}~${process.pid}`, // this process's own swap in flight
      `elsewhere~${deadPid}`, // another host's process: its pid means nothing here, judged by age
      '', // killed before it wrote its name: judged by age
    ];
    for (const owner of kept) {
      await writeFile(mutex, owner);
      expect(str((await storage.getVersioned('k'))!.body)).toBe('1');
      expect((await readdir(root)).sort(), owner).toEqual(['.k.s3logs-cas', 'k']);
    }
    await writeFile(mutex, `${hostname()}~${deadPid}`);
    expect(str((await storage.getVersioned('k'))!.body)).toBe('1');
    expect(await readdir(root)).toEqual(['k']);
  });

  it('getVersioned treats a directory or a file-as-directory as no object', async () => {
    const storage = new LocalStorage(await localRoot());
    await storage.put('dir/child', text('x'));
    expect(await storage.getVersioned('dir')).toBeUndefined();
    expect(await storage.getVersioned('dir/child/below')).toBeUndefined();
    expect(await storage.putIfMatch('dir', text('y'), 'whatever')).toBe(false);
  });
});

describe('S3 conditional writes on the wire', () => {
  it('s3rver alone ignores If-None-Match (why the proxy plays S3 here)', async () => {
    const storage = s3Store(server.endpoint);
    expect(await storage.putIfAbsent('k', text('1'))).toBe(true);
    expect(await storage.putIfAbsent('k', text('2'))).toBe(true);
    expect(str(await storage.get('k'))).toBe('2');
  });

  it('sends If-Match with the quoted ETag and the SSE and owner headers, as one PutObject even above the multipart threshold', async () => {
    const p = await proxy();
    const storage = s3Store(p.endpoint, {
      sse: 'AES256',
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
      aws: { expectedBucketOwner: '111122223333' },
    });
    await storage.put('big', text('small first'));
    const got = await storage.getVersioned('big');
    expect(got?.version).toMatch(/^[0-9a-f]{32}$/);
    const before = p.requests.length;
    const body = new Uint8Array(7 * MiB).fill(7);
    expect(await storage.putIfMatch('big', body, got!.version)).toBe(true);
    const sent = p.requests.slice(before);
    expect(sent.map((r) => r.method)).toEqual(['PUT']);
    expect(sent[0]!.url).not.toMatch(/uploadId|partNumber|uploads/);
    expect(sent[0]!.headers['if-match']).toBe(`"${got!.version}"`);
    expect(sent[0]!.headers['x-amz-server-side-encryption']).toBe('AES256');
    expect(sent[0]!.headers['x-amz-expected-bucket-owner']).toBe('111122223333');
    expect((await storage.head('big'))?.size).toBe(7 * MiB);
    expect(p.injected.preconditionFailed).toBe(0);
  });

  it('a store without conditional writes (501 NotImplemented) fails at once, saying so, not "server errors, rerun later"', async () => {
    const p = await proxy({
      intercept: (r) =>
        r.method === 'PUT' && (r.headers['if-none-match'] !== undefined || r.headers['if-match'] !== undefined)
          ? { status: 501, body: s3ErrorXml('NotImplemented', 'A header you provided implies functionality that is not implemented') }
          : undefined,
    });
    const storage = s3Store(p.endpoint);
    await storage.put('k', text('1'));
    const version = (await storage.getVersioned('k'))!.version;
    for (const [attempt, header] of [
      [() => storage.putIfAbsent('new', text('1')), 'If-None-Match'],
      [() => storage.putIfMatch('k', text('2'), version), 'If-Match'],
    ] as const) {
      const before = p.requests.length;
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).message).toContain(`does not implement conditional writes: PutObject s3://${BUCKET}/`);
      expect((error as StorageError).message).toContain(`with ${header} was answered 501 NotImplemented`);
      expect((error as StorageError).message).toContain('s3logs doctor --dest');
      // Not retried: no attempt can succeed.
      expect(p.requests.length - before).toBe(1);
    }
    expect(str(await storage.get('k'))).toBe('1');
  });

  it('counts refused conditional writes (412 stale ETag, 404 missing key, 412 existing key)', async () => {
    const p = await proxy();
    const storage = s3Store(p.endpoint);
    await storage.put('k', text('1'));
    expect(await storage.putIfMatch('k', text('2'), '00000000000000000000000000000000')).toBe(false);
    expect(await storage.putIfMatch('missing', text('2'), '00000000000000000000000000000000')).toBe(false);
    expect(await storage.putIfAbsent('k', text('2'))).toBe(false);
    expect(p.injected.preconditionFailed).toBe(3);
    // Refusals are final answers: no retries.
    expect(storage.stats().retries).toBe(0);
  });

  it('a missing bucket stays an error for getVersioned and putIfMatch, not "absent"', async () => {
    const storage = s3Store(server.endpoint, {}, 'no-such-cas-bucket');
    for (const op of [() => storage.getVersioned('k'), () => storage.putIfMatch('k', text('x'), 'abc')]) {
      const error = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('no_such_bucket');
    }
  });
});

describe('S3 after a lost answer (the write happened, the client never heard)', () => {
  /** Loses the answer to the first request `match` accepts, and only that one. */
  const first = (match: (r: RecordedRequest) => boolean) => {
    let lost = false;
    return (r: RecordedRequest): boolean => {
      if (lost || !match(r)) return false;
      lost = true;
      return true;
    };
  };
  const isPut = (r: RecordedRequest): boolean => r.method === 'PUT';

  it('putIfAbsent: the retry meets its own write and answers false; reading back shows our body', async () => {
    const p = await proxy({ loseAnswer: first((r) => isPut(r) && r.headers['if-none-match'] === '*') });
    const storage = s3Store(p.endpoint);
    // Real S3 behaves the same: callers must compare what they read back with what they wrote.
    expect(await storage.putIfAbsent('locks/run', text('token-123'))).toBe(false);
    expect(str((await storage.getVersioned('locks/run'))?.body)).toBe('token-123');
    expect(p.injected.lostAnswer).toBe(1);
    expect(p.injected.preconditionFailed).toBe(1);
    expect(p.requests.filter(isPut)).toHaveLength(2);
    expect(storage.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('putIfMatch: the retry finds the ETag moved (by itself) and answers false; reading back shows our body', async () => {
    const p = await proxy({ loseAnswer: first((r) => isPut(r) && r.headers['if-match'] !== undefined) });
    const storage = s3Store(p.endpoint);
    await storage.put('m/manifest', text('v1'));
    const v1 = (await storage.getVersioned('m/manifest'))!.version;
    expect(await storage.putIfMatch('m/manifest', text('v2'), v1)).toBe(false);
    expect(str((await storage.getVersioned('m/manifest'))?.body)).toBe('v2');
    expect(p.injected).toMatchObject({ lostAnswer: 1, preconditionFailed: 1 });
  });

  it('a plain put still succeeds: the retry simply writes again', async () => {
    const p = await proxy({ loseAnswer: first(isPut) });
    const storage = s3Store(p.endpoint);
    await storage.put('data/file', text('payload'));
    expect(str(await storage.get('data/file'))).toBe('payload');
    expect(p.injected.lostAnswer).toBe(1);
    expect(p.requests.filter(isPut)).toHaveLength(2);
  });
});
