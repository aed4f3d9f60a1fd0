/**
 * A Glue stand-in on 127.0.0.1 speaking the AWS JSON 1.1 protocol (`X-Amz-Target: AWSGlue.<Op>`), so
 * GlueCatalog runs the real @aws-sdk/client-glue serializers, retry strategy and error parsing.
 * It follows Glue's documented limits and quirks: per-partition failures come back inside `Errors`
 * with HTTP 200, batch sizes are capped (create/update 100, delete 25, get 1000), GetPartitions pages
 * with NextToken, and UpdateTable with a stale VersionId fails with ConcurrentModificationException.
 * Signatures are ignored.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// biome-ignore lint/suspicious/noExplicitAny: Glue's JSON bodies are read field by field, as the real service's are
type Json = Record<string, any>;

export interface StoredTable {
  input: Json;
  versionId: number;
  createTime: number;
}

export interface GlueState {
  databases: Map<string, Json>;
  /** Key `db.table`. */
  tables: Map<string, StoredTable>;
  /** Key `db.table` → (values joined by \u0001 → PartitionInput plus CreationTime). */
  partitions: Map<string, Map<string, Json>>;
}

export interface GlueStandIn {
  readonly endpoint: string;
  readonly calls: Record<string, number>;
  readonly state: GlueState;
  /** Answers the next `n` requests (of `operation`, or any) with `type` (default ThrottlingException). */
  throttleNext(n: number, type?: string, operation?: string): void;
  /** Answers every `operation` call with AccessDeniedException, like an IAM policy that lacks it. */
  deny(operation: string): void;
  /** Runs `fn` against the state just before the next `operation` is handled (simulates another writer). */
  onNext(operation: string, fn: (state: GlueState) => void): void;
  /** Sum of calls to the given operations. */
  count(...operations: string[]): number;
  close(): Promise<void>;
}

/** Operations that change the catalog (for "a re-run makes no write calls"). */
export const GLUE_WRITE_OPERATIONS = [
  'CreateDatabase',
  'CreateTable',
  'UpdateTable',
  'BatchCreatePartition',
  'BatchUpdatePartition',
  'BatchDeletePartition',
] as const;

class GlueFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const key = (values: readonly string[]): string => values.join('\u0001');
const now = (): number => Math.floor(Date.now() / 1000);

