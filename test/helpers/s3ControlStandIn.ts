/**
 * An S3 stand-in on 127.0.0.1 for the control plane s3rver lacks, so `setup` and `doctor` run the real
 * @aws-sdk/client-s3 serializers and error parsing. Path-style only; signatures are ignored. It follows
 * the S3 REST API reference: `?logging`, `?policy` (JSON body, NoSuchBucketPolicy), `?lifecycle`
 * (NoSuchLifecycleConfiguration; Content-MD5 or a checksum required), `?location` (empty for us-east-1),
 * `?tagging` on objects (at most 10 tags), plus object PUT/GET/HEAD/DELETE, DeleteObjects and ListObjectsV2.
 * Configurations are stored as the XML/JSON the SDK sent and returned as is, after S3's own checks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  tags: Array<[string, string]>;
}

export interface BucketState {
  region: string;
  policy?: string | undefined;
  logging?: string | undefined;
  lifecycle?: string | undefined;
  objects: Map<string, StoredObject>;
}

export interface S3ControlStandIn {
  readonly endpoint: string;
  readonly buckets: Map<string, BucketState>;
  /** Operation → number of calls, e.g. `PutBucketPolicy`. */
  readonly calls: Record<string, number>;
  /** Answers `operation` (on `bucket`, or any) with 403 AccessDenied, like an IAM policy that lacks it. */
  deny(operation: string, bucket?: string): void;
  addBucket(name: string, region?: string): void;
  /** From now on PutObject overwrites on If-None-Match: *, as s3rver and some S3-compatible stores do. */
  ignoreConditionalWrites(): void;
  /** From now on PutObject with If-None-Match answers 501 NotImplemented, as stores without the feature may. */
  rejectConditionalWrites(): void;
  /** Sum of calls to operations whose name starts with Put or Delete. */
  writes(): number;
  close(): Promise<void>;
}

class S3Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const unesc = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
/** Every text of `<tag>…</tag>` in order (the documents here are flat enough for this). */
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
const one = (xml: string, tag: string): string | undefined => all(xml, tag)[0];

