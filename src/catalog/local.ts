/**
 * File-backed catalog: one JSON document in the output store (default `_s3logs/catalog.json`), with
 * the same semantics as the Glue catalog plus per-key-date contributions, so the CLI can report files
 * and rows per partition without listing or reading Parquet.
 */
import { isAbsolute } from 'node:path';
import { retrying } from '../backoff.js';
import { compareKeys } from '../compare.js';
import { CatalogError, errorMessage } from '../errors.js';
import { lakeKeys, readVersionedRecord } from '../records.js';
import type { Storage } from '../storage/Storage.js';
import { checkPartitionKeys, reconcileColumns } from '../schema/ddl.js';
import { intersectRedact, normalizeRedact, sameRedact } from '../stages/redact.js';
import {
  partitionName,
  type Catalog,
  type CatalogColumn,
  type EnsureTableResult,
  type PartitionContribution,
  type PartitionEntry,
  type PartitionValues,
  type RegisterResult,
  type TableDefinition,
} from './Catalog.js';

interface Contribution {
  files: string[];
  rows: number;
}

interface StoredPartition {
  bucket: string;
  dt: string;
  location: string;
  /** Key date (YYYY-MM-DD of the source log keys) → what its run wrote into this partition. */
  contributions: Record<string, Contribution>;
}

interface StoredTable {
  database: string;
  table: string;
  location: string;
  columns: CatalogColumn[];
  partitionKeys: CatalogColumn[];
  schemaVersion: number;
  /** `s3logs.redact`: what holds for every registered row (see TableDefinition.redact); absent: none. */
  redact?: string[];
}

interface CatalogDocument {
  format: 1;
  table?: StoredTable;
  partitions: Record<string, StoredPartition>;
}

/** A compare-and-swap that lost to another writer: read again and retry. */
const LOST_RACE = Symbol('the catalog document changed under this write');

export type PartitionStats = PartitionEntry & { files: number; rows: number };

export class LocalCatalog implements Catalog {
  readonly kind = 'local' as const;
  /** Serializes read-modify-write cycles so concurrent key dates in one process never lose updates. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly key = lakeKeys.catalog,
  ) {}

  ensureTable(def: TableDefinition): Promise<EnsureTableResult> {
    return this.update<EnsureTableResult>((doc) => {
      const where = `local catalog ${this.storage.uri}${this.key} table ${def.database}.${def.table}`;
      if (!doc.table) {
        doc.table = {
          database: def.database,
          table: def.table,
          location: this.stored(def.location),
          columns: def.columns.map((c) => ({ ...c })),
          partitionKeys: def.partitionKeys.map((c) => ({ ...c })),
          schemaVersion: def.schemaVersion,
          ...(def.redact ? { redact: normalizeRedact(def.redact) } : {}),
        };
        return { result: { created: true, columnsAdded: [] }, changed: true };
      }
      const t = doc.table;
      if (t.database !== def.database || t.table !== def.table || this.resolved(t.location) !== def.location) {
        throw new CatalogError(
          `${where}: this catalog file already describes ${t.database}.${t.table} at ${this.resolved(t.location)}. ` +
            `One output location holds one table: use the same --database/--table for it, or write to another output.`,
          'invalid',
        );
      }
      checkPartitionKeys(t.partitionKeys, def.partitionKeys, where);
      const merged = reconcileColumns(t.columns, def.columns, where);
      // A table from before redaction was recorded holds rows as logged: none.
      const redact = def.redact ? intersectRedact(t.redact ?? [], def.redact) : t.redact;
      const redactChanged = redact !== undefined && (t.redact === undefined || !sameRedact(redact, t.redact));
      const changed = merged.added.length > 0 || merged.widened.length > 0 || def.schemaVersion > t.schemaVersion || redactChanged;
      if (changed) {
        t.columns = merged.columns.map((c) => ({ ...c }));
        t.schemaVersion = Math.max(t.schemaVersion, def.schemaVersion);
        if (redact !== undefined) t.redact = redact;
      }
      return { result: { created: false, columnsAdded: merged.added }, changed };
    });
  }

  registerPartitions(keyDate: string, partitions: readonly PartitionContribution[]): Promise<RegisterResult> {
    return this.update((doc) => {
      const { dropped, ...counts } = this.apply(doc, keyDate, partitions);
      return { result: counts, changed: counts.created + counts.updated + dropped > 0 };
    });
  }

  /**
   * registerPartitions for several key dates in one read and write of the document: a compaction
   * re-registers every member of a partition at once, and the document is rewritten whole each time.
   */
  registerKeyDates(
    entries: ReadonlyArray<{ readonly keyDate: string; readonly partitions: readonly PartitionContribution[] }>,
  ): Promise<void> {
    return this.update((doc) => {
      let changed = false;
      for (const { keyDate, partitions } of entries) {
        const counts = this.apply(doc, keyDate, partitions);
        changed ||= counts.created + counts.updated + counts.dropped > 0;
      }
      return { result: undefined, changed };
    });
  }

