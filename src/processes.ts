/**
 * Whether the writer of a lock, mutex or temp file is gone, as far as this host can tell: a file names
 * its writer's host and pid, and only a pid of this host means anything here.
 */

/** Whether process `pid` exists on this host (EPERM: it does, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * For a writer named `host`/`pid`: true when it ran on this host (`thisHost`, as the caller spells host
 * names) and its process no longer exists; false when it is this process or still runs; undefined when
 * this host cannot tell (another host, or no usable pid), and the caller judges by age or lease.
 */
export function writerGoneHere(host: string | undefined, pid: number, thisHost: string): boolean | undefined {
  if (host !== thisHost || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return pid !== process.pid && !processExists(pid);
}
