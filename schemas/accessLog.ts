/**
 * THE table declaration for S3 server access logs: one entry per column, in output order.
 *
 * Everything else derives from this list: the Arrow schema (src/schema/arrow.ts), the parser's per-slot
 * syntax (the slot table in src/stages/parse.ts), the column builders (src/stages/build.ts), the writer's
 * statistics and dictionary settings (src/stages/write.ts), the Glue columns and Athena/DuckDB DDL
 * (src/schema/ddl.ts) and the README table (scripts/schemaDocs.ts). Column names are AWS's documented Athena names, so queries users already
 * have keep working; types are real types instead of AWS's all-strings.
 */

/** Storage kind of a column; each maps to one Arrow type and one Glue/Athena type. */
export type ColumnKind = 'string' | 'timestamp' | 'int32' | 'int64' | 'bool';

/** How the parser fills a column from a log field (only for `source: 'field'` columns). */
export type FieldSyntax =
  | 'token' // one space-delimited token, `-` is null
  | 'quoted' // `"…"` (quotes stripped, inner quotes kept) or bare `-`; `"-"` and `-` are null
  | 'time' // `[dd/Mon/yyyy:HH:mm:ss ±hhmm]` → epoch milliseconds UTC
  | 'integer' // digits or `-` (null)
  | 'acl'; // `Yes` → true, `-` → false, absent (older record) → null

/**
 * A `token` field whose value may hold a space, so where it ends takes a rule (FORMAT.md §2):
 * `cloudfront-oai`: the CloudFront Origin Access Identity requester (`arn:…:user/CloudFront Origin Access
 * Identity E2…`); `two-tokens`: a Host Id logged as two tokens, joined only when that is what puts a
 * valid value into the next `sigv`-shaped field.
 */
export type FieldSpaces = 'cloudfront-oai' | 'two-tokens';

/**
 * The values a `token` field takes, checked only to choose between tokenisations when a quoted field
 * holds raw quotes (a value of another shape still loads when the line has no other reading).
 */
export type FieldShape = 'sigv' | 'authtype' | 'tls';

export interface ColumnSpec {
  /** Column name in Parquet, Glue and DuckDB (lower case, AWS's Athena name for log fields). */
  readonly name: string;
  readonly kind: ColumnKind;
  /** Where the value comes from: a log field by 1-based position, or derived from other fields. */
  readonly source: 'field' | 'derived';
  /** 1-based position in the log record (FORMAT.md §2) for `source: 'field'`. */
  readonly position?: number;
  readonly syntax?: FieldSyntax;
  readonly spaces?: FieldSpaces;
  readonly shape?: FieldShape;
  /** AWS's name for the field in the LogFormat documentation. */
  readonly awsName?: string;
  /** One line for docs, DDL comments and the Glue column comment. */
  readonly description: string;
  /**
   * Queries filter on it (the report's queries in src/report/, the README's examples): it gets page-level
   * statistics, so engines skip pages, not only row groups. Other string columns get none (writing
   * statistics for request_uri, useragent, hostid … cost 8% of encode time in issue #14's study); integer,
   * timestamp and boolean columns always keep chunk statistics, which cost nothing.
   */
  readonly filtered?: boolean;
  /**
   * Values are random and never repeat (S3's request and host ids): written without a dictionary. The
   * writer would fill a dictionary page before giving up on it; plain encoding measured 2.5% smaller
   * files and 16% less encode time on a 512 MiB day (docs/benchmark.md).
   */
  readonly unique?: boolean;
}

/** Bump when the column list or a column's meaning changes; recorded in manifests and file metadata. */
export const SCHEMA_VERSION = 1;

/** The key SCHEMA_VERSION is recorded under: Parquet and Arrow metadata, Glue and Athena table properties. */
export const SCHEMA_VERSION_KEY = 's3logs.schema_version';

/** Number of fields AWS documents today (the 27th, sourceregion, was added in January 2026). */
export const KNOWN_FIELD_COUNT = 27;

/** Records shorter than this are rejected (the oldest records seen end at User-Agent, field 17). */
export const MIN_FIELD_COUNT = 17;

