/**
 * AWS Glue Data Catalog over @aws-sdk/client-glue. Idempotent by reading before writing: a re-run
 * issues only Get and BatchGet calls. Glue reports per-partition failures inside `Errors` with HTTP 200,
 * so every batch answer is inspected. With `projection`, partitions are never registered: the table
 * carries Athena partition-projection parameters that widen as new buckets and older dates appear.
 */
import type * as GlueSdk from '@aws-sdk/client-glue';
import type { Column, Partition, PartitionInput, StorageDescriptor, Table, TableInput } from '@aws-sdk/client-glue';
import { SCHEMA_VERSION_KEY } from '../../schemas/accessLog.js';
import { baseClientConfig, type AwsOptions } from '../aws/config.js';
import { requireCjs } from '../cjs.js';
import { CatalogError } from '../errors.js';
import { GlueRetry, type RetryOptions } from './glueRetry.js';
import { checkPartitionKeys, projectionParameters, reconcileColumns, withSlash } from '../schema/ddl.js';
import { intersectRedact, parseRedactLabel, redactLabel } from '../stages/redact.js';
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

// By require, not import: src/cjs.ts says why.
const {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchGetPartitionCommand,
  BatchUpdatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
  UpdateTableCommand,
} = requireCjs('@aws-sdk/client-glue') as typeof GlueSdk;
type GlueClient = GlueSdk.GlueClient;

export interface GlueCatalogOptions {
  readonly database: string;
  readonly table: string;
  readonly aws: AwsOptions;
  /** Athena partition projection instead of registered partitions (Athena-only; see docs/catalog.md). */
  readonly projection?: boolean;
  /** Another account's catalog (cross-account Glue); defaults to the caller's. */
  readonly catalogId?: string;
  readonly client?: GlueClient;
  /** Static credentials (tests against a stand-in); otherwise the standard credential chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Our retry layer on top of the SDK's (which does not retry ConcurrentModificationException). */
  readonly retry?: RetryOptions;
}

const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
};

const toGlue = (c: CatalogColumn): Column =>
  c.comment ? { Name: c.name, Type: c.type, Comment: c.comment } : { Name: c.name, Type: c.type };
const fromGlue = (c: Column): CatalogColumn => ({ name: c.Name ?? '', type: c.Type ?? '', ...(c.Comment ? { comment: c.Comment } : {}) });
const valuesKey = (values: readonly string[] | undefined): string => (values ?? []).join('\u0001');

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What makes a partition readable: compared to decide whether BatchUpdatePartition is needed. */
function sdSignature(sd: StorageDescriptor | undefined): string {
  return JSON.stringify([
    sd?.Location,
    sd?.InputFormat,
    sd?.OutputFormat,
    sd?.SerdeInfo?.SerializationLibrary,
    (sd?.Columns ?? []).map((c) => `${c.Name}:${c.Type}`),
  ]);
}

/** TableInput for UpdateTable from a GetTable answer (Table carries read-only fields UpdateTable rejects). */
function tableInputOf(t: Table, changes: Partial<TableInput>): TableInput {
  const {
    Name,
    Description,
    Owner,
    Retention,
    StorageDescriptor,
    PartitionKeys,
    TableType,
    Parameters,
    ViewOriginalText,
    ViewExpandedText,
    TargetTable,
  } = t;
  const base: TableInput = {
    Name,
    Description,
    Owner,
    Retention,
    StorageDescriptor,
    PartitionKeys,
    TableType,
    Parameters,
    ViewOriginalText,
    ViewExpandedText,
    TargetTable,
  };
  for (const k of Object.keys(base) as (keyof TableInput)[]) if (base[k] === undefined) delete base[k];
  return { ...base, ...changes };
}

export class GlueCatalog implements Catalog {
  readonly kind = 'glue' as const;
  private readonly client: GlueClient;
  private readonly retry: GlueRetry;
  private readonly ids: { CatalogId?: string; DatabaseName: string };
  private readonly database: string;
  private readonly table: string;
  private descriptor: StorageDescriptor | undefined;

