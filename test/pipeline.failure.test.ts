/**
 * An object that cannot be read fails its key date — nothing is published for it — and the other key
 * dates of the run still convert; the CLI turns that into exit code 1.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { NoCatalog } from '../src/catalog/none.js';
import { StorageError } from '../src/errors.js';
import { convertKeyDate, type ConvertSettings } from '../src/pipeline.js';
import { LocalStorage } from '../src/storage/local.js';
import type { ListOptions } from '../src/storage/Storage.js';

/** The first page lists; the key ranges after it are denied, after the fetch has started. */
class FailingRangeStorage extends LocalStorage {
  override async list(prefix: string, options: ListOptions = {}) {
    if (options.startAfter !== undefined) {
      await new Promise((r) => setTimeout(r, 50));
      throw new StorageError(`list ${prefix}: AccessDenied (simulated)`, 'access_denied', prefix);
    }
    return super.list(prefix, options);
  }
}

class FailingStorage extends LocalStorage {
  override async get(key: string): Promise<Uint8Array> {
    if (key.includes('2024-07-01')) throw new StorageError(`cannot read ${key}: simulated`, 'io', key);
    return super.get(key);
  }
}

describe('a failing object', () => {
  let work: string;
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('fails only its key date, publishes nothing for it, and later dates convert', async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-fail-'));
    for (const keyDate of ['2024-07-01', '2024-07-02'])
      await writeKeyDateToDirectory(join(work, 'raw'), { seed: 4, keyDate, layout: 'simple', objects: 3, maxObjectBytes: 20_000 });
    const dest = new LocalStorage(join(work, 'lake'));
    const settings: ConvertSettings = {
      source: { storage: new FailingStorage(join(work, 'raw')), prefix: '' },
      dest,
      catalog: new NoCatalog(),
      layout: 'auto',
      concurrency: 4,
      compression: 'zstd',
      memoryBudget: 1024 * 1024,
      maxFileRows: 1000,
      rowGroupRows: 1000,
    };
    const failed = await convertKeyDate(settings, '2024-07-01');
    expect(failed.status).toBe('failed');
    expect(failed.error?.stage).toBe('fetch');
    expect(failed.error?.message).toContain('simulated');
    const ok = await convertKeyDate(settings, '2024-07-02');
    expect(ok.status).toBe('converted');
    const published = (await dest.list('')).objects.map((o) => o.key);
    expect(published.some((k) => k.includes('part-2024-07-02-'))).toBe(true);
    expect(published.some((k) => k.includes('2024-07-01'))).toBe(false);
    expect(await readdir(join(work, 'lake', '_s3logs'))).not.toContain('staging');
  });

  it('a listing that fails after fetching began fails the key date at list and publishes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3logs-fail-list-'));
    try {
      // Over one page of names: the first page is fetched while the ranges after it are listed.
      await writeKeyDateToDirectory(join(dir, 'raw'), {
        seed: 5,
        keyDate: '2024-07-03',
        layout: 'simple',
        objects: 1100,
        minObjectBytes: 300,
        maxObjectBytes: 600,
      });
      const dest = new LocalStorage(join(dir, 'lake'));
      const summary = await convertKeyDate(
        {
          source: { storage: new FailingRangeStorage(join(dir, 'raw')), prefix: '' },
          dest,
          catalog: new NoCatalog(),
          layout: 'simple',
          concurrency: 4,
          compression: 'zstd',
          memoryBudget: 1024 * 1024,
          maxFileRows: 1000,
          rowGroupRows: 1000,
        },
        '2024-07-03',
      );
      expect(summary.status).toBe('failed');
      expect(summary.error?.stage).toBe('list');
      expect(summary.error?.message).toContain('AccessDenied');
      expect(summary.objects).toBeGreaterThan(0);
      const left = (await dest.list('')).objects.map((o) => o.key);
      expect(left.filter((k) => k.endsWith('.parquet') || k.includes('staging') || k.includes('lock'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
