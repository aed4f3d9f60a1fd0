/**
 * Is the log bucket's policy right for log delivery, and no wider than needed? It needs a statement
 * letting logging.s3.amazonaws.com (and nobody else) s3:PutObject under the log prefix, limited by
 * aws:SourceAccount and aws:SourceArn; no Allow statement of the bucket may name the `*` principal
 * (access logs name every requester and key of the logged bucket).
 */
import {
  LOGGING_PRINCIPAL,
  bucketArn,
  conditionValues,
  servicePrincipals,
  type Json,
  type PolicyDocument,
  type Statement,
} from './policy.js';

export interface PolicyFindings {
  /** A statement lets S3 deliver this source bucket's logs under the prefix. */
  readonly delivers: boolean;
  /** What is wider than needed or missing, one phrase each. */
  readonly problems: string[];
}

const values = (v: Json | undefined): string[] => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** IAM-style wildcard match (`*` any run, `?` one character), case-sensitive like S3 ARNs. */
function globMatches(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
}

/** Every principal a statement names, flattened: `*`, AWS ARNs, services... */
function principals(s: Statement): string[] {
  const p = s.Principal;
  if (typeof p === 'string') return [p];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return [];
  return Object.values(p).flatMap((v) => values(v));
}

const name = (s: Statement, i: number): string => (typeof s.Sid === 'string' && s.Sid ? `"${s.Sid}"` : `#${i + 1}`);

export function checkDeliveryPolicy(
  policy: PolicyDocument | undefined,
  t: { logBucket: string; logPrefix: string; sourceBucket: string; partition: string },
): PolicyFindings {
  const problems: string[] = [];
  const sourceArn = bucketArn(t.partition, t.sourceBucket);
  const logArn = bucketArn(t.partition, t.logBucket);
  // A key S3 could deliver, and one outside the log prefix (to tell a resource that is too wide).
  const inside = `${logArn}/${t.logPrefix}123456789012/us-east-1/${t.sourceBucket}/2024/01/01/2024-01-01-00-00-00-0123456789ABCDEF`;
  const outside = `${logArn}/${t.logPrefix.startsWith('~') ? '!' : '~'}outside-the-log-prefix`;
  let delivers = false;

  (policy?.Statement ?? []).forEach((s, i) => {
    if (s.Effect !== 'Allow') return;
    const who = principals(s);
    if (who.includes('*') || s.NotPrincipal !== undefined) {
      problems.push(`statement ${name(s, i)} allows ${s.NotPrincipal !== undefined ? 'everyone but NotPrincipal' : 'any principal ("*")'}`);
    }
    if (!servicePrincipals(s).includes(LOGGING_PRINCIPAL)) return;
    const sourceArns = conditionValues(s, 'aws:SourceArn');
    if (sourceArns.length > 0 && !sourceArns.some((arn) => globMatches(arn, sourceArn))) return; // another source bucket's statement
    const resources = values(s.Resource);
    if (!resources.some((r) => globMatches(r, inside))) return;
    delivers = true;
    const others = who.filter((p) => p !== LOGGING_PRINCIPAL && p !== '*');
    if (others.length) problems.push(`statement ${name(s, i)} also grants ${others.join(', ')}`);
    const actions = values(s.Action);
    const extra = actions.filter((a) => a.toLowerCase() !== 's3:putobject');
    if (extra.length || s.NotAction !== undefined)
      problems.push(`statement ${name(s, i)} allows ${extra.join(', ') || 'NotAction'}; only s3:PutObject is needed`);
    if (t.logPrefix !== '' && resources.some((r) => globMatches(r, outside))) {
      problems.push(`statement ${name(s, i)} covers ${resources.join(', ')}, wider than ${logArn}/${t.logPrefix}*`);
    }
    if (conditionValues(s, 'aws:SourceAccount').length === 0) problems.push(`statement ${name(s, i)} has no aws:SourceAccount condition`);
    if (sourceArns.length === 0) problems.push(`statement ${name(s, i)} has no aws:SourceArn condition (any bucket could log here)`);
  });
  return { delivers, problems };
}
