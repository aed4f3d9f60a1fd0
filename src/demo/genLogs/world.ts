/**
 * The simulated account behind generated logs: buckets, their objects, and the clients (SDKs, CLI,
 * browsers, EMR, CloudFront, anonymous callers) that call them, with realistic identities and agents.
 */
import { type Random, WeightedPicker } from '../random.js';
import { pad2 } from './format.js';

export interface StoredObject {
  key: string;
  size: number;
  version: string | null;
}

export interface BucketInfo {
  name: string;
  versioned: boolean;
  objects: StoredObject[];
  accessPoint: string | null;
}

type ClientKind = 'sdk' | 'cli' | 'emr' | 'console' | 'cloudfront' | 'presigned' | 'anonymous' | 'sigv2';

export interface Client {
  kind: ClientKind;
  ip: string;
  requester: string | null;
  ua: string;
  sigv: 'SigV2' | 'SigV4' | null;
  auth: 'AuthHeader' | 'QueryString' | null;
  accessKeyId: string;
  tls: readonly [cipher: string, version: string] | null;
  /** Host header style: virtual-hosted, path-style, dual-stack (IPv6 clients) or a CNAME. */
  host: 'virtual' | 'path' | 'dualstack' | 'cname';
  pathEndpoint: string;
  sourceRegion: string | null;
  /** AWS SDK for JavaScript v3 adds `x-id=<Operation>` to every request line. */
  addsXId: boolean;
}

export interface World {
  accountId: string;
  region: string;
  owner: string;
  buckets: BucketInfo[];
  clients: Client[];
  authed: Client[];
  browsers: Client[];
}

const DAY_S = 86_400;
const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';
export const UPLOAD_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const USERS = ['alice', 'bob', 'carol', 'deploy-bot', 'ci@example.com', 'data.eng', 'mallory'];
export const WORDS = ['report', 'invoice', 'summary', 'photo', 'backup', 'draft', 'final', 'budget'];
const TLS12 = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA'];
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const BOTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'curl/8.5.0',
  'Wget/1.21.4',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
];

function chromeVersion(r: Random): string {
  return `${r.int(110, 131)}.0.${r.int(5000, 6800)}.${r.int(10, 250)}`;
}

function kernel(r: Random): string {
  return r.chance(0.5)
    ? `5.10.${r.int(100, 230)}-${r.int(100, 230)}.${r.int(700, 900)}.amzn2.x86_64`
    : `6.1.${r.int(50, 120)}-${r.int(60, 180)}.${r.int(100, 250)}.amzn2023.x86_64`;
}