export const ACCESS_LOG_COLUMNS = [
  {
    name: 'bucketowner',
    kind: 'string',
    source: 'field',
    position: 1,
    syntax: 'token',
    awsName: 'Bucket Owner',
    description: 'Canonical user ID of the owner of the source bucket.',
  },
  {
    name: 'bucket_name',
    kind: 'string',
    source: 'field',
    position: 2,
    syntax: 'token',
    awsName: 'Bucket',
    description: 'Name of the bucket that the request was processed against.',
  },
  {
    name: 'requestdatetime',
    kind: 'timestamp',
    source: 'field',
    position: 3,
    syntax: 'time',
    awsName: 'Time',
    description: 'Time the request was received, UTC, millisecond timestamp (second resolution in the log).',
    filtered: true,
  },
  {
    name: 'remoteip',
    kind: 'string',
    source: 'field',
    position: 4,
    syntax: 'token',
    awsName: 'Remote IP',
    description: 'Apparent IP address of the requester (IPv4 or IPv6 text); null for AWS-internal callers.',
    filtered: true,
  },
  {
    name: 'requester',
    kind: 'string',
    source: 'field',
    position: 5,
    syntax: 'token',
    spaces: 'cloudfront-oai',
    awsName: 'Requester',
    description: 'Canonical user ID or IAM ARN of the requester; null for unauthenticated requests.',
    filtered: true,
  },
  {
    name: 'requestid',
    kind: 'string',
    source: 'field',
    position: 6,
    syntax: 'token',
    awsName: 'Request ID',
    description: 'Request ID generated by S3 (not unique per row: a copy logs two records with one ID).',
    unique: true,
  },
  {
    name: 'operation',
    kind: 'string',
    source: 'field',
    position: 7,
    syntax: 'token',
    awsName: 'Operation',
    description: 'Operation, e.g. REST.GET.OBJECT, BATCH.DELETE.OBJECT, S3.EXPIRE.OBJECT.',
    filtered: true,
  },
  {
    name: 'key',
    kind: 'string',
    source: 'field',
    position: 8,
    syntax: 'token',
    awsName: 'Key',
    description: 'Object key exactly as logged (URL-encoded by S3); see key_decoded.',
    filtered: true,
  },
  {
    name: 'request_uri',
    kind: 'string',
    source: 'field',
    position: 9,
    syntax: 'quoted',
    awsName: 'Request-URI',
    description: 'HTTP request line without its surrounding quotes, e.g. GET /bucket/key HTTP/1.1.',
  },
  {
    name: 'httpstatus',
    kind: 'int32',
    source: 'field',
    position: 10,
    syntax: 'integer',
    awsName: 'HTTP status',
    description: 'HTTP status code of the response.',
    filtered: true,
  },
  {
    name: 'errorcode',
    kind: 'string',
    source: 'field',
    position: 11,
    syntax: 'token',
    awsName: 'Error Code',
    description: 'S3 error code, e.g. AccessDenied, NoSuchKey; null when there was no error.',
    filtered: true,
  },
  {
    name: 'bytessent',
    kind: 'int64',
    source: 'field',
    position: 12,
    syntax: 'integer',
    awsName: 'Bytes Sent',
    description: 'Response bytes sent, excluding HTTP protocol overhead; null when zero.',
  },
  {
    name: 'objectsize',
    kind: 'int64',
    source: 'field',
    position: 13,
    syntax: 'integer',
    awsName: 'Object Size',
    description: 'Total size of the object in bytes.',
  },
  {
    name: 'totaltime',
    kind: 'int32',
    source: 'field',
    position: 14,
    syntax: 'integer',
    awsName: 'Total Time',
    description: "Milliseconds the request was in flight from the server's perspective.",
  },
  {
    name: 'turnaroundtime',
    kind: 'int32',
    source: 'field',
    position: 15,
    syntax: 'integer',
    awsName: 'Turn-Around Time',
    description: 'Milliseconds S3 spent processing the request (last request byte to first response byte).',
  },
  {
    name: 'referrer',
    kind: 'string',
    source: 'field',
    position: 16,
    syntax: 'quoted',
    awsName: 'Referer',
    description: 'HTTP Referer header, without surrounding quotes.',
  },
  {
    name: 'useragent',
    kind: 'string',
    source: 'field',
    position: 17,
    syntax: 'quoted',
    awsName: 'User-Agent',
    description: 'HTTP User-Agent header, without surrounding quotes.',
  },
  {
    name: 'versionid',
    kind: 'string',
    source: 'field',
    position: 18,
    syntax: 'token',
    awsName: 'Version Id',
    description: 'Version ID in the request.',
  },
  {
    name: 'hostid',
    kind: 'string',
    source: 'field',
    position: 19,
    syntax: 'token',
    spaces: 'two-tokens',
    awsName: 'Host Id',
    description: 'x-amz-id-2 (S3 extended request ID).',
    unique: true,
  },
  {
    name: 'sigv',
    kind: 'string',
    source: 'field',
    position: 20,
    syntax: 'token',
    shape: 'sigv',
    awsName: 'Signature Version',
    description: 'SigV2 or SigV4; null for unauthenticated requests.',
    filtered: true,
  },
  {
    name: 'ciphersuite',
    kind: 'string',
    source: 'field',
    position: 21,
    syntax: 'token',
    awsName: 'Cipher Suite',
    description: 'TLS cipher suite; null for plain HTTP.',
    filtered: true,
  },
  {
    name: 'authtype',
    kind: 'string',
    source: 'field',
    position: 22,
    syntax: 'token',
    shape: 'authtype',
    awsName: 'Authentication Type',
    description: 'AuthHeader or QueryString (presigned URL); null for unauthenticated requests.',
  },
  {
    name: 'endpoint',
    kind: 'string',
    source: 'field',
    position: 23,
    syntax: 'token',
    awsName: 'Host Header',
    description: 'Endpoint (Host header) used to connect to S3.',
  },
  {
    name: 'tlsversion',
    kind: 'string',
    source: 'field',
    position: 24,
    syntax: 'token',
    shape: 'tls',
    awsName: 'TLS version',
    description: 'TLS version as logged (TLSv1.2, TLSv1.3, …); null for plain HTTP.',
    filtered: true,
  },
  {
    name: 'accesspointarn',
    kind: 'string',
    source: 'field',
    position: 25,
    syntax: 'token',
    awsName: 'Access Point ARN',
    description: 'ARN of the access point of the request; null when none.',
  },
  {
    name: 'aclrequired',
    kind: 'bool',
    source: 'field',
    position: 26,
    syntax: 'acl',
    awsName: 'aclRequired',
    description: 'True when the request needed an ACL for authorization; null for records older than the field.',
  },
  {
    name: 'sourceregion',
    kind: 'string',
    source: 'field',
    position: 27,
    syntax: 'token',
    awsName: 'Source region',
    description: 'AWS Region the request came from; null when unknown or older than the field.',
  },
  {
    name: 'request_method',
    kind: 'string',
    source: 'derived',
    description: 'HTTP method from request_uri (GET, PUT, HEAD, …).',
    filtered: true,
  },
  {
    name: 'request_path',
    kind: 'string',
    source: 'derived',
    description: 'Request target from request_uri up to the first ?, as sent (percent-encoded).',
  },
  {
    name: 'request_query',
    kind: 'string',
    source: 'derived',
    description: 'Query string from request_uri after the first ?, as sent; null when none.',
  },
  { name: 'request_protocol', kind: 'string', source: 'derived', description: 'HTTP protocol from request_uri, e.g. HTTP/1.1.' },
  {
    name: 'key_decoded',
    kind: 'string',
    source: 'derived',
    description:
      'Object key URL-decoded the way S3 encoded it for the operation (twice for REST/WEBSITE/SOAP, once with + as space for BATCH/S3 lifecycle).',
  },
  {
    name: 'field_count',
    kind: 'int32',
    source: 'derived',
    description: 'Number of fields in the log record (17 to 27 today; more when AWS appends fields).',
  },
  {
    name: 'extra_fields',
    kind: 'string',
    source: 'derived',
    description: 'Raw text of fields after the 27th that this schema does not know yet; null when none.',
  },
] as const satisfies readonly ColumnSpec[];

export type ColumnName = (typeof ACCESS_LOG_COLUMNS)[number]['name'];

/** Partition keys, in path order: `<dest>/bucket=<bucket_name>/dt=<YYYY-MM-DD>/`. Not stored in the files. */
export const PARTITION_KEYS = [
  { name: 'bucket', description: 'Source bucket (bucket_name of the rows).' },
  { name: 'dt', description: 'UTC date of requestdatetime, YYYY-MM-DD.' },
] as const;
