/**
 * The log bucket's policy: the one statement that lets S3 deliver server access logs
 * (`logging.s3.amazonaws.com` → s3:PutObject on the log prefix, limited by aws:SourceArn and
 * aws:SourceAccount), merged into whatever the bucket policy already says. Statements we do not own are
 * never touched; ours is found by Sid or by what it does (the logging principal for the same source ARN).
 */
import { ConfigError } from '../errors.js';

export const LOGGING_PRINCIPAL = 'logging.s3.amazonaws.com';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Statement = { [key: string]: Json };

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement[];
  [key: string]: Json | Statement[] | undefined;
}

export interface DeliveryTarget {
  readonly logBucket: string;
  readonly logPrefix: string;
  readonly sourceBucket: string;
  /** 12-digit account that owns the source bucket. */
  readonly account: string;
  /** ARN partition: aws, aws-cn or aws-us-gov. */
  readonly partition: string;
}

/** aws, aws-cn or aws-us-gov, from the region name; ARNs differ per partition. */
export function arnPartition(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export const bucketArn = (partition: string, bucket: string): string => `arn:${partition}:s3:::${bucket}`;

/** Sid of our statement: one per source bucket, so several buckets can log into one log bucket. */
export const deliverySid = (sourceBucket: string): string => `S3ServerAccessLogs-${sourceBucket}`;

/** The statement AWS documents for policy-based log delivery, scoped to one source bucket and prefix. */
export function deliveryStatement(t: DeliveryTarget): Statement {
  return {
    Sid: deliverySid(t.sourceBucket),
    Effect: 'Allow',
    Principal: { Service: LOGGING_PRINCIPAL },
    Action: 's3:PutObject',
    Resource: `${bucketArn(t.partition, t.logBucket)}/${t.logPrefix}*`,
    Condition: {
      ArnLike: { 'aws:SourceArn': bucketArn(t.partition, t.sourceBucket) },
      StringEquals: { 'aws:SourceAccount': t.account },
    },
  };
}

/** Parses a bucket policy; S3 stores it as JSON text. A Statement given as one object becomes a list. */
export function parsePolicy(text: string, bucket: string): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the bucket policy of ${bucket} is not valid JSON (${(error as Error).message}); fix it in the S3 console first`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`the bucket policy of ${bucket} is not a JSON object; fix it in the S3 console first`);
  }
  const doc = parsed as { Statement?: unknown };
  const statements = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { ...(parsed as PolicyDocument), Statement: statements as Statement[] };
}

/** Strings or lists of strings as a sorted list, so `"a"` and `["a"]` compare equal. */
function list(value: Json | undefined): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String).sort();
}

/** Canonical form for comparing statements: AWS accepts one value or a list wherever a list goes. */
function canonical(value: Json | undefined): Json {
  if (value === undefined) return null;
  if (Array.isArray(value))
    return value
      .map(canonical)
      .map((v) => JSON.stringify(v))
      .sort()
      .map((v) => JSON.parse(v) as Json);
  if (typeof value === 'object' && value !== null) {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      out[key] = typeof v === 'string' ? [v] : canonical(v);
    }
    return out;
  }
  return value;
}

export function sameStatement(a: Statement, b: Statement): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Service principals of a statement (`Principal: {Service: ...}`). */
export function servicePrincipals(s: Statement): string[] {
  const principal = s.Principal;
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) return [];
  return list(principal.Service);
}

/** Values of one condition key under any operator, e.g. every aws:SourceArn. */
export function conditionValues(s: Statement, key: string): string[] {
  const condition = s.Condition;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return [];
  const values: string[] = [];
  for (const block of Object.values(condition)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) continue;
    for (const [k, v] of Object.entries(block)) if (k.toLowerCase() === key.toLowerCase()) values.push(...list(v));
  }
  return values;
}

/** A statement that delivers logs of this source bucket (ours, or one written by hand or by the console). */
function deliversFor(s: Statement, t: DeliveryTarget): boolean {
  if (s.Sid === deliverySid(t.sourceBucket)) return true;
  return (
    servicePrincipals(s).includes(LOGGING_PRINCIPAL) && conditionValues(s, 'aws:SourceArn').includes(bucketArn(t.partition, t.sourceBucket))
  );
}

export interface PolicyMerge {
  readonly policy: PolicyDocument;
  readonly changed: boolean;
  /** Sids (or positions) of the statements that were replaced by ours. */
  readonly replaced: string[];
}

/** Adds or updates our statement; every other statement, Id and Version stay as they were. */
export function mergeDeliveryStatement(existing: PolicyDocument | undefined, t: DeliveryTarget): PolicyMerge {
  const wanted = deliveryStatement(t);
  const statements = existing?.Statement ?? [];
  const ours = statements.filter((s) => deliversFor(s, t));
  const first = ours[0];
  if (ours.length === 1 && first && sameStatement(first, wanted)) {
    return { policy: existing ?? { Version: '2012-10-17', Statement: [wanted] }, changed: false, replaced: [] };
  }
  const replaced = ours.map((s) => (typeof s.Sid === 'string' ? s.Sid : `#${statements.indexOf(s)}`));
  const kept = statements.filter((s) => !ours.includes(s));
  // Ours goes where the first old one was (everything before it is kept), so a policy diff stays small.
  const at = first ? statements.indexOf(first) : kept.length;
  const next = [...kept.slice(0, at), wanted, ...kept.slice(at)];
  return { policy: { Version: '2012-10-17', ...existing, Statement: next }, changed: true, replaced };
}

/** The account of existing log-delivery statements, when they agree on exactly one. */
export function deliveryAccountOf(policy: PolicyDocument | undefined): string | undefined {
  const accounts = new Set<string>();
  for (const s of policy?.Statement ?? []) {
    if (servicePrincipals(s).includes(LOGGING_PRINCIPAL)) for (const a of conditionValues(s, 'aws:SourceAccount')) accounts.add(a);
  }
  return accounts.size === 1 ? [...accounts][0] : undefined;
}
