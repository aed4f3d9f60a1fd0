/** One line of the `s3logs doctor` checklist: what was checked, what was found, and the fix. */

/** warn: worth knowing and fixing, but not a broken setup (does not fail doctor). */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn';

export interface Check {
  /** Stable id for --json consumers, e.g. `logging:my-bucket`. */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, in a sentence. */
  readonly detail: string;
  /** What to do; present on every failure and warning. */
  readonly fix?: string;
}

export const pass = (id: string, title: string, detail: string): Check => ({ id, title, status: 'pass', detail });
export const fail = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, status: 'fail', detail, fix });
export const skip = (id: string, title: string, detail: string): Check => ({ id, title, status: 'skip', detail });
export const warn = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, status: 'warn', detail, fix });

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '-', warn: '!' };

/** The checklist a person reads: one line per check, the fix indented below each failure. */
export function formatChecklist(checks: readonly Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.detail}`);
    if (c.fix) lines.push(`    fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const warnings = warned === 0 ? '' : ` (${warned} warning${warned === 1 ? '' : 's'})`;
  lines.push(
    '',
    failed === 0 ? `All ${checks.length} checks passed${warnings}.` : `${failed} of ${checks.length} checks failed${warnings}.`,
  );
  return lines.join('\n') + '\n';
}