  private apply(doc: CatalogDocument, keyDate: string, partitions: readonly PartitionContribution[]): RegisterResult & { dropped: number } {
    this.requireTable(doc, `register partitions of key date ${keyDate}`);
    const seen = new Set<string>();
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    for (const p of partitions) {
      const name = partitionName(p);
      if (seen.has(name)) {
        throw new CatalogError(`key date ${keyDate} lists partition ${name} twice; merge its files into one entry`, 'invalid', name);
      }
      seen.add(name);
      const contribution: Contribution = { files: [...p.files].sort(), rows: p.rows };
      const existing = doc.partitions[name];
      if (!existing) {
        doc.partitions[name] = {
          bucket: p.bucket,
          dt: p.dt,
          location: this.stored(p.location),
          contributions: { [keyDate]: contribution },
        };
        created++;
      } else if (this.resolved(existing.location) === p.location && sameContribution(existing.contributions[keyDate], contribution)) {
        unchanged++;
      } else {
        existing.location = this.stored(p.location);
        existing.contributions[keyDate] = contribution;
        updated++;
      }
    }
    // A re-run of the key date replaces its earlier contributions, including to partitions it no
    // longer writes; the partition itself stays until deletePartitions says its directory is empty.
    let dropped = 0;
    for (const [name, stored] of Object.entries(doc.partitions)) {
      if (!seen.has(name) && stored.contributions[keyDate]) {
        delete stored.contributions[keyDate];
        dropped++;
      }
    }
    return { created, updated, unchanged, dropped };
  }

  deletePartitions(partitions: readonly PartitionValues[]): Promise<number> {
    return this.update((doc) => {
      let removed = 0;
      for (const p of partitions) {
        const name = partitionName(p);
        if (doc.partitions[name]) {
          delete doc.partitions[name];
          removed++;
        }
      }
      return { result: removed, changed: removed > 0 };
    });
  }

  async listPartitions(): Promise<PartitionEntry[]> {
    const doc = await this.serial(() => this.load());
    return sorted(doc).map(({ bucket, dt, location }) => ({ bucket, dt, location: this.resolved(location) }));
  }

  /** The table's `s3logs.redact` (what holds for every registered row), or undefined when there is no table. */
  async tableRedact(): Promise<string[] | undefined> {
    const doc = await this.serial(() => this.load());
    return doc.table ? (doc.table.redact ?? []) : undefined;
  }

  /** Every partition with the files and rows its key dates contributed (for run summaries and the README). */
  async partitionStats(): Promise<PartitionStats[]> {
    const doc = await this.serial(() => this.load());
    return sorted(doc).map(({ bucket, dt, location: stored, contributions }) => {
      const location = this.resolved(stored);
      const all = Object.values(contributions);
      return {
        bucket,
        dt,
        location,
        files: new Set(all.flatMap((c) => c.files)).size,
        rows: all.reduce((sum, c) => sum + c.rows, 0),
      };
    });
  }