function browserUa(r: Random): string {
  switch (r.int(0, 6)) {
    case 0:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Safari/537.36`;
    case 1:
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${r.int(15, 17)}.${r.int(0, 6)} Safari/605.1.15`;
    case 2: {
      const major = r.int(15, 17);
      const minor = r.int(0, 7);
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`;
    }
    case 3: {
      const v = r.int(100, 128);
      return `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`;
    }
    case 4:
      return `Mozilla/5.0 (Linux; Android ${r.int(10, 14)}; SM-G${r.int(900, 999)}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Mobile Safari/537.36`;
    case 5:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Safari/537.36 Edg/${chromeVersion(r)}`;
    default:
      return r.pick(BOTS);
  }
}

function sdkUa(r: Random): { ua: string; addsXId: boolean } {
  switch (r.int(0, 4)) {
    case 0: {
      const v = `3.${r.int(400, 700)}.0`;
      return {
        ua: `aws-sdk-js/${v} ua/2.0 os/linux#${kernel(r)} lang/js md/nodejs#20.${r.int(5, 18)}.${r.int(0, 3)} api/s3#${v}`,
        addsXId: true,
      };
    }
    case 1: {
      const v = `1.34.${r.int(0, 160)}`;
      return {
        ua: `Boto3/${v} md/Botocore#${v} ua/2.0 os/linux#${kernel(r)} md/arch#x86_64 lang/python#3.12.${r.int(0, 8)} md/pyimpl#CPython cfg/retry-mode#legacy Botocore/${v}`,
        addsXId: false,
      };
    }
    case 2:
      return {
        ua: `aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/17.0.${r.int(5, 12)}+${r.int(1, 12)}-LTS java/17.0.${r.int(5, 12)} vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE`,
        addsXId: false,
      };
    case 3:
      return {
        ua: `aws-sdk-go-v2/1.24.${r.int(0, 9)} os/linux lang/go#1.21.${r.int(0, 9)} md/GOOS#linux md/GOARCH#amd64 api/s3#1.48.${r.int(0, 9)}`,
        addsXId: false,
      };
    default:
      return { ua: `rclone/v1.65.${r.int(0, 3)}`, addsXId: false };
  }
}

function emrUa(r: Random): string {
  const java = `aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/25.${r.int(292, 402)}-b08 java/1.8.0_${r.int(292, 402)}`;
  // Commas, braces and brackets inside a User-Agent, as EMR and Athena send them (EDGE #25).
  return r.chance(0.5)
    ? `ElasticMapReduce/1.0.0 emrfs/s3n {} user:hadoop,groups:[hadoop], ${java} scala/2.12.17 vendor/Amazon.com_Inc.`
    : `AWS_ATHENA, ${java} vendor/Amazon.com_Inc., presto`;
}

export function publicIpv4(r: Random): string {
  return `${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

export function privateIpv4(r: Random): string {
  return r.chance(0.5) ? `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}` : `172.31.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function ipv6(r: Random): string {
  const group = (): string => r.int(0, 0xffff).toString(16);
  return r.chance(0.5)
    ? `2600:1f18:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}`
    : `2a02:c7f:${group()}:${group()}::${group()}`;
}

function canonicalId(r: Random): string {
  return r.hex(64);
}

function iamUser(r: Random, account: string): string {
  return `arn:aws:iam::${account}:user/${r.pick(USERS)}`;
}

function assumedRole(r: Random, account: string): string {
  switch (r.int(0, 2)) {
    case 0:
      return `arn:aws:sts::${account}:assumed-role/app-prod-task/${r.int(1e9, 2e9)}${r.int(1e8, 9e8)}`;
    case 1:
      return `arn:aws:sts::${account}:assumed-role/EMR_EC2_DefaultRole/i-0${r.hex(16)}`;
    default:
      return `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_AdministratorAccess_${r.hex(16)}/${r.pick(USERS).split('@')[0]}@example.com`;
  }
}

function tlsFor(r: Random): readonly [string, string] {
  return r.chance(0.35) ? [r.pick(TLS13), 'TLSv1.3'] : [r.pick(TLS12), 'TLSv1.2'];
}

const CLIENT_KINDS = new WeightedPicker<ClientKind>([
  ['sdk', 30],
  ['cli', 6],
  ['emr', 10],
  ['console', 4],
  ['cloudfront', 8],
  ['presigned', 14],
  ['anonymous', 22],
  ['sigv2', 6],
]);

function makeClient(r: Random, account: string, region: string): Client {
  const kind = CLIENT_KINDS.pick(r);
  const insideAws = kind === 'sdk' || kind === 'cli' || kind === 'emr' || kind === 'sigv2';
  const v6 = !insideAws && kind !== 'cloudfront' && r.chance(0.12);
  const c: Client = {
    kind,
    ip: insideAws ? (r.chance(0.6) ? privateIpv4(r) : publicIpv4(r)) : v6 ? ipv6(r) : publicIpv4(r),
    requester: null,
    ua: browserUa(r),
    sigv: 'SigV4',
    auth: 'AuthHeader',
    accessKeyId: (r.chance(0.5) ? 'AKIA' : 'ASIA') + r.upperAlnum(16),
    tls: tlsFor(r),
    host: v6 ? 'dualstack' : r.chance(0.2) ? 'path' : 'virtual',
    pathEndpoint: r.pick([`s3.${region}.amazonaws.com`, region === 'us-east-1' ? 's3.amazonaws.com' : `s3-${region}.amazonaws.com`]),
    sourceRegion: insideAws ? (r.chance(0.8) ? region : r.pick(['us-west-2', 'eu-west-1', 'ap-southeast-2'])) : null,
    addsXId: false,
  };
  switch (kind) {
    case 'sdk': {
      const sdk = sdkUa(r);
      c.ua = sdk.ua;
      c.addsXId = sdk.addsXId;
      c.requester = r.chance(0.7) ? assumedRole(r, account) : iamUser(r, account);
      break;
    }
    case 'cli':
      c.ua = `aws-cli/2.15.${r.int(0, 60)} Python/3.11.${r.int(4, 8)} Linux/${kernel(r)} exe/x86_64.amzn.2023 prompt/off command/s3.${r.pick(['cp', 'sync', 'ls', 'rm'])}`;
      c.requester = iamUser(r, account);
      break;
    case 'emr':
      c.ua = emrUa(r);
      c.requester = assumedRole(r, account);
      c.host = r.chance(0.5) ? 'path' : 'virtual';
      break;
    case 'console':
      c.ua = `S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/25.${r.int(292, 402)}-b08 java/1.8.0_${r.int(292, 402)} vendor/Oracle_Corporation cfg/retry-mode/standard`;
      c.requester = r.chance(0.5) ? iamUser(r, account) : assumedRole(r, account);
      c.sourceRegion = region;
      break;
    case 'cloudfront':
      c.ua = 'Amazon CloudFront';
      c.requester = r.hex(96); // CloudFront OAI canonical IDs are 96 hex digits (EDGE #19)
      c.ip = `${r.pick([13, 18, 52, 54, 64, 130, 204])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
      c.host = 'virtual';
      break;
    case 'presigned':
      c.requester = c.accessKeyId.startsWith('ASIA') ? assumedRole(r, account) : iamUser(r, account);
      c.auth = 'QueryString';
      c.sigv = r.chance(0.85) ? 'SigV4' : 'SigV2';
      break;
    case 'anonymous':
      c.sigv = null;
      c.auth = null;
      if (r.chance(0.3)) c.tls = null; // plain HTTP
      if (c.tls === null && !v6 && r.chance(0.5)) c.host = 'cname';
      break;
    case 'sigv2':
      c.ua = r.chance(0.5)
        ? `Boto/2.49.0 Python/2.7.18 Linux/4.14.${r.int(100, 300)}-${r.int(100, 250)}.amzn2.x86_64`
        : `aws-sdk-ruby2/2.11.${r.int(100, 600)} ruby/2.7.${r.int(1, 8)} x86_64-linux`;
      c.requester = r.chance(0.5) ? iamUser(r, account) : canonicalId(r);
      c.sigv = 'SigV2';
      c.tls = [r.pick(TLS12), 'TLSv1.2'];
      break;
  }
  return c;
}

function clampSize(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.round(n)));
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Real object keys (before S3's encoding): spaces, `=`, `+`, `%`, `?`, unicode, huge objects. */
export function makeStoredObject(r: Random, dayStart: number, versioned: boolean): StoredObject {
  const date = isoDate(dayStart - r.int(0, 400) * DAY_S * 1000);
  const [y, m, d] = date.split('-') as [string, string, string];
  let key: string;
  let size: number;
  switch (r.int(0, 11)) {
    case 0:
    case 1:
      key = `images/${y}/${m}/${d}/IMG_${r.int(1000, 9999)}.jpg`;
      size = clampSize(r.logNormal(800_000, 0.8), 20_000, 30_000_000);
      break;
    case 2:
      key = `static/${r.pick(['js/main', 'js/vendor', 'css/app'])}.${r.hex(8)}.${r.pick(['js', 'css'])}`;
      size = clampSize(r.logNormal(150_000, 1), 1_000, 5_000_000);
      break;
    case 3:
    case 4:
      key = `warehouse/events/dt=${date}/hour=${pad2(r.int(0, 23))}/part-${String(r.int(0, 199)).padStart(5, '0')}-${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}.c000.snappy.parquet`;
      size = clampSize(r.logNormal(60_000_000, 1), 100_000, 2_000_000_000);
      break;
    case 5:
      key = `uploads/${r.pick(USERS)}/Screen Shot ${date} at ${r.int(1, 12)}.${pad2(r.int(0, 59))}.${pad2(r.int(0, 59))} PM.png`;
      size = clampSize(r.logNormal(500_000, 0.7), 10_000, 20_000_000);
      break;
    case 6:
      key = r.pick([
        `docs/Résumé ${r.pick(USERS)}.pdf`,
        `docs/報告書_${r.int(1, 99)}.xlsx`,
        `música/canción número ${r.int(1, 40)}.mp3`,
        `naïve café/menü-${r.int(1, 9)}.txt`,
        `emoji/🎉 party ${r.int(1, 20)}.gif`,
      ]);
      size = clampSize(r.logNormal(300_000, 1.2), 100, 50_000_000);
      break;
    case 7:
      key = r.pick([
        `tmp/a+b (copy ${r.int(1, 9)}).txt`,
        `reports/Q${r.int(1, 4)} 100% done & ready?.csv`,
        `odd/key with  two  spaces ${r.int(1, 9)}.txt`,
        `odd/semi;colon,comma=eq ${r.int(1, 9)}.txt`,
        `odd/~tilde*star'quote!(${r.int(1, 9)}).txt`,
        `odd/literal%41percent-${r.int(1, 9)}.txt`,
      ]);
      size = clampSize(r.logNormal(5_000, 1.5), 1, 1_000_000);
      break;
    case 8:
      // Beyond 2^31: int64 columns must hold these (EDGE #8).
      key = `backups/${date}/db-full-${r.hex(6)}.tar.gz`;
      size = clampSize(r.logNormal(30_000_000_000, 1.2), 3_000_000_000, 400_000_000_000);
      break;
    case 9:
      key = `videos/${r.hex(12)}/master_${r.int(360, 2160)}p.mp4`;
      size = clampSize(r.logNormal(2_000_000_000, 1), 50_000_000, 20_000_000_000);
      break;
    case 10:
      key = `logs/app/${y}/${m}/${d}/app-${pad2(r.int(0, 23))}.log.gz`;
      size = clampSize(r.logNormal(2_000_000, 1), 1_000, 100_000_000);
      break;
    default:
      key = r.pick(['index.html', 'favicon.ico', 'robots.txt', 'about/index.html', `blog/${y}/${r.pick(WORDS)}-${r.int(1, 99)}.html`]);
      size = clampSize(r.logNormal(20_000, 1), 200, 500_000);
  }
  return { key, size, version: versioned ? r.fromAlphabet(VERSION_ALPHABET, 32) : null };
}

export function createWorld(r: Random, o: { accountId: string; region: string; buckets: string[]; dayStart: number }): World {
  const buckets = o.buckets.map((name, i): BucketInfo => {
    const versioned = i % 2 === 1;
    const objects = Array.from({ length: 400 }, () => makeStoredObject(r, o.dayStart, versioned));
    return { name, versioned, objects, accessPoint: i === 0 ? `arn:aws:s3:${o.region}:${o.accountId}:accesspoint/readers-ap` : null };
  });
  const clients = Array.from({ length: 500 }, () => makeClient(r, o.accountId, o.region));
  return {
    accountId: o.accountId,
    region: o.region,
    owner: canonicalId(r), // all buckets of one account have one owner
    buckets,
    clients,
    authed: clients.filter((c) => c.requester !== null && c.auth === 'AuthHeader'),
    browsers: clients.filter((c) => c.kind === 'anonymous'),
  };
}