  constructor(private readonly options: GlueCatalogOptions) {
    this.database = options.database.toLowerCase();
    this.table = options.table.toLowerCase();
    this.ids = options.catalogId ? { CatalogId: options.catalogId, DatabaseName: this.database } : { DatabaseName: this.database };
    // Adaptive mode adds client-side rate limiting once Glue starts answering "Rate exceeded".
    this.client =
      options.client ??
      new GlueClient({
        ...baseClientConfig(options.aws),
        retryMode: 'adaptive',
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    this.retry = new GlueRetry(`${this.database}.${this.table}`, options.retry);
  }

  stats(): { retries: number; calls: number } {
    return this.retry.stats();
  }

  async ensureTable(def: TableDefinition): Promise<EnsureTableResult> {
    if (def.database !== this.database || def.table !== this.table) {
      throw new CatalogError(
        `table definition ${def.database}.${def.table} does not match the Glue catalog's ${this.database}.${this.table}; pass the same --database/--table to both`,
        'invalid',
      );
    }
    await this.ensureDatabase();
    const where = `Glue table ${this.database}.${this.table}`;
    return this.retry.conflicts(async () => {
      let existing = await this.getTable();
      if (!existing) {
        const input = this.newTableInput(def);
        const created = await this.retry.call(
          'CreateTable',
          () => this.client.send(new CreateTableCommand({ ...this.ids, TableInput: input })),
          { tolerate: 'AlreadyExistsException' },
        );
        if (created) {
          this.descriptor = input.StorageDescriptor;
          return { created: true, columnsAdded: [] };
        }
        existing = await this.requireTable(); // another writer created it first: reconcile with theirs
      }
      const sd = existing.StorageDescriptor ?? {};
      if (withSlash(sd.Location ?? '') !== withSlash(def.location)) {
        throw new CatalogError(
          `${where} points at ${sd.Location ?? '(no location)'}, not ${def.location}. Use a table name for this location, or point --dest at the table's location.`,
          'invalid',
        );
      }
      checkPartitionKeys((existing.PartitionKeys ?? []).map(fromGlue), def.partitionKeys, where);
      const merged = reconcileColumns((sd.Columns ?? []).map(fromGlue), def.columns, where);
      const params = { ...existing.Parameters };
      const version = Number(params[SCHEMA_VERSION_KEY] ?? 0);
      if (version < def.schemaVersion) params[SCHEMA_VERSION_KEY] = String(def.schemaVersion);
      // What holds for every registered row; a table from before redaction was recorded holds rows as logged.
      if (def.redact) params['s3logs.redact'] = redactLabel(intersectRedact(parseRedactLabel(params['s3logs.redact']), def.redact));
      if (this.options.projection && params['projection.enabled'] !== 'true') {
        // Athena ignores registered partitions once projection is on: the enum and the dt range start
        // from the partitions the table already has, or their rows would drop out of every query.
        const registered = await this.listPartitions();
        const first = registered.reduce<string | undefined>((min, p) => (min === undefined || p.dt < min ? p.dt : min), undefined);
        Object.assign(
          params,
          projectionParameters(
            def.location,
            registered.map((p) => p.bucket),
            first,
          ),
        );
      }
      const columns = merged.columns.map(toGlue);
      const descriptor = { ...sd, Columns: columns };
      if (merged.added.length > 0 || merged.widened.length > 0 || JSON.stringify(params) !== JSON.stringify({ ...existing.Parameters })) {
        await this.updateTable(existing, { StorageDescriptor: descriptor, Parameters: params });
      }
      this.descriptor = descriptor;
      return { created: false, columnsAdded: merged.added };
    });
  }

  async registerPartitions(keyDate: string, partitions: readonly PartitionContribution[]): Promise<RegisterResult> {
    const names = new Set<string>();
    for (const p of partitions) {
      const name = partitionName(p);
      if (names.has(name))
        throw new CatalogError(`key date ${keyDate} lists partition ${name} twice; merge its files into one entry`, 'invalid', name);
      names.add(name);
    }
    if (partitions.length === 0) return { created: 0, updated: 0, unchanged: 0 };
    if (this.options.projection) return this.widenProjection(partitions);

    const sd = this.descriptor ?? (await this.requireTable()).StorageDescriptor ?? {};
    const inputs = partitions.map(
      (p): PartitionInput => ({ Values: [p.bucket, p.dt], StorageDescriptor: { ...sd, Location: p.location } }),
    );
    const existing = await this.batchGet(inputs.map((i) => i.Values!));
    const toCreate = inputs.filter((i) => !existing.has(valuesKey(i.Values)));
    const raced: PartitionInput[] = [];
    for (const batch of chunks(toCreate, 100)) {
      const out = await this.retry.call('BatchCreatePartition', () =>
        this.client.send(new BatchCreatePartitionCommand({ ...this.ids, TableName: this.table, PartitionInputList: batch })),
      );
      for (const e of out?.Errors ?? []) {
        const input = batch.find((i) => valuesKey(i.Values) === valuesKey(e.PartitionValues));
        if (e.ErrorDetail?.ErrorCode === 'AlreadyExistsException' && input) raced.push(input);
        else this.partitionFailure('BatchCreatePartition', e.PartitionValues, e.ErrorDetail);
      }
    }
    // Partitions another writer created between our read and our create: compare them like the rest.
    if (raced.length > 0) for (const [k, p] of await this.batchGet(raced.map((i) => i.Values!))) existing.set(k, p);
    const candidates = inputs.filter((i) => existing.has(valuesKey(i.Values)));
    const toUpdate = candidates.filter(
      (i) => sdSignature(existing.get(valuesKey(i.Values))?.StorageDescriptor) !== sdSignature(i.StorageDescriptor),
    );
    for (const batch of chunks(toUpdate, 100)) {
      const out = await this.retry.call('BatchUpdatePartition', () =>
        this.client.send(
          new BatchUpdatePartitionCommand({
            ...this.ids,
            TableName: this.table,
            Entries: batch.map((i) => ({ PartitionValueList: i.Values, PartitionInput: i })),
          }),
        ),
      );
      for (const e of out?.Errors ?? []) this.partitionFailure('BatchUpdatePartition', e.PartitionValueList, e.ErrorDetail);
    }
    return { created: toCreate.length - raced.length, updated: toUpdate.length, unchanged: candidates.length - toUpdate.length };
  }

  async deletePartitions(partitions: readonly PartitionValues[]): Promise<number> {
    if (this.options.projection || partitions.length === 0) return 0; // nothing is registered per partition
    let deleted = 0;
    for (const batch of chunks(partitions, 25)) {
      const out = await this.retry.call('BatchDeletePartition', () =>
        this.client.send(
          new BatchDeletePartitionCommand({
            ...this.ids,
            TableName: this.table,
            PartitionsToDelete: batch.map((p) => ({ Values: [p.bucket, p.dt] })),
          }),
        ),
      );
      const errors = out?.Errors ?? [];
      for (const e of errors)
        if (e.ErrorDetail?.ErrorCode !== 'EntityNotFoundException')
          this.partitionFailure('BatchDeletePartition', e.PartitionValues, e.ErrorDetail);
      deleted += batch.length - errors.length;
    }
    return deleted;
  }

  async listPartitions(): Promise<PartitionEntry[]> {
    const out: PartitionEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.retry.call('GetPartitions', () =>
        this.client.send(new GetPartitionsCommand({ ...this.ids, TableName: this.table, NextToken: token, ExcludeColumnSchema: true })),
      );
      for (const p of page?.Partitions ?? [])
        out.push({ bucket: p.Values?.[0] ?? '', dt: p.Values?.[1] ?? '', location: p.StorageDescriptor?.Location ?? '' });
      token = page?.NextToken;
    } while (token);
    return out;
  }

  /** Projection mode: one GetTable, and one UpdateTable only when a bucket is new or dt starts earlier. */
  private widenProjection(partitions: readonly PartitionContribution[]): Promise<RegisterResult> {
    return this.retry.conflicts(async () => {
      const table = await this.requireTable();
      const params = table.Parameters ?? {};
      const known = new Set(
        params['projection.bucket.type'] === 'enum' ? (params['projection.bucket.values'] ?? '').split(',').filter(Boolean) : [],
      );
      const start = (params['projection.dt.range'] ?? '').split(',')[0] ?? '';
      const fixedStart = /^\d{4}-\d{2}-\d{2}$/.test(start) ? start : undefined; // NOW-1YEARS etc. is the creation placeholder
      const fresh = partitions.filter((p) => !known.has(p.bucket) || !fixedStart || p.dt < fixedStart);
      if (fresh.length === 0 && params['projection.enabled'] === 'true') return { created: 0, updated: 0, unchanged: partitions.length };
      // biome-ignore lint/complexity/useMathMinMax: dates compared as strings (Math.min would make NaN)
      const earliest = partitions.reduce((min, p) => (p.dt < min ? p.dt : min), fixedStart ?? '9999-12-31');
      const location = table.StorageDescriptor?.Location ?? '';
      const next = { ...params, ...projectionParameters(location, [...known, ...partitions.map((p) => p.bucket)], earliest) };
      await this.updateTable(table, { Parameters: next });
      return { created: fresh.length, updated: 0, unchanged: partitions.length - fresh.length };
    });
  }

  private newTableInput(def: TableDefinition): TableInput {
    return {
      Name: this.table,
      TableType: 'EXTERNAL_TABLE',
      Description: 'Amazon S3 server access logs converted by s3logs',
      Parameters: {
        classification: 'parquet',
        EXTERNAL: 'TRUE',
        [SCHEMA_VERSION_KEY]: String(def.schemaVersion),
        ...(def.redact ? { 's3logs.redact': redactLabel(def.redact) } : {}),
        // Placeholder range and injected bucket until the first registration records real values.
        ...(this.options.projection ? projectionParameters(def.location, undefined) : {}),
      },
      PartitionKeys: def.partitionKeys.map(toGlue),
      StorageDescriptor: {
        ...PARQUET,
        Columns: def.columns.map(toGlue),
        Location: def.location,
        Compressed: false,
        NumberOfBuckets: -1,
        BucketColumns: [],
        SortColumns: [],
        StoredAsSubDirectories: false,
        Parameters: {},
      },
    };
  }

  /** The database and table can be read (missing ones are created later): credentials, region, permissions. */
  async probe(): Promise<void> {
    const database = await this.retry.call(
      'GetDatabase',
      () => this.client.send(new GetDatabaseCommand({ CatalogId: this.ids.CatalogId, Name: this.database })),
      { tolerate: 'EntityNotFoundException' },
    );
    if (database) await this.getTable();
  }

  private async ensureDatabase(): Promise<void> {
    const found = await this.retry.call(
      'GetDatabase',
      () => this.client.send(new GetDatabaseCommand({ CatalogId: this.ids.CatalogId, Name: this.database })),
      { tolerate: 'EntityNotFoundException' },
    );
    if (found) return;
    await this.retry.call(
      'CreateDatabase',
      () =>
        this.client.send(
          new CreateDatabaseCommand({
            CatalogId: this.ids.CatalogId,
            DatabaseInput: { Name: this.database, Description: 'Amazon S3 server access logs (s3logs)' },
          }),
        ),
      { tolerate: 'AlreadyExistsException' },
    );
  }

  private async getTable(): Promise<Table | undefined> {
    const out = await this.retry.call('GetTable', () => this.client.send(new GetTableCommand({ ...this.ids, Name: this.table })), {
      tolerate: 'EntityNotFoundException',
    });
    return out?.Table;
  }

  private async requireTable(): Promise<Table> {
    const table = await this.getTable();
    if (!table)
      throw new CatalogError(
        `Glue table ${this.database}.${this.table} does not exist; run ensureTable first (the CLI does) or check --database/--table.`,
        'not_found',
      );
    return table;
  }

  /** Optimistic: VersionId makes Glue refuse the update if someone changed the table since our GetTable. */
  private async updateTable(table: Table, changes: Partial<TableInput>): Promise<void> {
    await this.retry.call(
      'UpdateTable',
      () => this.client.send(new UpdateTableCommand({ ...this.ids, TableInput: tableInputOf(table, changes), VersionId: table.VersionId })),
      { conflictsAreFinal: true },
    );
  }

  private async batchGet(values: readonly string[][]): Promise<Map<string, Partition>> {
    const found = new Map<string, Partition>();
    let pending = values.map((v) => ({ Values: v }));
    while (pending.length > 0) {
      const unprocessed: { Values: string[] }[] = [];
      for (const batch of chunks(pending, 1000)) {
        const out = await this.retry.call('BatchGetPartition', () =>
          this.client.send(new BatchGetPartitionCommand({ ...this.ids, TableName: this.table, PartitionsToGet: batch })),
        );
        for (const p of out?.Partitions ?? []) found.set(valuesKey(p.Values), p);
        for (const k of out?.UnprocessedKeys ?? []) if (k.Values) unprocessed.push({ Values: k.Values });
      }
      if (unprocessed.length === pending.length) await this.retry.pause(1); // Glue made no progress: back off before asking again
      pending = unprocessed;
    }
    return found;
  }

  private partitionFailure(
    operation: string,
    values: string[] | undefined,
    detail: { ErrorCode?: string | undefined; ErrorMessage?: string | undefined } | undefined,
  ): never {
    const name = partitionName({ bucket: values?.[0] ?? '?', dt: values?.[1] ?? '?' });
    const code = detail?.ErrorCode ?? 'UnknownError';
    throw new CatalogError(
      `glue:${operation} failed for partition ${name} of ${this.database}.${this.table}: ${code}: ${detail?.ErrorMessage ?? ''}. ` +
        `Fix the cause and re-run the key date; registration is idempotent.`,
      code === 'AccessDeniedException'
        ? 'access_denied'
        : code === 'EntityNotFoundException'
          ? 'not_found'
          : code.includes('Throttl')
            ? 'throttled'
            : 'invalid',
      name,
    );
  }
}
