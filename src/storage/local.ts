/**
 * Local filesystem store: the embedded default, so `npm start` works with no AWS account. Keys map to
 * paths under the root directory. Writes go to a hidden temp file in the target directory and are
 * renamed into place, so a crash never leaves a half-written file where readers look.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { StorageError } from '../errors.js';
import type { ListOptions, ListPage, ObjectInfo, PutOptions, Storage, StorageStats } from './Storage.js';

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
    const sorted = objects.filter((o) => keep(o.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.s3logs-tmp`);
    try {
      await mkdir(dirname(target), { recursive: true });
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
      this.counters.bytesWritten += body.length;
    } catch (error) {
      await rm(temp, { force: true });
      throw this.wrap(error, key, 'write');
    }
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    this.counters.requests++;
    const target = this.path(key);
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.s3logs-tmp`);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temp, body);
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

  /** Atomic rename within the store (publishing a staged file). */
  async move(fromKey: string, toKey: string): Promise<void> {
    this.counters.requests++;
    try {
      await mkdir(dirname(this.path(toKey)), { recursive: true });
      await rename(this.path(fromKey), this.path(toKey));
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
      return new StorageError(`permission denied to ${action} ${where}; check the file permissions`, 'access_denied', key, { cause: error });
    }
    return new StorageError(`cannot ${action} ${where}: ${(error as Error).message}`, 'io', key, { cause: error });
  }
}

function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.s3logs-tmp');
}
