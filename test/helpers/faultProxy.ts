/**
 * A loopback HTTP proxy in front of an S3 server that injects the failures S3 clients meet in production:
 * 503 SlowDown, 500 InternalError, connection resets, and GET bodies cut after the headers promised the
 * full Content-Length. Decisions come from a seeded PRNG, so a plan injects the same sequence every run.
 * It also records request headers, can play S3's ExpectedBucketOwner check, and can answer requests itself.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface InterceptReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Count per fault kind actually injected: slowDown, serverError, reset, truncate, ownerDenied. */
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
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>FAULTPROXY</RequestId><HostId>faultproxy</HostId></Error>`;
}

type Fault = 'slowDown' | 'serverError' | 'reset' | 'truncate' | undefined;

export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = prng(plan.seed ?? 1);
  const methods = plan.methods?.map((m) => m.toUpperCase());
  const injected: Record<string, number> = { slowDown: 0, serverError: 0, reset: 0, truncate: 0, ownerDenied: 0 };
  const requests: RecordedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true });

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

  function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, truncate: boolean): void {
    // Host is passed through unchanged: the client signed it, and s3rver checks what it receives.
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('error', () => res.destroy());
        upstreamRes.on('end', () => {
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
      if (!res.headersSent) reply(res, req.method ?? 'GET', 502, s3ErrorXml('ProxyError', error.message));
      else res.destroy();
    });
    out.end(body);
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
      forward(req, res, Buffer.concat(chunks), fault === 'truncate' && method === 'GET');
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
    },
  };
}