  private requireTable(doc: CatalogDocument, action: string): void {
    if (!doc.table) {
      throw new CatalogError(
        `local catalog ${this.storage.uri}${this.key} has no table yet; call ensureTable before you ${action}`,
        'not_found',
      );
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads, applies `change`, and writes the document back only when something changed (re-runs write nothing). */
  /**
   * Locations inside the catalog's own store are kept relative to it ('' is the table root), so a
   * local lake that is copied or moved still describes itself; others (another store) stay absolute.
   */
  private stored(location: string): string {
    return location.startsWith(this.storage.uri) ? location.slice(this.storage.uri.length) : location;
  }

  private resolved(stored: string): string {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(stored) || isAbsolute(stored) ? stored : this.storage.uri + stored;
  }

  /**
   * Read, change, write back only if nobody wrote in between (a compare-and-swap on the document's
   * version), else again: shards and parallel jobs in other processes register into the same file.
   */
  private update<T>(change: (doc: CatalogDocument) => { result: T; changed: boolean }): Promise<T> {
    return this.serial(async () => {
      return retrying(
        async () => {
          const { doc, version } = await this.loadVersioned();
          const { result, changed } = change(doc);
          if (!changed || (await this.save(doc, version))) return result;
          throw LOST_RACE;
        },
        {
          maxAttempts: 50,
          baseMs: 10,
          maxMs: 250,
          retryable: (error) => error === LOST_RACE,
          giveUp: (error) =>
            error === LOST_RACE
              ? new CatalogError(`local catalog ${this.storage.uri}${this.key} kept changing under this run (50 attempts); re-run`, 'io')
              : error,
        },
      );
    });
  }

  private async load(): Promise<CatalogDocument> {
    return (await this.loadVersioned()).doc;
  }

  private async loadVersioned(): Promise<{ doc: CatalogDocument; version: string | undefined }> {
    let found;
    try {
      found = await readVersionedRecord<unknown>(this.storage, this.key, (error) =>
        this.corrupt(`it is not valid JSON (${errorMessage(error)})`, error),
      );
    } catch (error) {
      if (error instanceof CatalogError) throw error;
      throw new CatalogError(`cannot read local catalog ${this.storage.uri}${this.key}: ${errorMessage(error)}`, 'io', undefined, {
        cause: error,
      });
    }
    if (!found) return { doc: { format: 1, partitions: {} }, version: undefined };
    const doc = found.record;
    if (
      typeof doc !== 'object' ||
      doc === null ||
      (doc as CatalogDocument).format !== 1 ||
      typeof (doc as CatalogDocument).partitions !== 'object'
    ) {
      throw this.corrupt('it is not an s3logs catalog document (format 1)');
    }
    return { doc: doc as CatalogDocument, version: found.version };
  }

  private corrupt(why: string, cause?: unknown): CatalogError {
    return new CatalogError(
      `local catalog ${this.storage.uri}${this.key} is corrupt: ${why}. Restore it from a backup, or delete it and ` +
        `re-run the key dates you need so their partitions are registered again.`,
      'io',
      undefined,
      { cause },
    );
  }

  /** False when another writer changed the document since `version` was read. */
  private async save(doc: CatalogDocument, version: string | undefined): Promise<boolean> {
    const body = new TextEncoder().encode(JSON.stringify(doc, null, 1) + '\n');
    try {
      const written =
        version === undefined ? await this.storage.putIfAbsent(this.key, body) : await this.storage.putIfMatch(this.key, body, version);
      if (written) return true;
      // A lost answer: the write happened if the document now is exactly ours.
      const now = await this.storage.getVersioned(this.key);
      return now !== undefined && Buffer.from(now.body).equals(Buffer.from(body));
    } catch (error) {
      throw new CatalogError(`cannot write local catalog ${this.storage.uri}${this.key}: ${errorMessage(error)}`, 'io', undefined, {
        cause: error,
      });
    }
  }
}

function sameContribution(a: Contribution | undefined, b: Contribution): boolean {
  return a !== undefined && a.rows === b.rows && a.files.length === b.files.length && a.files.every((f, i) => f === b.files[i]);
}

function sorted(doc: CatalogDocument): StoredPartition[] {
  return Object.values(doc.partitions).sort((a, b) => compareKeys(a.bucket, b.bucket) || compareKeys(a.dt, b.dt));
}
