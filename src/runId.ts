/** The one run-id scheme (key-date runs, jobs): sortable by start time, unique across hosts, e.g. 20240129T031500123Z-1a2b3c4d. */
import { randomBytes } from 'node:crypto';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}
