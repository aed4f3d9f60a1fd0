/**
 * Many small objects from a local S3-compatible server (s3rver, loopback): objects/s of a full
 * `s3logs convert` against objects/s of a bare concurrent GET loop on the same objects and server.
 *   npm run bench:s3 [-- --objects 20000 --concurrency 16]
 * Issue #3's bar: convert reaches at least 80% of the bare loop.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pLimit from 'p-limit';
import { S3RVER_CREDENTIALS, startS3Server } from '../test/helpers/s3Server.js';
import { generateKeyDate } from './genLogs.js';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '16' } } });
const count = Number(values.objects);
const concurrency = Number(values.concurrency);
const KEY_DATE = '2024-08-01';
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

const server = await startS3Server({ buckets: ['raw', 'lake'] });
const client = new S3Client({
  endpoint: server.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: S3RVER_CREDENTIALS,
  requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) }),
});
try {
  const uploadLimit = pLimit(32);
  const keys: string[] = [];
  let bytes = 0;
  const uploads: Array<Promise<unknown>> = [];
  for (const o of generateKeyDate({ seed: 3, keyDate: KEY_DATE, layout: 'date-based', prefix: 'logs/', objects: count, minObjectBytes: 3 * 1024, maxObjectBytes: 5 * 1024 })) {
    keys.push(o.key);
    bytes += o.body.length;
    uploads.push(uploadLimit(() => client.send(new PutObjectCommand({ Bucket: 'raw', Key: o.key, Body: o.body }))));
  }
  await Promise.all(uploads);

  const getLimit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(keys.map((key) => getLimit(async () => (await client.send(new GetObjectCommand({ Bucket: 'raw', Key: key }))).Body!.transformToByteArray())));
  const bareSeconds = (performance.now() - started) / 1000;

  const summary = await new Promise<{ objects: number; seconds: number; rows: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'convert', '--source', 's3://raw/logs/', '--dest', 's3://lake/out/', '--date', KEY_DATE, '--endpoint-url', server.endpoint, '--concurrency', String(concurrency), '--json', '--quiet'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`convert exited ${code}: ${out}`))));
  });
  const bare = count / bareSeconds;
  const convert = summary.objects / summary.seconds;
  console.log(
    JSON.stringify({
      objects: count,
      mib: +(bytes / 1024 / 1024).toFixed(1),
      concurrency,
      bareGetObjectsPerSecond: Math.round(bare),
      convertObjectsPerSecond: Math.round(convert),
      convertSeconds: +summary.seconds.toFixed(2),
      ratio: +(convert / bare).toFixed(2),
      rows: summary.rows,
      stageSeconds: (summary as unknown as { keyDates: Array<{ stageSeconds: unknown }> }).keyDates[0]?.stageSeconds,
    }),
  );
} finally {
  client.destroy();
  await server.close();
}
