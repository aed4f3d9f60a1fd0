/**
 * The two stores the end-to-end suite runs against, behind one small interface: the local filesystem
 * and S3 (s3rver over HTTP on loopback). The suite cannot drift between them because it is one suite.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { startFaultProxy } from './faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './s3Server.js';

export interface Snapshot {
  /** A local directory holding the destination's objects (for DuckDB). */
  readonly dir: string;
  /** Key → sha256 of every object under the destination. */
  readonly files: Map<string, string>;
}

export interface Backend {
  readonly name: string;
  /** Raw log root, e.g. `/tmp/x/raw/` or `s3://raw/`; generator keys are relative to it. */
  readonly rawUri: string;
  destUri(name: string): string;
  /** Extra CLI flags and environment for this store. */
  readonly args: string[];
  readonly env: Record<string, string>;
  putRaw(objects: Array<{ key: string; body: Buffer }>): Promise<void>;
  deleteRaw(key: string): Promise<void>;
  /** Writes an object into a destination (a record another run left, say). */
  putDest(destName: string, key: string, body: Buffer): Promise<void>;
  deleteDest(destName: string, key: string): Promise<void>;
  snapshot(destName: string): Promise<Snapshot>;
  close(): Promise<void>;
}

async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        out.set(
          relative(dir, path).split('\\').join('/'),
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
        );
    }
  };
  await walk(dir);
  return out;
}

export async function localBackend(): Promise<Backend> {
  const work = await mkdtemp(join(tmpdir(), 's3logs-local-'));
  const raw = join(work, 'raw');
  return {
    name: 'local',
    rawUri: raw + '/',
    destUri: (name) => join(work, name),
    args: [],
    env: {},
    async putRaw(objects) {
      for (const o of objects) {
        await mkdir(dirname(join(raw, o.key)), { recursive: true });
        await writeFile(join(raw, o.key), o.body);
      }
    },
    deleteRaw: (key) => rm(join(raw, key)),
    async putDest(name, key, body) {
      const path = join(work, name, ...key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
    },
    deleteDest: (name, key) => rm(join(work, name, ...key.split('/')), { force: true }),
    async snapshot(name) {
      return { dir: join(work, name), files: await hashTree(join(work, name)) };
    },
    close: () => rm(work, { recursive: true, force: true }),
  };
}

/** S3: s3rver behind a proxy that plays S3's conditional writes (s3rver itself ignores them). */
export async function s3Backend(): Promise<Backend> {
  const server: S3Server = await startS3Server({ buckets: ['raw', 'lake'] });
  const proxy = await startFaultProxy(server.endpoint, { conditionalWrites: true });
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  const work = await mkdtemp(join(tmpdir(), 's3logs-s3snap-'));
  const limit = pLimit(16);
  return {
    name: 's3',
    rawUri: 's3://raw/',
    destUri: (name) => `s3://lake/${name}/`,
    args: ['--endpoint-url', proxy.endpoint],
    env: {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    async putRaw(objects) {
      await Promise.all(objects.map((o) => limit(() => client.send(new PutObjectCommand({ Bucket: 'raw', Key: o.key, Body: o.body })))));
    },
    async deleteRaw(key) {
      await client.send(new DeleteObjectCommand({ Bucket: 'raw', Key: key }));
    },
    async putDest(name, key, body) {
      await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `${name}/${key}`, Body: body }));
    },
    async deleteDest(name, key) {
      await client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: `${name}/${key}` }));
    },
    async snapshot(name) {
      const dir = await mkdtemp(join(work, `${name}-`));
      let token: string | undefined;
      const downloads: Array<Promise<void>> = [];
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: 'lake', Prefix: `${name}/`, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const o of page.Contents ?? []) {
          downloads.push(
            limit(async () => {
              const body = await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: o.Key! }))).Body!.transformToByteArray();
              const path = join(dir, ...o.Key!.slice(name.length + 1).split('/'));
              await mkdir(dirname(path), { recursive: true });
              await writeFile(path, body);
            }),
          );
        }
        token = page.NextContinuationToken;
      } while (token);
      await Promise.all(downloads);
      return { dir, files: await hashTree(dir) };
    },
    async close() {
      client.destroy();
      await proxy.close();
      await server.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
