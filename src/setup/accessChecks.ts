/**
 * Doctor checks that exercise access for real: credentials and region resolve, the raw logs can be
 * listed and read, the destination takes a put and a delete (a probe object that is removed again) and
 * refuses to create an existing object (conditional writes), and the Glue database and table are reachable.
 */
import { randomBytes } from 'node:crypto';
import type * as GlueSdk from '@aws-sdk/client-glue';
import { requireCjs } from '../cjs.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { baseClientConfig, type AwsOptions } from '../aws/config.js';
import { StorageError, errorMessage } from '../errors.js';
import { openDest, openSource } from '../locations.js';
import { lakeKeys } from '../records.js';
import type { Storage } from '../storage/Storage.js';
import { fail, pass, skip, warn, type Check } from './check.js';
import { s3ErrorName } from './clients.js';

// By require, not import: src/cjs.ts says why.
const { GetDatabaseCommand, GetTableCommand, GlueClient } = requireCjs('@aws-sdk/client-glue') as typeof GlueSdk;

const denied = (error: unknown): boolean =>
  error instanceof StorageError && (error.code === 'access_denied' || error.code === 'bucket_owner_mismatch');
const OTHER_FIX = 'check the bucket name, --region, --endpoint-url and the network, then rerun doctor';

export async function checkCredentials(client: S3Client): Promise<{ check: Check; region?: string }> {
  const id = 'credentials';
  const title = 'credentials and region';
  let region: string;
  try {
    region = await client.config.region();
  } catch (error) {
    return {
      check: fail(id, title, `no region resolves (${errorMessage(error)})`, "pass --region <the buckets' region> or set AWS_REGION"),
    };
  }
  try {
    const credentials = await client.config.credentials();
    const key = credentials.accessKeyId;
    return { check: pass(id, title, `region ${region}, credentials with access key …${key.slice(-4)}`), region };
  } catch (error) {
    return {
      check: fail(
        id,
        title,
        `no credentials resolve (${errorMessage(error)})`,
        'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws sso login`',
      ),
      region,
    };
  }
}

export interface SourceAccess {
  readonly checks: Check[];
  /** The log object the read check fetched, kept so other checks can use its lines. */
  readonly sample?: { readonly key: string; readonly body: Uint8Array };
}

/** Lists one object under --source and reads it: what convert does first. */
export async function checkSourceAccess(source: string, aws: AwsOptions): Promise<SourceAccess> {
  const { storage, prefix } = await openSource(source, { aws });
  const where = `${storage.uri}${prefix}`;
  try {
    const page = await storage.list(prefix, { maxKeys: 1 });
    const first = page.objects[0];
    if (!first) {
      return {
        checks: [
          pass(
            'source-list',
            `list ${where}`,
            'listing works; no log objects yet (S3 delivers the first ones within about an hour of enabling logging)',
          ),
          skip('source-get', `read ${where}`, 'nothing to read yet'),
        ],
      };
    }
    const list = pass('source-list', `list ${where}`, `listing works (first object ${first.key})`);
    try {
      const body = await storage.get(first.key);
      return {
        checks: [list, pass('source-get', `read ${where}`, `read ${first.key} (${first.size} bytes)`)],
        sample: { key: first.key, body },
      };
    } catch (error) {
      const fix = denied(error) ? `grant s3:GetObject on arn:aws:s3:::${where.slice(5)}*` : OTHER_FIX;
      return { checks: [list, fail('source-get', `read ${where}`, errorMessage(error), fix)] };
    }
  } catch (error) {
    const fix = denied(error) ? `grant s3:ListBucket on arn:aws:s3:::${where.slice(5).split('/')[0]} (s3:prefix ${prefix}*)` : OTHER_FIX;
    return { checks: [fail('source-list', `list ${where}`, errorMessage(error), fix)] };
  } finally {
    await storage.close?.();
  }
}

