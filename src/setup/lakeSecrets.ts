/**
 * Doctor's look for secrets in the lake: presigned URLs leave X-Amz-Credential, X-Amz-Signature and
 * X-Amz-Security-Token values (SigV2: AWSAccessKeyId, Signature) in request_uri, request_query and
 * referrer unless the lake was converted with --redact presigned, and a lake is usually shared more
 * widely than the raw logs. Looks at the Parquet files of the latest key dates (a sample: the newest
 * first, up to a byte budget), counts rows whose values are not the REDACTED marker, and warns (never
 * fails: fidelity is the default) with the fix.
 */
import type { AwsOptions } from '../aws/config.js';
import { errorMessage } from '../errors.js';
import { openDest } from '../locations.js';
import { CONTROL_PREFIX, readManifest, type KeyDateManifest } from '../records.js';
import { redactLabel, REDACTED } from '../stages/redact.js';
import type { Storage } from '../storage/Storage.js';
import { pass, skip, warn, type Check } from './check.js';
import { grouped } from '../numberText.js';

const ID = 'lake-secrets';
const TITLE = 'presigned-URL secrets in the lake';

export interface SecretsSample {
  /** Key dates looked at, newest first. */
  readonly keyDates: string[];
  readonly files: number;
  readonly rows: number;
  /** Rows with an X-Amz-Security-Token value that is not the marker. */
  readonly tokenRows: number;
  /** Rows with any other live presigned secret (signature, credential, SigV2 key ID or signature). */
  readonly signatureRows: number;
  /** The manifests' --redact of the key dates looked at. */
  readonly redact: string[];
}

/** Values of a query parameter (case-insensitive, `=` or `%3D`) in a text column, as a DuckDB list. */
function values(column: string, names: string): string {
  return `regexp_extract_all(coalesce(${column}, ''), '(?i)(?:[?&]|%3F|%26)(?:${names})(?:=|%3D)([^&\\s#"]*)', 1)`;
}

/** Rows holding at least one live value of the parameters, in request_uri or referrer. */
function liveRows(names: string): string {
  const live = (column: string) => `len(list_filter(${values(column, names)}, v -> v <> '' AND NOT starts_with(v, '${REDACTED}'))) > 0`;
  return `count(*) FILTER (WHERE ${live('request_uri')} OR ${live('referrer')})`;
}

/** Counts live secrets in the files of the newest key dates, newest first, until `maxBytes` of Parquet. */
export async function sampleLakeSecrets(
  dest: Storage,
  options: { maxKeyDates?: number; maxBytes?: number } = {},
): Promise<SecretsSample | undefined> {
  const maxKeyDates = options.maxKeyDates ?? 3;
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const dirs = (await dest.list(`${CONTROL_PREFIX}keydates/`, { delimiter: '/' })).commonPrefixes;
  const keyDates = dirs
    .map((d) => /(\d{4}-\d{2}-\d{2})\/$/.exec(d)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort()
    .reverse();
  const manifests: KeyDateManifest[] = [];
  for (const keyDate of keyDates) {
    if (manifests.length >= maxKeyDates) break;
    const found = await readManifest(dest, keyDate);
    if (found && found.manifest.files.length > 0) manifests.push(found.manifest);
  }
  if (manifests.length === 0) return undefined;
  const keys: string[] = [];
  let bytes = 0;
  for (const file of manifests.flatMap((m) => m.files)) {
    if (keys.length > 0 && bytes + file.bytes > maxBytes) break;
    keys.push(file.key);
    bytes += file.bytes;
  }
  const [{ localFiles }, { openDuckDb, runSql }] = await Promise.all([import('../report/partitions.js'), import('../report/engine.js')]);
  const local = await localFiles(dest, keys);
  const duck = await openDuckDb();
  try {
    const list = local.paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ');
    const [row] = await runSql(
      duck.connection,
      `SELECT count(*) AS rows, ${liveRows('x-amz-security-token')} AS token_rows, ` +
        `${liveRows('x-amz-signature|x-amz-credential|awsaccesskeyid|signature')} AS signature_rows ` +
        `FROM read_parquet([${list}], union_by_name = true)`,
    );
    return {
      keyDates: manifests.map((m) => m.keyDate),
      files: keys.length,
      rows: Number(row?.rows ?? 0),
      tokenRows: Number(row?.token_rows ?? 0),
      signatureRows: Number(row?.signature_rows ?? 0),
      redact: [...new Set(manifests.map((m) => redactLabel(m.redact)))],
    };
  } finally {
    duck.close();
    await local.cleanup();
  }
}

/**
 * The doctor checklist line: a warning with the fix when the sampled key dates hold live secrets; no
 * line while the lake holds no converted key date (nothing to say yet).
 */
export async function checkLakeSecrets(destUri: string, aws: AwsOptions): Promise<Check | undefined> {
  let dest: Storage | undefined;
  try {
    dest = await openDest(destUri, { aws });
    const sample = await sampleLakeSecrets(dest);
    return sample ? lakeSecretsCheck(sample) : undefined;
  } catch (error) {
    // Access to --dest is checked (and failed) on its own line; this one only reports what it could not read.
    return skip(ID, TITLE, `could not sample the lake (${errorMessage(error)})`);
  } finally {
    await dest?.close?.();
  }
}

export function lakeSecretsCheck(sample: SecretsSample): Check {
  const where = `${grouped(sample.rows)} rows of ${sample.files} files, key dates ${sample.keyDates.join(', ')} (--redact ${sample.redact.join(' / ')})`;
  if (sample.tokenRows === 0 && sample.signatureRows === 0) return pass(ID, TITLE, `none live in ${where}`);
  return warn(
    ID,
    TITLE,
    `${grouped(sample.tokenRows)} rows hold live X-Amz-Security-Token values and ${grouped(sample.signatureRows)} live signatures or credentials of presigned URLs, in ${where}`,
    'convert with --redact presigned (re-running a key date re-publishes it redacted), or keep the lake as private as the raw logs',
  );
}
