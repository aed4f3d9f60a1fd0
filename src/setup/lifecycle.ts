/**
 * Lifecycle rules for raw logs, merged into the log bucket's existing configuration (S3 replaces the
 * whole configuration on every put, so every rule we did not write is sent back unchanged).
 * Safe expiry: the expiry rule only matches objects tagged `s3logs-converted=true` (set by
 * `convert --tag-converted` after the key date was committed), so an unconverted log is never deleted.
 */
import type { LifecycleRule, Tag, TransitionStorageClass } from '@aws-sdk/client-s3';

export const CONVERTED_TAG: Readonly<Tag> = { Key: 's3logs-converted', Value: 'true' };
export const TRANSITION_RULE_ID = 's3logs-raw-logs-transition';
export const EXPIRE_RULE_ID = 's3logs-raw-logs-expire-converted';

/** Classes convert can still read without a restore; Glacier Flexible/Deep Archive would break re-runs. */
export const TRANSITION_CLASSES = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'] as const;
export type RawTransitionClass = (typeof TRANSITION_CLASSES)[number];

export interface RawLogLifecycle {
  readonly logPrefix: string;
  readonly transitionDays?: number;
  readonly transitionClass?: RawTransitionClass;
  readonly expireDays?: number;
}

/** Our rules for the flags given; a flag left out leaves the matching rule (if any) as it is. */
export function rawLogRules(l: RawLogLifecycle): LifecycleRule[] {
  const rules: LifecycleRule[] = [];
  if (l.transitionDays !== undefined) {
    rules.push({
      ID: TRANSITION_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: l.logPrefix },
      Transitions: [{ Days: l.transitionDays, StorageClass: (l.transitionClass ?? 'STANDARD_IA') as TransitionStorageClass }],
    });
  }
  if (l.expireDays !== undefined) {
    // S3 wants And only for two or more predicates: with no prefix the tag alone is the filter.
    const filter = l.logPrefix === '' ? { Tag: { ...CONVERTED_TAG } } : { And: { Prefix: l.logPrefix, Tags: [{ ...CONVERTED_TAG }] } };
    rules.push({ ID: EXPIRE_RULE_ID, Status: 'Enabled', Filter: filter, Expiration: { Days: l.expireDays } });
  }
  return rules;
}

/** Prefix a rule applies to: Filter.Prefix, Filter.And.Prefix or the legacy top-level Prefix. */
export function rulePrefix(rule: LifecycleRule): string {
  return rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix ?? '';
}

export function ruleTags(rule: LifecycleRule): Tag[] {
  if (rule.Filter?.Tag) return [rule.Filter.Tag];
  return rule.Filter?.And?.Tags ?? [];
}

/** What we set on a rule, in one comparable string (GET answers leave out empty fields). */
function signature(rule: LifecycleRule): string {
  return JSON.stringify({
    id: rule.ID,
    status: rule.Status,
    prefix: rulePrefix(rule),
    tags: ruleTags(rule)
      .map((t) => `${t.Key}=${t.Value}`)
      .sort(),
    size: [
      rule.Filter?.ObjectSizeGreaterThan ?? rule.Filter?.And?.ObjectSizeGreaterThan,
      rule.Filter?.ObjectSizeLessThan ?? rule.Filter?.And?.ObjectSizeLessThan,
    ],
    transitions: (rule.Transitions ?? []).map((t) => `${t.Days ?? ''}:${t.Date?.toISOString() ?? ''}:${t.StorageClass ?? ''}`),
    expiration: [rule.Expiration?.Days, rule.Expiration?.Date?.toISOString(), rule.Expiration?.ExpiredObjectDeleteMarker],
    noncurrent: [rule.NoncurrentVersionTransitions?.length ?? 0, rule.NoncurrentVersionExpiration?.NoncurrentDays],
    abort: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
  });
}

export interface LifecycleMerge {
  readonly rules: LifecycleRule[];
  readonly changed: boolean;
  /** IDs of our rules that were added or updated. */
  readonly touched: string[];
}

/** Existing rules stay in place and unchanged; ours replace the rule with the same ID or are appended. */
export function mergeLifecycle(existing: readonly LifecycleRule[], ours: readonly LifecycleRule[]): LifecycleMerge {
  const rules = [...existing];
  const touched: string[] = [];
  for (const rule of ours) {
    const at = rules.findIndex((r) => r.ID === rule.ID);
    const current = rules[at];
    if (current && signature(current) === signature(rule)) continue;
    if (at >= 0) rules[at] = rule;
    else rules.push(rule);
    touched.push(rule.ID ?? '');
  }
  return { rules, changed: touched.length > 0, touched };
}

/** Some of one prefix's keys fall under the other: a rule on `logs/` covers `logs/a/` and vice versa. */
const overlaps = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);

/**
 * Enabled rules that would delete raw logs whether or not they were converted: an Expiration by days
 * or date over (part of) the log prefix, without the converted tag in its filter. Delete-marker cleanup
 * and noncurrent-version expiry never remove a current log object, so they are safe.
 */
export function unsafeExpiryRules(rules: readonly LifecycleRule[], logPrefix: string): LifecycleRule[] {
  return rules.filter((rule) => {
    if (rule.Status !== 'Enabled') return false;
    if (rule.Expiration?.Days === undefined && rule.Expiration?.Date === undefined) return false;
    if (!overlaps(rulePrefix(rule), logPrefix)) return false;
    return !ruleTags(rule).some((t) => t.Key === CONVERTED_TAG.Key && t.Value === CONVERTED_TAG.Value);
  });
}
