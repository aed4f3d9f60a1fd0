/**
 * An STS stand-in on 127.0.0.1 speaking the AWS Query protocol (form-encoded `Action=…` POSTs, XML
 * answers), so `setup` runs the real @aws-sdk/client-sts serializers and error parsing. Only
 * GetCallerIdentity, answered as the STS API reference shows it; `deny(code)` makes it answer with an
 * STS error (e.g. InvalidClientTokenId, 403) instead. Signatures are ignored.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StsStandIn {
  readonly endpoint: string;
  readonly calls: Record<string, number>;
  /** Answers every call with this STS error code (403), like expired or invalid credentials. */
  deny(code: string): void;
  close(): Promise<void>;
}

export async function startStsStandIn(identity: { account: string; arn?: string }): Promise<StsStandIn> {
  const calls: Record<string, number> = {};
  let denied: string | undefined;
  const arn = identity.arn ?? `arn:aws:iam::${identity.account}:user/s3logs-test`;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const action = new URLSearchParams(body).get('Action') ?? '(none)';
      calls[action] = (calls[action] ?? 0) + 1;
      res.setHeader('content-type', 'text/xml');
      const requestId = `req-${Object.values(calls).reduce((a, b) => a + b, 0)}`;
      if (denied || action !== 'GetCallerIdentity' || req.method !== 'POST') {
        const code = denied ?? 'InvalidAction';
        res.statusCode = denied ? 403 : 400;
        res.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
            `<Message>${denied ? 'The security token included in the request is invalid.' : `Could not find operation ${action}`}</Message></Error>` +
            `<RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${arn}</Arn><UserId>AIDASTANDIN0EXAMPLE</UserId><Account>${identity.account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    deny(code) {
      denied = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
