/** A lock object's body as LeaseLock writes it: another run's live lock on this host unless `over` says otherwise. */
import { hostname } from 'node:os';
import type { LockRecord } from '../../src/records.js';

export function lockRecord(over: Partial<LockRecord> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      kind: 's3logs/lock',
      token: 'someone-else',
      runId: 'other',
      purpose: 'convert',
      host: hostname(),
      pid: process.pid,
      acquiredAt: new Date().toISOString(),
      renewedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      ...over,
    } satisfies LockRecord),
  );
}