/** Puts and deletes `_s3logs/doctor-probe-<random>` under --dest: what a convert commit needs. */
export async function checkDestAccess(dest: string, aws: AwsOptions): Promise<Check[]> {
  const storage = await openDest(dest, { aws });
  const key = lakeKeys.probe(randomBytes(6).toString('hex'));
  const where = `${storage.uri}${storage.uri.endsWith('/') ? '' : '/'}${key}`;
  const arn = storage.uri.startsWith('s3://') ? `arn:aws:s3:::${storage.uri.slice(5)}*` : storage.uri;
  try {
    try {
      await storage.put(key, new TextEncoder().encode('s3logs doctor probe; safe to delete\n'), { contentType: 'text/plain' });
    } catch (error) {
      return [fail('dest-put', `write ${storage.uri}`, errorMessage(error), denied(error) ? `grant s3:PutObject on ${arn}` : OTHER_FIX)];
    }
    const put = pass('dest-put', `write ${storage.uri}`, `put ${key}`);
    const conditional = await checkConditionalWrites(storage, key);
    try {
      await storage.delete([key]);
      return [put, conditional, pass('dest-delete', `delete in ${storage.uri}`, `deleted ${key} again`)];
    } catch (error) {
      const fix = `${denied(error) ? `grant s3:DeleteObject on ${arn} (convert replaces and retires files)` : OTHER_FIX}; then delete the probe ${where}`;
      return [put, conditional, fail('dest-delete', `delete in ${storage.uri}`, errorMessage(error), fix)];
    }
  } finally {
    await storage.close?.();
  }
}

/**
 * Locks and the key date manifest are conditional writes (docs/s3.md#conditional-writes): creating the
 * probe `key` again must be refused. Some S3-compatible stores ignore If-None-Match and overwrite; runs
 * there stay exact one at a time, but two that start together could both take a lock.
 */
async function checkConditionalWrites(storage: Storage, key: string): Promise<Check> {
  const id = 'dest-conditional';
  const title = `conditional writes in ${storage.uri}`;
  let created: boolean;
  try {
    created = await storage.putIfAbsent(key, new TextEncoder().encode('s3logs doctor probe, created again; safe to delete\n'));
  } catch (error) {
    return fail(
      id,
      title,
      `a create-if-absent of the probe (If-None-Match: *) failed: ${errorMessage(error)}`,
      'locks are taken this way, so convert would fail here too; use a store that supports conditional writes (AWS S3 does), or check --endpoint-url',
    );
  }
  if (!created) return pass(id, title, 'creating the probe again was refused (If-None-Match: *), as locks need');
  return warn(
    id,
    title,
    'the store wrote over the probe on a create-if-absent (If-None-Match: *): it ignores conditional writes',
    'run one scheduler per destination here: runs one at a time stay exact, two that start together could both take a lock (docs/s3.md#conditional-writes); AWS S3 honours conditional writes',
  );
}

export async function checkGlue(database: string, table: string, aws: AwsOptions): Promise<Check> {
  const id = 'glue';
  const title = `Glue table ${database}.${table}`;
  const glue = new GlueClient(baseClientConfig(aws));
  const create = `run \`s3logs convert --catalog glue --database ${database} --table ${table} ...\` once (it creates both), or check --database/--table and --region`;
  const grant = (what: string) => `grant ${what} on the Glue catalog, database ${database} and table ${database}/${table}`;
  try {
    try {
      await glue.send(new GetDatabaseCommand({ Name: database }));
    } catch (error) {
      const name = s3ErrorName(error);
      if (name === 'EntityNotFoundException') return fail(id, title, `database ${database} does not exist`, create);
      return fail(
        id,
        title,
        `GetDatabase failed (${name}: ${errorMessage(error)})`,
        name === 'AccessDeniedException' ? grant('glue:GetDatabase') : OTHER_FIX,
      );
    }
    try {
      const out = await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      return pass(id, title, `reachable, located at ${out.Table?.StorageDescriptor?.Location ?? '(no location)'}`);
    } catch (error) {
      const name = s3ErrorName(error);
      if (name === 'EntityNotFoundException') return fail(id, title, `table ${table} does not exist in database ${database}`, create);
      return fail(
        id,
        title,
        `GetTable failed (${name}: ${errorMessage(error)})`,
        name === 'AccessDeniedException' ? grant('glue:GetTable') : OTHER_FIX,
      );
    }
  } finally {
    glue.destroy();
  }
}
