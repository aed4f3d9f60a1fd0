/**
 * A loopback HTTP proxy in front of an S3 server that injects the failures S3 clients meet in production:
 * 503 SlowDown, 500 InternalError, connection resets, and GET bodies cut after the headers promised the
 * full Content-Length. Decisions come from a seeded PRNG, so a plan injects the same sequence every run.
 * It also records request headers, can play S3's ExpectedBucketOwner check, and can answer requests itself.
 *
 * Conditional writes (plan.conditionalWrites): s3rver ignores If-None-Match and If-Match on PUT and
 * overwrites, so the proxy decides them. Right before forwarding a conditional PUT it asks the server for
 * the key's current ETag with its own signed HeadObject (the SDK with s3rver's credentials; it cannot
 * reuse the PUT's signature, which covers the method). Object writes (PUT, DELETE) through the proxy are
 * queued per key from that check until the server has answered, so two conditional writes never both
 * pass: S3's atomic check-and-write, as seen by clients of the proxy. Asking the server, rather than
 * keeping an ETag map learned from relayed responses or reading s3rver's data directory, stays right
 * for objects written around the proxy, for DeleteObjects and copies, and whatever s3rver's private
 * layout. Limits: path-style URLs only (what the SDK sends to a custom endpoint); DeleteObjects and
 * writes that bypass the proxy are not queued against the check; and HEAD has no error body, so an
 * If-Match PUT into a missing bucket gets NoSuchKey where S3 would say NoSuchBucket.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RVER_CREDENTIALS } from './s3Server.js';

export interface FaultPlan {
  /** Fractions in [0, 1] of eligible requests; their sum must stay <= 1. */
  slowDown?: number;
  serverError?: number;
  reset?: number;
  /** Only GET responses with a non-empty body are cut; other requests drawn for it pass untouched. */
  truncate?: number;
  seed?: number;
  /** Only these HTTP methods get faults, e.g. ['GET']; default all. */
  methods?: string[];
  /** Emulates S3: a request whose x-amz-expected-bucket-owner differs from this account gets 403. */
  bucketOwner?: string;
  /** Answers a request instead of the server (e.g. an S3 error document); undefined forwards it. */
  intercept?: (request: RecordedRequest) => InterceptReply | undefined;
  /**
   * Plays S3's conditional writes (see the file comment): a PUT with `If-None-Match: *` gets 412
   * PreconditionFailed when the key exists; one with `If-Match: <etag>` gets 412 when the current ETag
   * differs and 404 NoSuchKey when there is no object. Both count as injected.preconditionFailed.
   */
  conditionalWrites?: boolean;
  /**
   * A lost answer: the request is forwarded and completes on the server (the write happened), then the
   * client's connection is dropped without a response, so the SDK sees a network error and retries.
   * Asked once per request that gets past the faults and intercept above (never for those), so it may
   * keep state, e.g. to lose only the first matching request. Counted as injected.lostAnswer.
   */
  loseAnswer?: (request: RecordedRequest) => boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /**
   * DeleteObjects (`POST /bucket?delete`): the keys its body names, so a test can tell one batch delete
   * from another (the URL is the same for all). Set once the body has arrived: for `loseAnswer` and
   * `intercept`, and in `requests` after that.
   */
  deletes?: readonly string[];
}

