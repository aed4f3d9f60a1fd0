/** A publish lock record as another live run on another host leaves it, for tests that meet a held lock. */
import type { LockRecord } from '../../src/records.js';

/** The bytes of a lock whose lease ends `leaseMs` from now (negative: a lease that already ended). */
export function heldLock(leaseMs: number, over: Partial<LockRecord> = {}): Buffer {
  const now = new Date();
  const record: LockRecord = {
    kind: 's3logs/lock',
    token: 'x',
    runId: 'elsewhere',
    purpose: 'convert',
    host: 'other-host',
    pid: 1,
    acquiredAt: now.toISOString(),
    renewedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + leaseMs).toISOString(),
    ...over,
  };
  return Buffer.from(JSON.stringify(record));
}