/** Body of a PUT sent with `aws-chunked` content encoding (streaming checksum trailers). */
function decodeChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, eol).toString().split(';')[0] ?? '0', 16);
    if (!size) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function tagsOf(xml: string): Array<[string, string]> {
  const tags = all(xml, 'Tag').map((t): [string, string] => [unesc(one(t, 'Key') ?? ''), unesc(one(t, 'Value') ?? '')]);
  if (tags.length > 10) throw new S3Fault(400, 'BadRequest', 'Object tags cannot be greater than 10');
  if (new Set(tags.map((t) => t[0])).size !== tags.length)
    throw new S3Fault(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key');
  return tags;
}

function checkLifecycle(xml: string): void {
  const rules = all(xml, 'Rule');
  const ids = rules.map((r) => one(r, 'ID')).filter((id) => id !== undefined);
  if (new Set(ids).size !== ids.length)
    throw new S3Fault(400, 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
  for (const rule of rules) {
    if (!rule.includes('<Filter') && !rule.includes('<Prefix'))
      throw new S3Fault(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    for (const t of all(rule, 'Transition')) {
      const days = Number(one(t, 'Days'));
      const cls = one(t, 'StorageClass') ?? '';
      if ((cls === 'STANDARD_IA' || cls === 'ONEZONE_IA') && days < 30) {
        throw new S3Fault(
          400,
          'InvalidArgument',
          `'Days' in Transition action must be greater than or equal to 30 for storageClass '${cls}'`,
        );
      }
    }
    const expire = one(rule, 'Expiration');
    if (expire !== undefined && one(expire, 'Days') !== undefined && Number(one(expire, 'Days')) < 1) {
      throw new S3Fault(400, 'InvalidArgument', "'Days' for Expiration action must be a positive integer");
    }
  }
}

function checkPolicy(text: string, bucket: string): void {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(text) as { Statement?: unknown };
  } catch {
    throw new S3Fault(400, 'MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  if (statements.length === 0) throw new S3Fault(400, 'MalformedPolicy', 'Missing required field Statement');
  for (const s of statements as Array<{ Resource?: string | string[] }>) {
    for (const r of [s.Resource ?? []].flat()) {
      if (r !== '*' && !r.startsWith(`arn:aws:s3:::${bucket}`)) throw new S3Fault(400, 'MalformedPolicy', 'Policy has invalid resource');
    }
  }
}

export async function startS3ControlStandIn(initial: Array<{ name: string; region?: string }> = []): Promise<S3ControlStandIn> {
  const buckets = new Map<string, BucketState>();
  const calls: Record<string, number> = {};
  const denied: Array<{ operation: string; bucket?: string }> = [];
  let ignoresConditions = false;
  let rejectsConditions = false;
  const addBucket = (name: string, region = 'us-east-1'): void => void buckets.set(name, { region, objects: new Map() });
  for (const b of initial) addBucket(b.name, b.region);

  const bucketOf = (name: string): BucketState => {
    const b = buckets.get(name);
    if (!b) throw new S3Fault(404, 'NoSuchBucket', 'The specified bucket does not exist');
    return b;
  };
  const objectOf = (b: BucketState, key: string): StoredObject => {
    const o = b.objects.get(key);
    if (!o) throw new S3Fault(404, 'NoSuchKey', 'The specified key does not exist.');
    return o;
  };

  function operation(method: string, key: string | undefined, q: URLSearchParams): string {
    const verb = method === 'GET' ? 'Get' : method === 'PUT' ? 'Put' : method === 'DELETE' ? 'Delete' : method === 'HEAD' ? 'Head' : method;
    if (key === undefined) {
      if (q.has('location')) return 'GetBucketLocation';
      if (q.has('logging')) return `${verb}BucketLogging`;
      if (q.has('policy')) return `${verb}BucketPolicy`;
      if (q.has('lifecycle')) return method === 'DELETE' ? 'DeleteBucketLifecycle' : `${verb}BucketLifecycleConfiguration`;
      if (method === 'GET' && q.get('list-type') === '2') return 'ListObjectsV2';
      if (method === 'POST' && q.has('delete')) return 'DeleteObjects';
      if (method === 'HEAD') return 'HeadBucket';
      throw new S3Fault(501, 'NotImplemented', `${method} on a bucket with ${q.toString()} is not implemented by this stand-in`);
    }
    return q.has('tagging') ? `${verb}ObjectTagging` : `${verb}Object`;
  }

  function handle(
    op: string,
    b: BucketState,
    bucket: string,
    key: string,
    q: URLSearchParams,
    req: IncomingMessage,
    body: Buffer,
  ): { status?: number; xml?: string; body?: Buffer; headers?: Record<string, string> } {
    const xml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${inner}`;
    switch (op) {
      case 'GetBucketLocation':
        return {
          xml: xml(
            b.region === 'us-east-1'
              ? `<LocationConstraint xmlns="${NS}"/>`
              : `<LocationConstraint xmlns="${NS}">${b.region}</LocationConstraint>`,
          ),
        };
      case 'GetBucketLogging':
        return { xml: b.logging ?? xml(`<BucketLoggingStatus xmlns="${NS}"/>`) };
      case 'PutBucketLogging': {
        const text = body.toString();
        const target = one(text, 'TargetBucket');
        if (target !== undefined) {
          const t = buckets.get(unesc(target));
          if (!t) throw new S3Fault(400, 'InvalidTargetBucketForLogging', 'The target bucket for logging does not exist');
          if (t.region !== b.region) throw new S3Fault(400, 'CrossLocationLoggingProhibitted', 'Cross S3 location logging not allowed.');
        }
        b.logging = target === undefined ? undefined : text;
        return {};
      }
      case 'GetBucketPolicy':
        if (!b.policy) throw new S3Fault(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist');
        return { body: Buffer.from(b.policy), headers: { 'content-type': 'application/json' } };
      case 'PutBucketPolicy':
        checkPolicy(body.toString(), bucket);
        b.policy = body.toString();
        return { status: 204 };
      case 'DeleteBucketPolicy':
        b.policy = undefined;
        return { status: 204 };
      case 'GetBucketLifecycleConfiguration':
        if (!b.lifecycle) throw new S3Fault(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist');
        return { xml: b.lifecycle, headers: { 'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K' } };
      case 'PutBucketLifecycleConfiguration':
        if (!req.headers['content-md5'] && !Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-'))) {
          throw new S3Fault(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
        }
        checkLifecycle(body.toString());
        b.lifecycle = body.toString();
        return {};
      case 'DeleteBucketLifecycle':
        b.lifecycle = undefined;
        return { status: 204 };
      case 'HeadBucket':
        return {};
      case 'ListObjectsV2':
        return { xml: xml(listXml(bucket, b, q)) };
      case 'GetObjectTagging': {
        const tags = objectOf(b, key)
          .tags.map(([k, v]) => `<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`)
          .join('');
        return { xml: xml(`<Tagging xmlns="${NS}"><TagSet>${tags}</TagSet></Tagging>`) };
      }
      case 'PutObjectTagging':
        objectOf(b, key).tags = tagsOf(body.toString());
        return {};
      case 'PutObject': {
        const chunked =
          /aws-chunked/.test(String(req.headers['content-encoding'] ?? '')) ||
          String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
        const data = chunked ? decodeChunked(body) : body;
        if (req.headers['if-none-match'] !== undefined && rejectsConditions)
          throw new S3Fault(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
        // S3 refuses a create-if-absent of an existing key (412), unless this stand-in plays a store that ignores it.
        if (req.headers['if-none-match'] === '*' && b.objects.has(key) && !ignoresConditions)
          throw new S3Fault(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        const etag = `"${createHash('md5').update(data).digest('hex')}"`;
        const tags = req.headers['x-amz-tagging'] ? [...new URLSearchParams(String(req.headers['x-amz-tagging']))] : [];
        b.objects.set(key, { body: data, etag, lastModified: new Date(), tags });
        return { headers: { etag } };
      }
      case 'GetObject':
      case 'HeadObject': {
        const o = objectOf(b, key);
        const headers = { etag: o.etag, 'last-modified': o.lastModified.toUTCString(), 'content-type': 'application/octet-stream' };
        return { body: op === 'GetObject' ? o.body : Buffer.alloc(0), headers: { ...headers, 'content-length': String(o.body.length) } };
      }
      case 'DeleteObject':
        b.objects.delete(key);
        return { status: 204 };
      case 'DeleteObjects': {
        // Quiet mode (what the storage layer asks for) reports only failures, and there are none here.
        const keys = all(body.toString(), 'Key').map(unesc);
        for (const k of keys) b.objects.delete(k);
        const quiet = one(body.toString(), 'Quiet') === 'true';
        return {
          xml: xml(
            `<DeleteResult xmlns="${NS}">${quiet ? '' : keys.map((k) => `<Deleted><Key>${esc(k)}</Key></Deleted>`).join('')}</DeleteResult>`,
          ),
        };
      }
      default:
        throw new S3Fault(501, 'NotImplemented', `${op} is not implemented by this stand-in`);
    }
  }

  function listXml(bucket: string, b: BucketState, q: URLSearchParams): string {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const max = Number(q.get('max-keys') ?? 1000);
    const after = q.get('continuation-token')
      ? Buffer.from(q.get('continuation-token') ?? '', 'base64').toString()
      : (q.get('start-after') ?? '');
    const contents: string[] = [];
    const prefixes = new Set<string>();
    let last = '';
    let truncated = false;
    for (const key of [...b.objects.keys()].sort()) {
      if (!key.startsWith(prefix) || key <= after) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : undefined;
      if (common && prefixes.has(common)) continue;
      if (contents.length + prefixes.size >= max) {
        truncated = true;
        break;
      }
      last = key;
      if (common) prefixes.add(common);
      else {
        const o = b.objects.get(key)!;
        contents.push(
          `<Contents><Key>${esc(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${esc(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        );
      }
    }
    const token = truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64')}</NextContinuationToken>` : '';
    const common = [...prefixes].map((p) => `<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`).join('');
    return `<ListBucketResult xmlns="${NS}"><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${max}</MaxKeys>${delimiter ? `<Delimiter>${esc(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>${contents.join('')}${common}${token}</ListBucketResult>`;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
      // The SDK sends bucket operations as `/bucket/?op` (an empty key).
      const key = rest.join('/') === '' ? undefined : decodeURIComponent(rest.join('/'));
      const requestId = randomUUID();
      let op = 'Unknown';
      try {
        op = operation(req.method ?? 'GET', key, url.searchParams);
        calls[op] = (calls[op] ?? 0) + 1;
        if (denied.some((d) => d.operation === op && (d.bucket === undefined || d.bucket === bucket)))
          throw new S3Fault(403, 'AccessDenied', 'Access Denied');
        const out = handle(
          op,
          bucketOf(decodeURIComponent(bucket)),
          decodeURIComponent(bucket),
          key ?? '',
          url.searchParams,
          req,
          Buffer.concat(chunks),
        );
        const payload = out.xml !== undefined ? Buffer.from(out.xml) : (out.body ?? Buffer.alloc(0));
        res.writeHead(out.status ?? 200, {
          'x-amz-request-id': requestId,
          ...(out.xml !== undefined ? { 'content-type': 'application/xml' } : {}),
          'content-length': String(payload.length),
          ...out.headers,
        });
        res.end(req.method === 'HEAD' ? undefined : payload);
      } catch (error) {
        const fault = error instanceof S3Fault ? error : new S3Fault(500, 'InternalError', String(error));
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${esc(fault.message)}</Message><BucketName>${esc(bucket)}</BucketName><RequestId>${requestId}</RequestId><HostId>stand-in</HostId></Error>`;
        res.writeHead(fault.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
        res.end(req.method === 'HEAD' ? undefined : xml);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    calls,
    deny: (operation, bucket) => void denied.push({ operation, ...(bucket ? { bucket } : {}) }),
    addBucket,
    ignoreConditionalWrites: () => {
      ignoresConditions = true;
    },
    rejectConditionalWrites: () => {
      rejectsConditions = true;
    },
    writes: () =>
      Object.entries(calls)
        .filter(([op]) => /^(Put|Delete)/.test(op))
        .reduce((n, [, c]) => n + c, 0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
