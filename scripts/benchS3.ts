/**
 * Many small objects from a local S3-compatible server (s3rver, loopback): objects/s of a full
 * `s3logs convert` against objects/s of a bare concurrent GET loop on the same objects and server.
 *   npm run bench:s3 [-- --objects 20000 --concurrency 16 --runs 3]
 * Issue #3's bar: convert reaches at least 80% of the bare loop. The bare loop is given the keys; a
 * converter has to list them first, so the same run also times a bare sequential ListObjectsV2 loop
 * over them (what listing alone costs this server) and reports convert against list + GET as well.
 * Each round runs the GET loop, the list loop and a convert (to a fresh destination); rounds go to
 * stderr, the medians and every round to stdout as JSON.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pLimit from 'p-limit';
import { S3RVER_CREDENTIALS, startS3Server } from '../test/helpers/s3Server.js';
import { generateKeyDate } from './genLogs.js';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
  },
});
const count = Number(values.objects);
const concurrency = Number(values.concurrency);
const runs = Math.max(1, Number(values.runs));
const KEY_DATE = '2024-08-01';
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface ConvertSummary {
  objects: number;
  seconds: number;
  rows: number;
  keyDates: Array<{ stageSeconds: unknown }>;
}

function convert(dest: string): Promise<ConvertSummary> {
  return new Promise<ConvertSummary>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        cli,
        'convert',
        '--source',
        's3://raw/logs/',
        '--dest',
        dest,
        '--date',
        KEY_DATE,
        '--endpoint-url',
        server.endpoint,
        '--concurrency',
        String(concurrency),
        '--json',
        '--quiet',
      ],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          AWS_REGION: 'us-east-1',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ConvertSummary) : reject(new Error(`convert exited ${code}: ${out}`)),
    );
  });
}

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
  for (const o of generateKeyDate({
    seed: 3,
    keyDate: KEY_DATE,
    layout: 'date-based',
    prefix: 'logs/',
    objects: count,
    minObjectBytes: 3 * 1024,
    maxObjectBytes: 5 * 1024,
  })) {
    keys.push(o.key);
    bytes += o.body.length;
    uploads.push(uploadLimit(() => client.send(new PutObjectCommand({ Bucket: 'raw', Key: o.key, Body: o.body }))));
  }
  await Promise.all(uploads);

  interface Round {
    bareGetSeconds: number;
    bareListSeconds: number;
    convertSeconds: number;
    ratio: number;
    ratioToListAndGet: number;
    stageSeconds: unknown;
  }
  const rounds: Round[] = [];
  let rows = 0;
  // The machine is shared and s3rver warms up: rounds alternate the contenders, and the median counts.
  for (let round = 0; round < runs; round++) {
    const getLimit = pLimit(concurrency);
    const started = performance.now();
    await Promise.all(
      keys.map((key) =>
        getLimit(async () => (await client.send(new GetObjectCommand({ Bucket: 'raw', Key: key }))).Body!.transformToByteArray()),
      ),
    );
    const bareGetSeconds = (performance.now() - started) / 1000;

    const listStarted = performance.now();
    let listed = 0;
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'raw', Prefix: 'logs/', ...(token ? { ContinuationToken: token } : {}) }),
      );
      listed += page.Contents?.length ?? 0;
      token = page.NextContinuationToken;
    }
    const bareListSeconds = (performance.now() - listStarted) / 1000;
    if (listed !== count) throw new Error(`bare listing found ${listed} of ${count} objects`);

    const summary = await convert(`s3://lake/out-${round}/`);
    if (summary.objects !== count) throw new Error(`convert read ${summary.objects} of ${count} objects`);
    rows = summary.rows;
    const r: Round = {
      bareGetSeconds: +bareGetSeconds.toFixed(2),
      bareListSeconds: +bareListSeconds.toFixed(2),
      convertSeconds: +summary.seconds.toFixed(2),
      ratio: +(bareGetSeconds / summary.seconds).toFixed(2),
      ratioToListAndGet: +((bareGetSeconds + bareListSeconds) / summary.seconds).toFixed(2),
      stageSeconds: summary.keyDates[0]?.stageSeconds,
    };
    rounds.push(r);
    console.error(JSON.stringify({ round: round + 1, ...r }));
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  };
  const bareGetSeconds = median(rounds.map((r) => r.bareGetSeconds));
  const convertSeconds = median(rounds.map((r) => r.convertSeconds));
  console.log(
    JSON.stringify({
      objects: count,
      mib: +(bytes / 1024 / 1024).toFixed(1),
      concurrency,
      runs,
      bareGetObjectsPerSecond: Math.round(count / bareGetSeconds),
      convertObjectsPerSecond: Math.round(count / convertSeconds),
      medianRatio: +median(rounds.map((r) => r.ratio)).toFixed(2),
      medianRatioToListAndGet: +median(rounds.map((r) => r.ratioToListAndGet)).toFixed(2),
      rows,
      rounds,
    }),
  );
} finally {
  client.destroy();
  await server.close();
}
