/**
 * s3rver 3.7.1 in a child process on 127.0.0.1 with a random free port and a temp directory.
 * A child process because s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only
 * offers with --openssl-legacy-provider (LIBRARIES.md 3e); the test process and production code stay
 * without that flag.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface S3Server {
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  close(): Promise<void>;
}

/** s3rver accepts any SigV4 signature but only this access key id. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

// Runs in the child: port 0 lets the OS pick a free port, reported back on stdout. Exits when the
// parent closes stdin, so a crashed test run leaves no server behind.
const CHILD = `
const S3rver = require(process.argv[1]);
const [directory, buckets] = [process.argv[2], JSON.parse(process.argv[3])];
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'),
  (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export async function startS3Server(opts: { buckets?: string[] } = {}): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  const s3rverMain = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD, s3rverMain, directory, JSON.stringify(opts.buckets ?? [])],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => reject(new Error(`s3rver did not start (${why}): ${stderr.trim()}`));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code) => fail(`exit code ${code}`));
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
