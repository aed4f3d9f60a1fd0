/**
 * In-memory Storage for unit tests: same contract as the real stores (sorted listing, delimiter
 * folding, `not_found` StorageError on get), plus counters so tests can assert request counts.
 */
import { StorageError } from '../../src/errors.js';
import type { ListPage, ObjectInfo, Storage, StorageStats, VersionedObject } from '../../src/storage/Storage.js';

export class MemoryStorage implements Storage {
  readonly uri = 'memory://test/';
  readonly objects = new Map<string, { body: Uint8Array; etag: string; lastModified: Date }>();
  readonly counts = { get: 0, put: 0, list: 0, head: 0, delete: 0 };
  private version = 0;
  private bytesRead = 0;
  private bytesWritten = 0;

  async list(prefix: string, options: { delimiter?: string; startAfter?: string } = {}): Promise<ListPage> {
    this.counts.list++;
    const objects: ObjectInfo[] = [];
    const prefixes = new Set<string>();
    for (const key of [...this.objects.keys()].sort()) {
      if (!key.startsWith(prefix) || (options.startAfter !== undefined && key <= options.startAfter)) continue;
      const rest = key.slice(prefix.length);
      const cut = options.delimiter ? rest.indexOf(options.delimiter) : -1;
      if (cut >= 0) {
        prefixes.add(prefix + rest.slice(0, cut + options.delimiter!.length));
      } else {
        objects.push(this.info(key));
      }
    }
    return { objects, commonPrefixes: [...prefixes] };
  }

  async get(key: string): Promise<Uint8Array> {
    this.counts.get++;
    const object = this.objects.get(key);
    if (!object) throw new StorageError(`${this.uri}${key} does not exist`, 'not_found', key);
    this.bytesRead += object.body.byteLength;
    return object.body.slice();
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.counts.head++;
    return this.objects.has(key) ? this.info(key) : undefined;
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    if (this.objects.has(key)) return false;
    await this.put(key, body);
    return true;
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    this.counts.get++;
    const object = this.objects.get(key);
    if (!object) return undefined;
    this.bytesRead += object.body.byteLength;
    return { body: object.body.slice(), version: object.etag };
  }

  /** Check and write happen in one synchronous step (no await between), hence atomic like S3's If-Match. */
  async putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean> {
    if (this.objects.get(key)?.etag !== version) return false;
    await this.put(key, body);
    return true;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    this.counts.put++;
    this.bytesWritten += body.byteLength;
    // Copy so a caller reusing its buffer cannot change what was "written". A new etag per write, even
    // of the same bytes (stricter than S3's MD5 ETag), so a putIfMatch with an older version always fails.
    this.objects.set(key, { body: body.slice(), etag: `v${++this.version}`, lastModified: new Date() });
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.counts.delete++;
    for (const key of keys) this.objects.delete(key);
  }

  stats(): StorageStats {
    const requests = Object.values(this.counts).reduce((a, b) => a + b, 0);
    return { requests, retries: 0, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten };
  }

  /** Test convenience: store text under a key. */
  putText(key: string, text: string): void {
    this.objects.set(key, { body: new TextEncoder().encode(text), etag: `v${++this.version}`, lastModified: new Date() });
  }

  private info(key: string): ObjectInfo {
    const object = this.objects.get(key)!;
    return { key, size: object.body.byteLength, etag: object.etag, lastModified: object.lastModified };
  }
}
