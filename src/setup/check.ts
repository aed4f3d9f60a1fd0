/** One line of the `s3logs doctor` checklist: what was checked, what was found, and the fix. */

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface Check {
  /** Stable id for --json consumers, e.g. `logging:my-bucket`. */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, in a sentence. */
  readonly detail: string;
  /** What to do; present on every failure. */
  readonly fix?: string;
}

export const pass = (id: string, title: string, detail: string): Check => ({ id, title, status: 'pass', detail });
export const fail = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, status: 'fail', detail, fix });
export const skip = (id: string, title: string, detail: string): Check => ({ id, title, status: 'skip', detail });

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '-' };

/** The checklist a person reads: one line per check, the fix indented below each failure. */
export function formatChecklist(checks: readonly Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.detail}`);
    if (c.fix) lines.push(`    fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  lines.push('', failed === 0 ? `All ${checks.length} checks passed.` : `${failed} of ${checks.length} checks failed.`);
  return lines.join('\n') + '\n';
}
