/**
 * Storage steps the publish protocols (commit.ts, group.ts) share, kept apart from both so neither
 * imports the other for them.
 */
import { StorageError } from '../errors.js';
import type { Storage } from './Storage.js';

/**
 * Puts a staged file in place; repeatable (a file already placed is in place). The staged copy may stay
 * until the publish clears its staging prefix (Storage.place).
 */
export async function place(storage: Storage, from: string, to: string): Promise<void> {
  try {
    if (storage.place) await storage.place(from, to);
    else await storage.put(to, await storage.get(from));
  } catch (error) {
    // Moved before a crash (or by another run finishing the same journal): the file is in place.
    if (error instanceof StorageError && error.code === 'not_found' && (await storage.head(to))) return;
    throw error;
  }
}

/** Removes everything under a `/`-terminated prefix (also a local store's half-written temp files). */
export async function clearPrefix(storage: Storage, prefix: string): Promise<void> {
  if (storage.deletePrefix) return storage.deletePrefix(prefix);
  const page = await storage.list(prefix);
  if (page.objects.length) await storage.delete(page.objects.map((o) => o.key));
}