export interface InterceptReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface FaultProxy {
  readonly endpoint: string;
  /**
   * Count per fault kind actually injected: slowDown, serverError, reset, truncate, ownerDenied,
   * preconditionFailed, lostAnswer.
   */
  readonly injected: Record<string, number>;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** mulberry32: tiny, seedable, good enough to spread faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function s3ErrorXml(code: string, message: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>FAULTPROXY</RequestId><HostId>faultproxy</HostId></Error>`
  );
}

type Fault = 'slowDown' | 'serverError' | 'reset' | 'truncate' | undefined;

/** Bucket and key of a path-style object URL, or undefined for bucket- and service-level requests. */
function objectOf(url: string): { bucket: string; key: string } | undefined {
  const path = new URL(url, 'http://proxy').pathname;
  const slash = path.indexOf('/', 1);
  if (slash < 0 || slash === path.length - 1) return undefined;
  return { bucket: decodeURIComponent(path.slice(1, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/** The keys a DeleteObjects body names (`<Key>…</Key>`, XML-unescaped), or undefined for other requests. */
function deletedKeys(method: string, url: string, body: Buffer): string[] | undefined {
  if (method !== 'POST' || !new URL(url, 'http://proxy').searchParams.has('delete')) return undefined;
  const xmlText = (text: string) =>
    text.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(\w+));/gi, (entity, hex?: string, decimal?: string, name?: string) =>
      hex
        ? String.fromCodePoint(Number.parseInt(hex, 16))
        : decimal
          ? String.fromCodePoint(Number(decimal))
          : (XML_ENTITIES[name!] ?? entity),
    );
  return [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlText(m[1]!));
}

/** Object writes queued per key under conditionalWrites; multipart part uploads and aborts are not. */
function isObjectWrite(method: string, url: string): boolean {
  if (method !== 'PUT' && method !== 'DELETE') return false;
  const query = new URL(url, 'http://proxy').searchParams;
  return !query.has('uploadId') && !query.has('partNumber');
}

/** Whether an If-Match / If-None-Match value (`*`, or a list of quoted, maybe weak, ETags) names `etag`. */
function etagListMatches(value: string, etag: string): boolean {
  return value.split(',').some((item) => {
    const tag = item.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return tag === '*' || tag === etag;
  });
}

export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = prng(plan.seed ?? 1);
  const methods = plan.methods?.map((m) => m.toUpperCase());
  const injected: Record<string, number> = {
    slowDown: 0,
    serverError: 0,
    reset: 0,
    truncate: 0,
    ownerDenied: 0,
    preconditionFailed: 0,
    lostAnswer: 0,
  };
  const requests: RecordedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true });
  // The proxy's own requests for conditionalWrites: signed by the SDK, straight to the server, not recorded.
  const checker = plan.conditionalWrites
    ? new S3Client({ endpoint: target, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, maxAttempts: 3 })
    : undefined;
  const queues = new Map<string, Promise<void>>();

  function draw(method: string): Fault {
    if (methods && !methods.includes(method)) return undefined;
    let r = random();
    for (const kind of ['slowDown', 'serverError', 'reset', 'truncate'] as const) {
      r -= plan[kind] ?? 0;
      if (r < 0) return kind;
    }
    return undefined;
  }

  function reply(res: http.ServerResponse, method: string, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(method === 'HEAD' ? undefined : body);
  }

  /** Drops the connection without a response: the client cannot tell whether the server acted. */
  function loseIt(res: http.ServerResponse): void {
    injected.lostAnswer = (injected.lostAnswer ?? 0) + 1;
    res.destroy();
  }

  /** Resolves once the server's answer is complete (or failed), never rejects. */
  function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, truncate: boolean, lose: boolean): Promise<void> {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    // Host is passed through unchanged: the client signed it, and s3rver checks what it receives.
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('error', () => {
          res.destroy();
          done();
        });
        upstreamRes.on('end', () => {
          done();
          // The whole answer arrived, so the server finished the request: only now drop it.
          if (lose) return loseIt(res);
          const full = Buffer.concat(chunks);
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          if (!truncate || full.length === 0) return void res.end(full);
          injected.truncate = (injected.truncate ?? 0) + 1;
          // Headers still announce the full length; half the body, then the socket dies.
          res.write(full.subarray(0, Math.floor(full.length / 2)), () => res.socket?.destroy());
        });
      },
    );
    out.on('error', (error) => {
      done();
      if (!res.headersSent) reply(res, req.method ?? 'GET', 502, s3ErrorXml('ProxyError', error.message));
      else res.destroy();
    });
    out.end(body);
    return finished;
  }

  /** The object's current ETag (unquoted) on the server, or undefined when there is none. */
  async function currentEtag(object: { bucket: string; key: string }): Promise<string | undefined> {
    try {
      const head = await checker!.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
      return (head.ETag ?? '').replace(/^"|"$/g, '');
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  /** S3's answer to a conditional PUT whose condition fails, or undefined when it may go ahead. */
  async function refuse(
    req: http.IncomingMessage,
    object: { bucket: string; key: string },
  ): Promise<{ status: number; code: string; message: string } | undefined> {
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
    const etag = await currentEtag(object);
    const failed = { status: 412, code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold' };
    if (ifNoneMatch !== undefined && etag !== undefined && etagListMatches(ifNoneMatch, etag)) return failed;
    if (ifMatch !== undefined && etag === undefined)
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
    if (ifMatch !== undefined && etag !== undefined && !etagListMatches(ifMatch, etag)) return failed;
    return undefined;
  }

  /** Runs tasks for the same key one after another; tasks for other keys run freely. */
  function queued(key: string, task: () => Promise<void>): Promise<void> {
    const run = (queues.get(key) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  }

  async function conditionalWrite(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    object: { bucket: string; key: string },
    lose: boolean,
  ): Promise<void> {
    const method = req.method ?? 'PUT';
    let refusal;
    try {
      refusal = await refuse(req, object);
    } catch (error) {
      // A retryable answer: the client tries again, as after any S3 hiccup.
      return reply(
        res,
        method,
        500,
        s3ErrorXml('InternalError', `fault proxy could not check ${object.bucket}/${object.key}: ${(error as Error).message}`),
      );
    }
    if (refusal) {
      injected.preconditionFailed = (injected.preconditionFailed ?? 0) + 1;
      if (lose) return loseIt(res);
      return reply(res, method, refusal.status, s3ErrorXml(refusal.code, refusal.message));
    }
    await forward(req, res, body, false, lose);
  }

  const server = http.createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const recorded: RecordedRequest = { method, url: req.url ?? '/', headers: req.headers };
    requests.push(recorded);
    const fault = draw(method);
    if (fault === 'reset') {
      injected.reset = (injected.reset ?? 0) + 1;
      req.socket.destroy();
      return;
    }
    // Read the whole request first so an error reply is not taken for a broken upload.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const deletes = deletedKeys(method, recorded.url, body);
      if (deletes) recorded.deletes = deletes;
      const owner = req.headers['x-amz-expected-bucket-owner'];
      if (plan.bucketOwner && owner !== undefined && owner !== plan.bucketOwner) {
        injected.ownerDenied = (injected.ownerDenied ?? 0) + 1;
        return reply(res, method, 403, s3ErrorXml('AccessDenied', 'Access Denied'));
      }
      const intercepted = plan.intercept?.(recorded);
      if (intercepted) return reply(res, method, intercepted.status, intercepted.body ?? '', intercepted.headers);
      if (fault === 'slowDown') {
        injected.slowDown = (injected.slowDown ?? 0) + 1;
        return reply(res, method, 503, s3ErrorXml('SlowDown', 'Please reduce your request rate.'));
      }
      if (fault === 'serverError') {
        injected.serverError = (injected.serverError ?? 0) + 1;
        return reply(res, method, 500, s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.'));
      }
      const lose = plan.loseAnswer?.(recorded) ?? false;
      const object = plan.conditionalWrites && isObjectWrite(method, recorded.url) ? objectOf(recorded.url) : undefined;
      if (!object) return void forward(req, res, body, fault === 'truncate' && method === 'GET', lose);
      queued(`${object.bucket}/${object.key}`, () => conditionalWrite(req, res, body, object, lose)).catch((error: unknown) => {
        if (!res.headersSent) reply(res, method, 500, s3ErrorXml('InternalError', `fault proxy: ${(error as Error).message}`));
        else res.destroy();
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      checker?.destroy();
    },
  };
}