export async function startGlueStandIn(options: { pageSize?: number } = {}): Promise<GlueStandIn> {
  const pageSize = options.pageSize ?? 3;
  const calls: Record<string, number> = {};
  const state: GlueState = { databases: new Map(), tables: new Map(), partitions: new Map() };
  const faults: Array<{ type: string; operation?: string }> = [];
  const denied = new Set<string>();
  const hooks = new Map<string, (state: GlueState) => void>();

  const table = (body: Json, nameField = 'TableName'): { id: string; stored: StoredTable } => {
    const db = String(body.DatabaseName);
    if (!state.databases.has(db)) throw new GlueFault('EntityNotFoundException', `Database ${db} not found.`);
    const id = `${db}.${String(body[nameField])}`;
    const stored = state.tables.get(id);
    if (!stored) throw new GlueFault('EntityNotFoundException', `Table ${String(body[nameField])} not found.`);
    return { id, stored };
  };
  const parts = (id: string): Map<string, Json> => {
    let map = state.partitions.get(id);
    if (!map) state.partitions.set(id, (map = new Map()));
    return map;
  };
  const limit = (list: unknown[] | undefined, max: number, field: string): unknown[] => {
    const items = list ?? [];
    if (items.length > max) {
      throw new GlueFault(
        'ValidationException',
        `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
      );
    }
    return items;
  };
  const tableOut = (id: string, stored: StoredTable): Json => ({
    ...stored.input,
    DatabaseName: id.slice(0, id.indexOf('.')),
    CreateTime: stored.createTime,
    UpdateTime: now(),
    VersionId: String(stored.versionId),
    IsRegisteredWithLakeFormation: false,
  });
  const partitionOut = (id: string, p: Json): Json => ({
    ...p,
    DatabaseName: id.slice(0, id.indexOf('.')),
    TableName: id.slice(id.indexOf('.') + 1),
  });

  const handlers: Record<string, (body: Json) => Json> = {
    CreateDatabase(body) {
      const name = String(body.DatabaseInput?.Name);
      if (state.databases.has(name)) throw new GlueFault('AlreadyExistsException', `Database already exists.`);
      state.databases.set(name, { ...body.DatabaseInput, CreateTime: now() });
      return {};
    },
    GetDatabase(body) {
      const db = state.databases.get(String(body.Name));
      if (!db) throw new GlueFault('EntityNotFoundException', `Database ${String(body.Name)} not found.`);
      return { Database: db };
    },
    CreateTable(body) {
      const db = String(body.DatabaseName);
      if (!state.databases.has(db)) throw new GlueFault('EntityNotFoundException', `Database ${db} not found.`);
      const id = `${db}.${String(body.TableInput?.Name)}`;
      if (state.tables.has(id)) throw new GlueFault('AlreadyExistsException', `Table already exists.`);
      state.tables.set(id, { input: body.TableInput, versionId: 1, createTime: now() });
      return {};
    },
    GetTable(body) {
      const { id, stored } = table(body, 'Name');
      return { Table: tableOut(id, stored) };
    },
    UpdateTable(body) {
      const { stored } = table({ ...body, TableName: body.TableInput?.Name ?? body.Name });
      if (body.VersionId !== undefined && body.VersionId !== String(stored.versionId)) {
        throw new GlueFault('ConcurrentModificationException', 'Update table failed due to concurrent modifications.');
      }
      stored.input = body.TableInput;
      stored.versionId += 1;
      return {};
    },
    BatchCreatePartition(body) {
      const { id } = table(body);
      const map = parts(id);
      const Errors: Json[] = [];
      for (const p of limit(body.PartitionInputList, 100, 'partitionInputList') as Json[]) {
        const k = key(p.Values);
        if (map.has(k)) {
          Errors.push({
            PartitionValues: p.Values,
            ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
          });
        } else {
          map.set(k, { ...p, CreationTime: now() });
        }
      }
      return { Errors };
    },
    BatchUpdatePartition(body) {
      const { id } = table(body);
      const map = parts(id);
      const Errors: Json[] = [];
      for (const e of limit(body.Entries, 100, 'entries') as Json[]) {
        const existing = map.get(key(e.PartitionValueList));
        if (!existing) {
          Errors.push({
            PartitionValueList: e.PartitionValueList,
            ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Partition not found.' },
          });
          continue;
        }
        map.delete(key(e.PartitionValueList));
        map.set(key(e.PartitionInput.Values), { ...e.PartitionInput, CreationTime: existing.CreationTime });
      }
      return { Errors };
    },
    BatchGetPartition(body) {
      const { id } = table(body);
      const map = parts(id);
      const found: Json[] = [];
      for (const v of limit(body.PartitionsToGet, 1000, 'partitionsToGet') as Json[]) {
        const p = map.get(key(v.Values));
        if (p) found.push(partitionOut(id, p));
      }
      return { Partitions: found, UnprocessedKeys: [] };
    },
    BatchDeletePartition(body) {
      const { id } = table(body);
      const map = parts(id);
      const Errors: Json[] = [];
      for (const v of limit(body.PartitionsToDelete, 25, 'partitionsToDelete') as Json[]) {
        if (!map.delete(key(v.Values))) {
          Errors.push({
            PartitionValues: v.Values,
            ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Partition not found.' },
          });
        }
      }
      return { Errors };
    },
    GetPartitions(body) {
      const { id } = table(body);
      const all = [...parts(id).values()];
      const start = body.NextToken ? Number(Buffer.from(String(body.NextToken), 'base64').toString()) : 0;
      const size = Math.min(pageSize, body.MaxResults ?? pageSize);
      const end = start + size;
      const page = all.slice(start, end).map((p) => partitionOut(id, p));
      return end < all.length ? { Partitions: page, NextToken: Buffer.from(String(end)).toString('base64') } : { Partitions: page };
    },
    GetPartition(body) {
      const { id } = table(body);
      const p = parts(id).get(key(body.PartitionValues));
      if (!p) throw new GlueFault('EntityNotFoundException', 'Cannot find partition.');
      return { Partition: partitionOut(id, p) };
    },
  };

  const reply = (res: ServerResponse, status: number, body: Json, errorType?: string): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `standin-${Date.now()}` };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers).end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '');
    calls[operation] = (calls[operation] ?? 0) + 1;
    try {
      const handler = handlers[operation];
      if (!handler) throw new GlueFault('UnknownOperationException', `The stand-in does not implement ${operation}.`);
      if (denied.has(operation)) {
        throw new GlueFault(
          'AccessDeniedException',
          `User: arn:aws:iam::123456789012:user/test is not authorized to perform: glue:${operation}`,
        );
      }
      const faultAt = faults.findIndex((f) => f.operation === undefined || f.operation === operation);
      if (faultAt >= 0) {
        const [fault] = faults.splice(faultAt, 1);
        throw new GlueFault(fault!.type, fault!.type === 'ThrottlingException' ? 'Rate exceeded' : `Injected ${fault!.type}`);
      }
      const hook = hooks.get(operation);
      hooks.delete(operation);
      hook?.(state);
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json) : {};
      reply(res, 200, handler(body));
    } catch (error) {
      const fault = error instanceof GlueFault ? error : new GlueFault('InternalServiceException', String(error));
      reply(res, fault.type === 'InternalServiceException' ? 500 : 400, { __type: fault.type, message: fault.message }, fault.type);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    state,
    throttleNext(n, type = 'ThrottlingException', operation) {
      for (let i = 0; i < n; i++) faults.push(operation === undefined ? { type } : { type, operation });
    },
    deny(operation) {
      denied.add(operation);
    },
    onNext(operation, fn) {
      hooks.set(operation, fn);
    },
    count(...operations) {
      return operations.reduce((sum, op) => sum + (calls[op] ?? 0), 0);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
