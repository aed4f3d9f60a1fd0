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
    for (const keyDate of ['2024-07-01', '2024-07-02']) await writeKeyDateToDirectory(join(work, 'raw'), { seed: 4, keyDate, layout: 'simple', objects: 3, maxObjectBytes: 20_000 });
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
});
