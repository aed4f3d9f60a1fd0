/**
 * Local filesystem store: the embedded default, so `npm start` works with no AWS account. Keys map to
 * paths under the root directory. Writes go to a hidden temp file in the target directory and are
 * renamed into place, so a crash never leaves a half-written file where readers look.
 *
 * Conditional writes: putIfAbsent creates the name with link(), which fails on an existing name.
 * putIfMatch compares and replaces under a per-key mutex file (`.<name>.s3logs-cas`, created with
 * O_EXCL), so it is atomic against every other putIfMatch on this host, in any process. Unconditional
 * put/delete do not take the mutex (a crash there must never block later writes); callers that
 * compare-and-swap a key write it with conditional writes only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareKeys } from '../compare.js';
import { StorageError } from '../errors.js';
import type { ListOptions, ListPage, ObjectInfo, PutOptions, Storage, StorageStats, VersionedObject } from './Storage.js';

/** A CAS mutex older than this was left by a crashed process (a holder keeps it for milliseconds). */
const CAS_STALE_MS = 10_000;
/** Longer than CAS_STALE_MS, so a crashed holder's mutex delays a later CAS but never fails it. */
const CAS_WAIT_MS = 15_000;

export class LocalStorage implements Storage {
  readonly uri: string;
  private readonly counters = { requests: 0, retries: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(readonly root: string) {
    this.uri = root.endsWith(sep) ? root : root + sep;
  }

  private path(key: string): string {
    if (key.split('/').includes('..')) throw new StorageError(`key ${key} leaves the store root ${this.uri}`, 'io', key);
    return join(this.root, ...key.split('/'));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.counters.requests++;
    const slash = prefix.lastIndexOf('/');
    const dirKey = prefix.slice(0, slash + 1);
    const objects: ObjectInfo[] = [];
    const commonPrefixes: string[] = [];
    const walk = async (key: string, deep: boolean): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.path(key), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw this.wrap(error, key, 'list');
      }
      for (const entry of entries) {
        const child = key + entry.name;
        if (!child.startsWith(prefix) && !prefix.startsWith(child + '/')) continue;
        if (entry.isDirectory()) {
          if (!deep) commonPrefixes.push(child + '/');
          else await walk(child + '/', true);
        } else if (entry.isFile() && !isTempName(entry.name)) {
          const info = await stat(this.path(child));
          objects.push({ key: child, size: info.size, etag: `${info.size}-${Math.trunc(info.mtimeMs)}`, lastModified: info.mtime });
        }
      }
    };
    if (options.delimiter === '/') {
      await walk(dirKey, false);
    } else {
      await walk(dirKey, true);
    }
    const keep = (key: string) =>
      key.startsWith(prefix) && (!options.startAfter || key > options.startAfter) && (options.endAt === undefined || key <= options.endAt);
    const sorted = objects.filter((o) => keep(o.key)).sort((a, b) => compareKeys(a.key, b.key));
    const truncated = options.maxKeys !== undefined && sorted.length > options.maxKeys;
    return {
      objects: truncated ? sorted.slice(0, options.maxKeys) : sorted,
      commonPrefixes: commonPrefixes.filter(keep).sort(),
      ...(truncated ? { truncated } : {}),
    };
  }

  async get(key: string): Promise<Uint8Array> {
    this.counters.requests++;
    try {
      const body = await readFile(this.path(key));
      this.counters.bytesRead += body.length;
      return body;
    } catch (error) {
      throw this.wrap(error, key, 'read');
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.counters.requests++;
    try {
      const info = await stat(this.path(key));
      if (!info.isFile()) return undefined;
      return { key, size: info.size, etag: `${info.size}-${Math.trunc(info.mtimeMs)}`, lastModified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap(error, key, 'read');
    }
  }

  async put(key: string, body: Uint8Array, _options?: PutOptions): Promise<void> {
    this.counters.requests++;
    const target = this.path(key);
    try {
      await inDirectory(target, () => writeAtomic(target, body));
      this.counters.bytesWritten += body.length;
    } catch (error) {
      throw this.wrap(error, key, 'write');
    }
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    this.counters.requests++;
    const target = this.path(key);
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.s3logs-tmp`);
    try {
      await inDirectory(target, () => writeFile(temp, body));
      // link() creates the name only if it does not exist: an atomic create-if-absent with full content.
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw this.wrap(error, key, 'write');
    } finally {
      await rm(temp, { force: true });
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    this.counters.requests++;
    let body: Buffer;
    try {
      // One read, hashed: the version always describes exactly these bytes.
      body = await readFile(this.path(key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.wrap(error, key, 'read');
    }
    this.counters.bytesRead += body.length;
    return { body, version: contentVersion(body) };
  }

  async putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean> {
    this.counters.requests++;
    const target = this.path(key);
    let mutex: string | undefined;
    try {
      mutex = await acquireCasMutex(target);
      // No directory, hence no object: nothing to match.
      if (mutex === undefined) return false;
      let current: Buffer;
      try {
        current = await readFile(target);
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
      if (contentVersion(current) !== version) return false;
      await writeAtomic(target, body);
      this.counters.bytesWritten += body.length;
      return true;
    } catch (error) {
      throw this.wrap(error, key, 'write');
    } finally {
      if (mutex !== undefined) await rm(mutex, { force: true });
    }
  }

  /** Atomic rename within the store (publishing a staged file). */
  async move(fromKey: string, toKey: string): Promise<void> {
    this.counters.requests++;
    try {
      // ENOENT is also a source that is gone (callers act on that): retried only while the source is there.
      await inDirectory(
        this.path(toKey),
        () => rename(this.path(fromKey), this.path(toKey)),
        () => exists(this.path(fromKey)),
      );
    } catch (error) {
      throw this.wrap(error, fromKey, 'write');
    }
    await this.pruneEmpty(dirname(this.path(fromKey)));
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (!prefix.endsWith('/')) throw new StorageError(`deletePrefix needs a directory prefix ending in /, got ${prefix}`, 'io', prefix);
    this.counters.requests++;
    const dir = this.path(prefix.slice(0, -1));
    await rm(dir, { recursive: true, force: true });
    await this.pruneEmpty(dirname(dir));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      this.counters.requests++;
      try {
        await rm(this.path(key), { force: true });
      } catch (error) {
        throw this.wrap(error, key, 'delete');
      }
      dirs.add(dirname(this.path(key)));
    }
    // Like S3, a "directory" exists only while it holds objects: prune the ones emptied here.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await this.pruneEmpty(dir);
  }

  private async pruneEmpty(dir: string): Promise<void> {
    const root = join(this.root);
    for (let current = dir; current.length > root.length && current.startsWith(root); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  private wrap(error: unknown, key: string, action: 'list' | 'read' | 'write' | 'delete'): StorageError {
    const code = (error as NodeJS.ErrnoException).code;
    const where = this.path(key);
    if (code === 'ENOENT') return new StorageError(`${where} does not exist`, 'not_found', key, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') {
      return new StorageError(`permission denied to ${action} ${where}; check the file permissions`, 'access_denied', key, {
        cause: error,
      });
    }
    return new StorageError(`cannot ${action} ${where}: ${(error as Error).message}`, 'io', key, { cause: error });
  }
}

/** Hidden from list(): temp files of writes in flight (or crashed) and CAS mutexes. */
function isTempName(name: string): boolean {
  return name.startsWith('.') && (name.endsWith('.s3logs-tmp') || name.endsWith('.s3logs-cas'));
}

function isMissing(error: unknown): boolean {
  // ENOTDIR: a parent "directory" is a file; EISDIR: the key names a directory. Neither is an object.
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** A content hash, not size+mtime: two writes of the same size within one mtime tick must differ. */
function contentVersion(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Temp file in the target's directory, fsync, rename: readers see the old file or the new one. */
/**
 * Runs `write` into target's directory, made first. Like S3, a "directory" exists only while it holds
 * objects: another process deleting its last object prunes it, possibly between our mkdir and write
 * (seen: three shards' write checks at once). Then it is made again and the write retried.
 */
async function inDirectory<T>(target: string, write: () => Promise<T>, retryable: () => Promise<boolean> = async () => true): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // mkdir -p itself can meet the prune half-way (ENOENT on a parent it just made).
      await mkdir(dirname(target), { recursive: true });
      return await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10 || !(await retryable())) throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeAtomic(target: string, body: Uint8Array): Promise<void> {
  const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.s3logs-tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Takes the CAS mutex of `target` (O_EXCL create of `.<name>.s3logs-cas` beside it) and returns its
 * path, or undefined when the target's directory does not exist. Waits while another holder has it.
 */
async function acquireCasMutex(target: string): Promise<string | undefined> {
  const mutex = join(dirname(target), `.${basename(target)}.s3logs-cas`);
  const deadline = Date.now() + CAS_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(mutex, 'wx');
      await handle.close();
      return mutex;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code !== 'EEXIST') throw error;
    }
    await breakStaleMutex(mutex);
    if (Date.now() >= deadline) {
      throw new Error(
        `the compare-and-swap mutex ${mutex} stayed taken for ${CAS_WAIT_MS / 1000} s; ` + `if no s3logs process is running, remove it`,
      );
    }
    // Jittered, so waiting processes do not retry in lockstep.
    await sleep(5 + Math.random() * 15);
  }
}

/**
 * Removes a mutex older than CAS_STALE_MS. It is first renamed aside and judged again there: between
 * our stat and the rename another waiter may have broken it and a new holder taken the name, and a
 * fresh mutex caught that way is linked back instead of deleted.
 */
async function breakStaleMutex(mutex: string): Promise<void> {
  const old = await stat(mutex).catch(() => undefined);
  if (!old || Date.now() - old.mtimeMs < CAS_STALE_MS) return;
  const aside = join(dirname(mutex), `.${randomBytes(6).toString('hex')}.s3logs-cas`);
  try {
    await rename(mutex, aside);
  } catch {
    return; // Gone already: another waiter broke it.
  }
  try {
    const moved = await stat(aside);
    if (Date.now() - moved.mtimeMs < CAS_STALE_MS) await link(aside, mutex).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}
