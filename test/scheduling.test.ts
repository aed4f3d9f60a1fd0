/**
 * Scheduling artefacts in jobs/ (issue #5): the IAM policy grants exactly what the job needs on the
 * documented prefixes; the YAML/JSON manifests are well formed and mutually consistent; every flag and
 * S3LOGS_* variable they use is one the real CLI accepts; and the commands they hold really run — the
 * crontab line (with its flock), the CronJob's nightly, the Indexed Job's and the Batch array job's
 * sharded backfills (one process per index, publishing exactly the rows of one worker), the Batch
 * submit script (against a stub `aws`), and the Lambda handler.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import { BACKFILL_FLAGS, runBackfill } from '../src/jobs/backfill.js';
import { NIGHTLY_FLAGS, nightlyKeyDate } from '../src/jobs/nightly.js';
import { CONVERT_FLAGS } from '../src/config.js';
import { lakeKeys } from '../src/records.js';
import { handler } from '../jobs/lambda/handler.js';
import { runCli } from './helpers/cli.js';
import { query, readTable, rowKey } from './helpers/duck.js';
import { heldLock } from './helpers/locks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const FILES = {
  crontab: 'jobs/crontab',
  cronjob: 'jobs/k8s/cronjob.yaml',
  indexed: 'jobs/k8s/backfill-indexed-job.yaml',
  batchDefinition: 'jobs/aws-batch/job-definition.json',
  batchSubmit: 'jobs/aws-batch/submit-array-job.sh',
  lambdaHandler: 'jobs/lambda/handler.ts',
  lambdaTemplate: 'jobs/lambda/template.yaml',
  policy: 'jobs/iam/job-policy.json',
  docs: 'docs/scheduling.md',
} as const;

/** The placeholders the artefacts share, documented in docs/scheduling.md. */
const PLACEHOLDERS = ['SourceBucket', 'SourcePrefix', 'DestBucket', 'DestPrefix', 'Region', 'AccountId', 'Database', 'Table'] as const;
const SAMPLE: Record<(typeof PLACEHOLDERS)[number], string> = {
  SourceBucket: 'my-log-bucket',
  SourcePrefix: 'logs/',
  DestBucket: 'my-lake',
  DestPrefix: 'access-logs/',
  Region: 'eu-west-1',
  AccountId: '111122223333',
  Database: 's3_access_logs',
  Table: 'access_logs',
};
const IMAGE_PLACEHOLDER = 'ghcr.io/example/s3logs:latest';

/** `${Name}` → value, as `envsubst` does it; every name must be a documented placeholder. */
function fill(source: string, values: Record<string, string> = SAMPLE): string {
  return source.replace(/\$\{([A-Za-z]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`unknown placeholder \${${name}}`);
    return values[name]!;
  });
}

// ---- processes ------------------------------------------------------------------------------------

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a scheduler: this process's, without any S3LOGS_* setting leaking in. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('S3LOGS_') && k !== 'AWS_BATCH_JOB_ARRAY_INDEX' && k !== 'JOB_COMPLETION_INDEX') env[k] = v;
  return { ...env, ...extra };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A container command `["node", "dist/src/cli.js", ...]` run from the repository root, as in the image. */
function runContainer(command: readonly string[], env: Record<string, string>): Promise<Ran> {
  expect(command.slice(0, 2)).toEqual(['node', 'dist/src/cli.js']);
  return run(process.execPath, command.slice(1), cleanEnv(env));
}

// ---- flags and settings the real CLI accepts ------------------------------------------------------

const helpText = new Map<string, string>();
async function help(command: string): Promise<string> {
  if (!helpText.has(command)) {
    const r = await runCli([command, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`s3logs ${command}`);
    helpText.set(command, r.stdout);
  }
  return helpText.get(command)!;
}

/** Flags of `s3logs <command>`: named in its --help, or a convert option; jobs take no --date (nightly no --to). */
async function allowedFlags(command: string): Promise<Set<string>> {
  const flags = new Set([...(await help(command)).matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
  for (const name of Object.keys(CONVERT_FLAGS)) flags.add(`--${name}`);
  if (command === 'nightly' || command === 'backfill') {
    flags.delete('--date');
    flags.delete('--help');
    if (command === 'nightly') flags.delete('--to');
  }
  return flags;
}

async function expectKnownFlags(where: string, command: string, tokens: readonly string[]): Promise<void> {
  expect(['nightly', 'backfill', 'commit', 'convert'], `${where}: command`).toContain(command);
  const allowed = await allowedFlags(command);
  for (const flag of tokens.filter((t) => t.startsWith('--')).map((t) => t.split('=')[0]!)) {
    expect(allowed.has(flag), `${where}: ${flag} is not a flag of \`s3logs ${command}\``).toBe(true);
  }
}

const envName = (flag: string) => `S3LOGS_${flag.toUpperCase().replace(/-/g, '_')}`;
/** S3LOGS_* variables a job reads: its flags' names (convert options without date/to/help, its own flags) and S3LOGS_CONFIG. */
function jobEnvNames(jobFlags: Record<string, unknown>): Set<string> {
  const names = Object.keys(CONVERT_FLAGS)
    .filter((f) => !['date', 'to', 'help'].includes(f))
    .concat(Object.keys(jobFlags))
    .map(envName);
  return new Set([...names, 'S3LOGS_CONFIG']);
}
const NIGHTLY_ENV = jobEnvNames(NIGHTLY_FLAGS);
const BACKFILL_ENV = jobEnvNames(BACKFILL_FLAGS);

// ---- small structural readers for the YAML (no YAML parser is installed) ---------------------------

function yamlDocuments(source: string): string[] {
  return source.split(/^---[ \t]*$/m).filter((d) => /^\w/m.test(d));
}
function scalar(doc: string, key: string): string | undefined {
  return new RegExp(`^\\s*${key}:[ \\t]*(\\S.*?)[ \\t]*$`, 'm').exec(doc)?.[1];
}
function flowArray(doc: string, key: string): string[] {
  const raw = new RegExp(`^\\s*${key}:[ \\t]*(\\[.*\\])[ \\t]*$`, 'm').exec(doc)?.[1];
  expect(raw, `${key}: [..] on one line`).toBeDefined();
  return JSON.parse(raw!) as string[];
}
/** `key: "value"` lines of a mapping block (e.g. a ConfigMap's data:), by indentation. */
function mapping(doc: string, header: string): Record<string, string> {
  const lines = doc.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^\\s*${header}:\\s*$`).test(l));
  expect(at, `${header}: block`).toBeGreaterThanOrEqual(0);
  const indent = /^\s*/.exec(lines[at]!)![0].length;
  const out: Record<string, string> = {};
  for (const line of lines.slice(at + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    if (/^\s*/.exec(line)![0].length <= indent) break;
    const m = /^\s*([\w.-]+):\s*(.*?)\s*$/.exec(line);
    expect(m, `mapping line ${line}`).not.toBeNull();
    out[m![1]!] = m![2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}
function expectCleanYaml(path: string): void {
  const lines = text(path).split('\n');
  for (const [i, line] of lines.entries()) {
    expect(line.includes('\t'), `${path}:${i + 1} has a tab`).toBe(false);
    if (/^\s*(#.*)?$/.test(line)) continue;
    expect(/^ */.exec(line)![0].length % 2, `${path}:${i + 1} indentation`).toBe(0);
    expect(/\s$/.test(line), `${path}:${i + 1} trailing space`).toBe(false);
  }
}
/** The image line carries the placeholder and is marked as one right above it. */
function expectImagePlaceholder(doc: string, path: string): void {
  const lines = doc.split('\n');
  const at = lines.findIndex((l) => /^\s*image:/.test(l));
  expect(lines[at], path).toMatch(new RegExp(`image: ${IMAGE_PLACEHOLDER.replace(/[.]/g, '\\.')}$`));
  expect(lines.slice(Math.max(0, at - 3), at).join('\n'), `${path}: image marked as placeholder`).toMatch(/PLACEHOLDER IMAGE/);
}

// ---- generated raw logs ----------------------------------------------------------------------------

const gen = (keyDate: string, seed: number): GenerateOptions => ({
  seed,
  keyDate,
  layout: 'simple',
  prefix: 'logs/',
  objects: 6,
  maxObjectBytes: 24 * 1024,
});

let work: string;
let yesterday: string;
let yesterdayRaw: string;
let yesterdayRows: number;

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist/src/cli.js')), 'dist/ is built (npm test builds it)').toBe(true);
  work = await mkdtemp(join(tmpdir(), 's3logs-scheduling-'));
  // runNightly uses the real clock: logs for yesterday (UTC). Should the date turn during the test,
  // this date is still re-checked (--lookback-days), so the assertions hold.
  yesterday = nightlyKeyDate(new Date());
  yesterdayRaw = join(work, 'raw-yesterday');
  yesterdayRows = (await writeKeyDateToDirectory(yesterdayRaw, gen(yesterday, 7))).rows;
  expect(yesterdayRows).toBeGreaterThan(0);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function tableRows(dest: string): Promise<number> {
  const [row] = await query(`SELECT count(*) AS n FROM read_parquet('${dest}/**/*.parquet', hive_partitioning = true)`);
  return Number(row!.n);
}

// ---- IAM -------------------------------------------------------------------------------------------

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string[]>>;
  NotAction?: unknown;
  NotResource?: unknown;
}
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe('jobs/iam/job-policy.json', () => {
  const policy = JSON.parse(text(FILES.policy)) as { Version: string; Statement: Statement[] };
  const S3_SOURCE = ['s3:ListBucket', 's3:GetObject'];
  const TAGGING = ['s3:GetObjectTagging', 's3:PutObjectTagging'];
  const S3_DEST = ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
  const GLUE = [
    'glue:GetDatabase',
    'glue:CreateDatabase',
    'glue:GetTable',
    'glue:CreateTable',
    'glue:UpdateTable',
    'glue:GetPartitions',
    'glue:BatchGetPartition',
    'glue:BatchCreatePartition',
    'glue:BatchUpdatePartition',
    'glue:BatchDeletePartition',
  ];
  const RESOURCES = new Set([
    'arn:aws:s3:::${SourceBucket}',
    'arn:aws:s3:::${SourceBucket}/${SourcePrefix}*',
    'arn:aws:s3:::${DestBucket}',
    'arn:aws:s3:::${DestBucket}/${DestPrefix}*',
    'arn:aws:glue:${Region}:${AccountId}:catalog',
    'arn:aws:glue:${Region}:${AccountId}:database/${Database}',
    'arn:aws:glue:${Region}:${AccountId}:table/${Database}/${Table}',
  ]);
  const actionsOn = (resource: string) =>
    policy.Statement.filter((s) => list(s.Resource).includes(resource)).flatMap((s) => list(s.Action));

  it('grants exactly the actions the job calls, allow-only, without wildcard actions', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      for (const action of list(s.Action)) expect(action).toMatch(/^(s3|glue):[A-Z][A-Za-z]+$/);
    }
    const all = new Set(policy.Statement.flatMap((s) => list(s.Action)));
    expect([...all].sort()).toEqual([...new Set([...S3_SOURCE, ...TAGGING, ...S3_DEST, ...GLUE])].sort());
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
  });

  it('scopes every action to the source prefix, the destination prefix or the Glue catalog/database/table', () => {
    for (const s of policy.Statement) for (const r of list(s.Resource)) expect(RESOURCES.has(r), `resource ${r}`).toBe(true);
    expect(actionsOn('arn:aws:s3:::${SourceBucket}')).toEqual(['s3:ListBucket']);
    expect(actionsOn('arn:aws:s3:::${SourceBucket}/${SourcePrefix}*').sort()).toEqual(['s3:GetObject', ...TAGGING].sort());
    expect(actionsOn('arn:aws:s3:::${DestBucket}')).toEqual(['s3:ListBucket']);
    expect(actionsOn('arn:aws:s3:::${DestBucket}/${DestPrefix}*').sort()).toEqual(S3_DEST.filter((a) => a !== 's3:ListBucket').sort());
    // Nothing on the source can write or delete.
    expect(actionsOn('arn:aws:s3:::${SourceBucket}/${SourcePrefix}*')).not.toContain('s3:PutObject');
    // Glue: catalog, database and table ARNs for the table and partition actions.
    const table = policy.Statement.find((s) => list(s.Action).includes('glue:BatchCreatePartition'))!;
    expect(list(table.Resource).sort()).toEqual([...RESOURCES].filter((r) => r.startsWith('arn:aws:glue')).sort());
    expect(GLUE.every((a) => actionsOn('arn:aws:glue:${Region}:${AccountId}:catalog').includes(a))).toBe(true);
  });

  it('lists buckets only under the prefixes (s3:prefix condition)', () => {
    const listing = policy.Statement.filter((s) => list(s.Action).includes('s3:ListBucket'));
    expect(listing).toHaveLength(2);
    for (const s of listing) {
      expect(list(s.Action)).toEqual(['s3:ListBucket']);
      const prefix = list(s.Resource)[0] === 'arn:aws:s3:::${SourceBucket}' ? '${SourcePrefix}*' : '${DestPrefix}*';
      expect(s.Condition).toEqual({ StringLike: { 's3:prefix': [prefix] } });
    }
  });

  it('keeps the --tag-converted permissions in their own optional statement', () => {
    const tagging = policy.Statement.filter((s) => list(s.Action).some((a) => TAGGING.includes(a)));
    expect(tagging).toHaveLength(1);
    expect(list(tagging[0]!.Action).sort()).toEqual([...TAGGING].sort());
    expect(tagging[0]!.Sid).toMatch(/^Optional/);
    expect(text(FILES.docs)).toContain(tagging[0]!.Sid!);
  });

  it('uses only documented placeholders, and is a valid policy once they are filled in', () => {
    const docs = text(FILES.docs);
    for (const name of PLACEHOLDERS) expect(docs, `docs explain \${${name}}`).toContain(`\`\${${name}}\``);
    const filled = JSON.parse(fill(text(FILES.policy))) as { Statement: Statement[] };
    expect(JSON.stringify(filled)).not.toContain('${');
    expect(list(filled.Statement[1]!.Resource)).toEqual(['arn:aws:s3:::my-log-bucket/logs/*']);
  });

  it('is what the Lambda template grants its function (same statements, same actions)', () => {
    const template = text(FILES.lambdaTemplate);
    const granted = new Set([...template.matchAll(/\b(?:s3|glue):[A-Z][A-Za-z]+\b/g)].map((m) => m[0]));
    expect([...granted].sort()).toEqual([...new Set(policy.Statement.flatMap((s) => list(s.Action)))].sort());
    for (const s of policy.Statement) expect(template).toContain(`Sid: ${s.Sid}`);
    expect(template).toContain('"s3:prefix": [!Sub "${SourcePrefix}*"]');
    expect(template).toContain('"s3:prefix": [!Sub "${DestPrefix}*"]');
  });
});

// ---- every artefact's flags and settings are the CLI's ---------------------------------------------

describe('flags and S3LOGS_* settings in the artefacts', () => {
  it('every --flag an artefact passes to s3logs is one the real CLI accepts', async () => {
    const cron = /cli\.js (\w+)((?: +(?!>)\S+)*)/.exec(text(FILES.crontab))!;
    await expectKnownFlags(FILES.crontab, cron[1]!, cron[2]!.trim().split(/ +/));
    for (const path of [FILES.cronjob, FILES.indexed]) {
      const job = yamlDocuments(text(path)).find((d) => /^kind: (CronJob|Job)$/m.test(d))!;
      const command = flowArray(job, 'command');
      await expectKnownFlags(path, command[2]!, [...command, ...flowArray(job, 'args')]);
    }
    const definition = JSON.parse(text(FILES.batchDefinition)) as { containerProperties: { command: string[] } };
    await expectKnownFlags(FILES.batchDefinition, definition.containerProperties.command[2]!, definition.containerProperties.command);

    // Command lines in the docs' code blocks (continuation lines joined).
    const blocks = [...text(FILES.docs).matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
    let found = 0;
    for (const line of blocks.join('\n').split('\n')) {
      for (const m of line.matchAll(/(?:cli\.js|\bs3logs) (\w+)([^|&;>]*)/g)) {
        found++;
        await expectKnownFlags(`${FILES.docs}: ${line.trim()}`, m[1]!, m[2]!.trim().split(/\s+/));
      }
    }
    expect(found).toBeGreaterThanOrEqual(3);
  });

  it('the check itself rejects flags the CLI does not have', async () => {
    await expect(expectKnownFlags('probe', 'nightly', ['--date', '2024-01-01'])).rejects.toThrow(/--date is not a flag/);
    await expect(expectKnownFlags('probe', 'backfill', ['--lookback-days', '3'])).rejects.toThrow(/--lookback-days is not a flag/);
  });

  it('every S3LOGS_* variable named anywhere is a setting of the job that reads it', () => {
    for (const path of Object.values(FILES)) {
      for (const [name] of text(path).matchAll(/S3LOGS_[A-Z0-9_]+/g)) {
        expect(NIGHTLY_ENV.has(name) || BACKFILL_ENV.has(name), `${path}: ${name}`).toBe(true);
      }
    }
    // The ConfigMap feeds the nightly CronJob and the backfill Indexed Job alike.
    const data = mapping(yamlDocuments(text(FILES.cronjob)).find((d) => /^kind: ConfigMap$/m.test(d))!, 'data');
    for (const name of Object.keys(data)) expect(NIGHTLY_ENV.has(name) && BACKFILL_ENV.has(name), `ConfigMap ${name}`).toBe(true);
    const definition = JSON.parse(text(FILES.batchDefinition)) as { containerProperties: { environment: Array<{ name: string }> } };
    for (const { name } of definition.containerProperties.environment)
      if (name.startsWith('S3LOGS_')) expect(BACKFILL_ENV.has(name), name).toBe(true);
  });

  it('placeholders are the documented ones', () => {
    for (const path of [FILES.crontab, FILES.cronjob, FILES.indexed, FILES.batchDefinition, FILES.policy]) {
      for (const [, name] of text(path).matchAll(/\$\{([^}]+)\}/g))
        expect(PLACEHOLDERS as readonly string[], `${path}: \${${name}}`).toContain(name);
    }
  });
});

// ---- crontab ---------------------------------------------------------------------------------------

describe('jobs/crontab', () => {
  const lines = text(FILES.crontab)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const jobLine = lines.filter((l) => !/^[A-Z_]+=/.test(l));

  it('is one job line at 02:30 UTC, behind flock, appending to a log file', () => {
    expect(lines).toContain('CRON_TZ=UTC');
    expect(jobLine).toHaveLength(1);
    const fields = jobLine[0]!.split(/\s+/);
    expect(fields.slice(0, 5)).toEqual(['30', '2', '*', '*', '*']);
    expect(jobLine[0]).toMatch(/ flock -n \S+ node dist\/src\/cli\.js nightly /);
    expect(jobLine[0]).toMatch(/>>\s*\S+\.log 2>&1$/);
    // % ends the command in a crontab line.
    expect(jobLine[0]).not.toContain('%');
  });

  it('runs as written: converts yesterday, logs JSON lines; a second run while one holds the lock does nothing', async () => {
    const dir = join(work, 'cron');
    await mkdir(dir, { recursive: true });
    const lock = join(dir, 'nightly.lock');
    const log = join(dir, 'nightly.log');
    const config = join(dir, 'nightly.json');
    const lake = join(dir, 'lake');
    await writeFile(config, JSON.stringify({ source: join(yesterdayRaw, 'logs/'), dest: lake, catalog: 'local' }));
    let command = jobLine[0]!.split(/\s+/).slice(5).join(' ');
    for (const [from, to] of [
      ['/opt/s3logs', ROOT],
      ['/var/lock/s3logs-nightly.lock', lock],
      ['/etc/s3logs/nightly.json', config],
      ['/var/log/s3logs/nightly.log', log],
    ] as const) {
      expect(command, `the crontab line names ${from}`).toContain(from);
      command = command.replace(from, to);
    }
    const path = lines.find((l) => l.startsWith('PATH='))!.slice('PATH='.length);
    const env = cleanEnv({ PATH: [dirname(process.execPath), path].join(delimiter), SHELL: '/bin/sh' });

    const first = await run('/bin/sh', ['-c', command], env);
    expect(first.code, await readFile(log, 'utf8').catch(() => first.stderr)).toBe(0);
    const records = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = records.find((r) => r.msg === 'job finished')!;
    expect(finished).toMatchObject({ job: 'nightly', ok: true, rows: yesterdayRows, exitCode: 0 });
    expect(records.filter((r) => r.msg === 'key date done')).toHaveLength(4); // yesterday + --lookback-days 3
    expect(await tableRows(lake)).toBe(yesterdayRows);

    // Hold the lock as a still-running night would, then fire the line again.
    // Its own process group, so flock and its sleep end together.
    const holder: ChildProcess = spawn('flock', [lock, 'sleep', '60'], { stdio: 'ignore', detached: true });
    try {
      for (let i = 0; i < 100 && (await run('flock', ['-n', lock, 'true'], env)).code === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await run('flock', ['-n', lock, 'true'], env)).code).toBe(1);
      const sizeBefore = (await stat(log)).size;
      const second = await run('/bin/sh', ['-c', command], env);
      expect(second.code).toBe(1);
      expect((await stat(log)).size).toBe(sizeBefore);
    } finally {
      if (holder.pid !== undefined) process.kill(-holder.pid, 'SIGTERM');
    }
  });
});

// ---- Kubernetes ------------------------------------------------------------------------------------

describe('jobs/k8s', () => {
  const cronDocs = yamlDocuments(text(FILES.cronjob));
  const byKind = (kind: string) => cronDocs.find((d) => new RegExp(`^kind: ${kind}$`, 'm').test(d))!;
  const configMap = byKind('ConfigMap');
  const cronJob = byKind('CronJob');
  const indexed = yamlDocuments(text(FILES.indexed));

  it('cronjob.yaml: ConfigMap, ServiceAccount and a Forbid CronJob at 02:30 UTC running the nightly in 768Mi', () => {
    expectCleanYaml(FILES.cronjob);
    expect(cronDocs.map((d) => [scalar(d, 'apiVersion'), scalar(d, 'kind')])).toEqual([
      ['v1', 'ConfigMap'],
      ['v1', 'ServiceAccount'],
      ['batch/v1', 'CronJob'],
    ]);
    expect(scalar(cronJob, 'schedule')).toBe('"30 2 * * *"');
    expect(scalar(cronJob, 'timeZone')).toBe('"Etc/UTC"');
    expect(scalar(cronJob, 'concurrencyPolicy')).toBe('Forbid');
    expect(scalar(cronJob, 'restartPolicy')).toBe('Never');
    expect(scalar(cronJob, 'enableServiceLinks')).toBe('false');
    expect(flowArray(cronJob, 'command')).toEqual(['node', 'dist/src/cli.js', 'nightly']);
    expect(mapping(cronJob, 'requests')).toMatchObject({ memory: '768Mi' });
    expect(mapping(cronJob, 'limits')).toEqual({ memory: '768Mi' });
    expectImagePlaceholder(cronJob, FILES.cronjob);
    // References resolve within the file.
    expect(cronJob).toMatch(new RegExp(`configMapRef:\\s*\\n\\s*name: ${scalar(configMap, 'name')}\\n`));
    expect(scalar(cronJob, 'serviceAccountName')).toBe(scalar(byKind('ServiceAccount'), 'name'));
    expect(scalar(cronJob, 'containerName')).toBe(scalar(cronJob, '- name'));
    expect(scalar(cronJob, 'values')).toBe('[2]');
  });

  it('backfill-indexed-job.yaml: an Indexed Job whose completions equal its --shards', () => {
    expectCleanYaml(FILES.indexed);
    expect(indexed).toHaveLength(1);
    const job = indexed[0]!;
    expect([scalar(job, 'apiVersion'), scalar(job, 'kind')]).toEqual(['batch/v1', 'Job']);
    expect(scalar(job, 'completionMode')).toBe('Indexed');
    const args = flowArray(job, 'args');
    const shards = args[args.indexOf('--shards') + 1];
    expect(scalar(job, 'completions')).toBe(shards);
    expect(Number(scalar(job, 'parallelism'))).toBeLessThanOrEqual(Number(shards));
    expect(scalar(job, 'restartPolicy')).toBe('Never');
    expect(scalar(job, 'enableServiceLinks')).toBe('false');
    expect(flowArray(job, 'command')).toEqual(['node', 'dist/src/cli.js', 'backfill']);
    expect(scalar(job, 'containerName')).toBe(scalar(job, '- name'));
    // Shares the CronJob file's settings and service account.
    expect(job).toContain(`name: ${scalar(configMap, 'name')}`);
    expect(scalar(job, 'serviceAccountName')).toBe('s3logs');
    expectImagePlaceholder(job, FILES.indexed);
  });

  /** The ConfigMap's variables with local stand-ins for the placeholders' S3 locations. */
  function settingsEnv(source: string, dest: string, catalog: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(mapping(configMap, 'data'))) env[name] = fill(value);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['S3LOGS_SOURCE', 'S3LOGS_DEST', 'S3LOGS_CATALOG']));
    return { ...env, S3LOGS_SOURCE: source, S3LOGS_DEST: dest, S3LOGS_CATALOG: catalog };
  }

  it("the CronJob's container runs the nightly with the ConfigMap's settings", async () => {
    const lake = join(work, 'k8s-nightly');
    const r = await runContainer([...flowArray(cronJob, 'command'), ...flowArray(cronJob, 'args')], {
      ...settingsEnv(join(yesterdayRaw, 'logs/'), lake, 'local'),
      S3LOGS_JSON: 'true',
      S3LOGS_QUIET: 'true',
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { rows: number; keyDates: Array<{ keyDate: string; status: string }> };
    expect(summary.rows).toBe(yesterdayRows);
    expect(summary.keyDates).toHaveLength(4);
    expect(await tableRows(lake)).toBe(yesterdayRows);
  });

  it('the Indexed Job: one process per completion index gives exactly the rows of one worker, each date published once', async () => {
    const job = indexed[0]!;
    const args = flowArray(job, 'args');
    const from = args[args.indexOf('--from') + 1]!;
    const to = args[args.indexOf('--to') + 1]!;
    const raw = join(work, 'raw-indexed');
    // Two key dates inside the Job's range; the rest of the range is empty.
    const dates = [from, to];
    for (const [i, d] of dates.entries()) await writeKeyDateToDirectory(raw, { ...gen(d, 20 + i), objects: 11 });
    const lake = join(work, 'k8s-indexed');
    const completions = Number(scalar(job, 'completions'));
    const results = await Promise.all(
      Array.from({ length: completions }, (_, index) =>
        runContainer([...flowArray(job, 'command'), ...args], {
          ...settingsEnv(join(raw, 'logs/'), lake, 'none'),
          S3LOGS_JSON: 'true',
          S3LOGS_QUIET: 'true',
          JOB_COMPLETION_INDEX: String(index),
        }),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const summaries = results.map(
      (r) => JSON.parse(r.stdout) as { keyDates: Array<{ keyDate: string; status: string; filesWritten: number; note?: string }> },
    );
    for (const d of dates) {
      const days = summaries.map((s) => s.keyDates.find((k) => k.keyDate === d)!);
      // Published once, by one worker; the others staged, or finished with it and say who published.
      expect(
        days.filter((k) => k.status === 'converted' && k.filesWritten > 0),
        d,
      ).toHaveLength(1);
      for (const k of days.filter((x) => !(x.status === 'converted' && x.filesWritten > 0))) {
        expect(k.status === 'staged' || /^published with the other shards by run /.test(k.note ?? ''), `${d}: ${JSON.stringify(k)}`).toBe(
          true,
        );
      }
    }
    const reference = join(work, 'k8s-indexed-reference');
    expect(
      (
        await runBackfill(
          ['--source', join(raw, 'logs/'), '--dest', reference, '--from', from, '--to', to, '--catalog', 'none', '--quiet'],
          {},
        )
      ).exitCode,
    ).toBe(0);
    expect((await readTable(lake)).map(rowKey).sort()).toEqual((await readTable(reference)).map(rowKey).sort());
  }, 180_000);

  it("the documented one-Job-per-date loop rewrites the Job's name and range", async () => {
    const loop = /for d in [^\n]+\n\s*(sed [^\n]+\\\n[^\n]+?) \| kubectl/.exec(text(FILES.docs))?.[1];
    expect(loop).toBeDefined();
    const r = await run('/bin/sh', ['-c', `d=2024-03-05; ${loop!.replace(/\\\n\s*/, ' ')}`], cleanEnv({}));
    expect(r.code, r.stderr).toBe(0);
    expect(scalar(r.stdout, 'name')).toBe('s3logs-backfill-2024-03-05');
    const args = flowArray(r.stdout, 'args');
    expect(args.slice(0, 4)).toEqual(['--from', '2024-03-05', '--to', '2024-03-05']);
  });
});

// ---- AWS Batch -------------------------------------------------------------------------------------

describe('jobs/aws-batch', () => {
  interface Definition {
    jobDefinitionName: string;
    type: string;
    parameters: Record<string, string>;
    retryStrategy: { attempts: number; evaluateOnExit: Array<{ onExitCode?: string; onReason?: string; action: string }> };
    containerProperties: {
      image: string;
      command: string[];
      environment: Array<{ name: string; value: string }>;
      jobRoleArn: string;
      resourceRequirements: Array<{ type: string; value: string }>;
    };
  }
  const definition = JSON.parse(text(FILES.batchDefinition)) as Definition;

  /** A stub `aws` on PATH that records its arguments, one per line, and prints a job id. */
  async function stubAws(): Promise<{ env: NodeJS.ProcessEnv; calls: () => Promise<string[]> }> {
    const bin = join(work, `aws-stub-${Math.random().toString(36).slice(2)}`);
    await mkdir(bin, { recursive: true });
    const record = join(bin, 'calls.txt');
    await writeFile(join(bin, 'aws'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\necho 8f1c2d3e-stub-job-id\n`);
    await chmod(join(bin, 'aws'), 0o755);
    return {
      env: cleanEnv({ PATH: [bin, process.env.PATH ?? ''].join(delimiter) }),
      calls: async () => (existsSync(record) ? (await readFile(record, 'utf8')).trim().split('\n') : []),
    };
  }

  it('job-definition.json is a container job running the backfill with --shards from its parameters', () => {
    expect(definition.type).toBe('container');
    expect(definition.containerProperties.image).toBe(IMAGE_PLACEHOLDER);
    expect(definition.containerProperties.command.slice(0, 3)).toEqual(['node', 'dist/src/cli.js', 'backfill']);
    const refs = definition.containerProperties.command.filter((t) => t.startsWith('Ref::')).map((t) => t.slice(5));
    expect(refs.sort()).toEqual(['from', 'parallelDates', 'shards', 'to']);
    // No default range or shard count: a submission without them must fail, not convert a stale range.
    expect(Object.keys(definition.parameters)).toEqual(['parallelDates']);
    expect(definition.retryStrategy.evaluateOnExit[0]).toEqual({ onExitCode: '2', action: 'EXIT' });
    expect(definition.containerProperties.jobRoleArn).toMatch(/^arn:aws:iam::\$\{AccountId\}:role\//);
  });

  it('submit-array-job.sh submits an array whose size is the --shards it passes', async () => {
    const { env, calls } = await stubAws();
    const r = await run('bash', [join(ROOT, FILES.batchSubmit), '2024-02-03', '2024-02-04', '3'], { ...env, JOB_QUEUE: 'fargate-q' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('8f1c2d3e-stub-job-id');
    const args = await calls();
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.slice(0, 2)).toEqual(['batch', 'submit-job']);
    expect(value('--array-properties')).toBe('size=3');
    expect(value('--job-definition')).toBe(definition.jobDefinitionName);
    expect(value('--job-queue')).toBe('fargate-q');
    expect(value('--parameters')).toBe('from=2024-02-03,to=2024-02-04,shards=3,parallelDates=2');
  });

  it('submit-array-job.sh refuses bad input without calling aws', async () => {
    for (const argv of [['2024-02-04', '2024-02-03', '3'], ['2024-02-03', '2024-02-04', '1'], ['2024-02-03', 'tomorrow'], ['2024-02-03']]) {
      const { env, calls } = await stubAws();
      const r = await run('bash', [join(ROOT, FILES.batchSubmit), ...argv], env);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(await calls()).toEqual([]);
    }
  });

  it('the submitted array, one process per AWS_BATCH_JOB_ARRAY_INDEX, converts the range exactly once', async () => {
    const { env, calls } = await stubAws();
    const dates = ['2024-02-03', '2024-02-04'];
    expect((await run('bash', [join(ROOT, FILES.batchSubmit), ...dates, '3'], env)).code).toBe(0);
    const args = await calls();
    const size = Number(args[args.indexOf('--array-properties') + 1]!.replace('size=', ''));
    const parameters = {
      ...definition.parameters,
      ...Object.fromEntries(args[args.indexOf('--parameters') + 1]!.split(',').map((kv) => kv.split('=') as [string, string])),
    };
    const command = definition.containerProperties.command.map((t) => (t.startsWith('Ref::') ? parameters[t.slice(5)]! : t));
    expect(command.join(' ')).not.toContain('Ref::');

    const raw = join(work, 'raw-batch');
    for (const [i, d] of dates.entries()) await writeKeyDateToDirectory(raw, { ...gen(d, 30 + i), objects: 9 });
    const lake = join(work, 'batch-lake');
    const containerEnv = Object.fromEntries(definition.containerProperties.environment.map((e) => [e.name, fill(e.value)]));
    const results = await Promise.all(
      Array.from({ length: size }, (_, index) =>
        runContainer(command, {
          ...containerEnv,
          S3LOGS_SOURCE: join(raw, 'logs/'),
          S3LOGS_DEST: lake,
          S3LOGS_CATALOG: 'none',
          S3LOGS_QUIET: 'true',
          AWS_BATCH_JOB_ARRAY_INDEX: String(index),
        }),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const reference = join(work, 'batch-reference');
    expect(
      (
        await runBackfill(
          ['--source', join(raw, 'logs/'), '--dest', reference, '--from', dates[0]!, '--to', dates[1]!, '--catalog', 'none', '--quiet'],
          {},
        )
      ).exitCode,
    ).toBe(0);
    expect((await readTable(lake)).map(rowKey).sort()).toEqual((await readTable(reference)).map(rowKey).sort());
  }, 120_000);
});

// ---- Lambda ----------------------------------------------------------------------------------------

describe('jobs/lambda', () => {
  const template = text(FILES.lambdaTemplate);
  const section = (name: string) => {
    const m = new RegExp(`^${name}:\\n([\\s\\S]*?)(?=^\\S|(?![\\s\\S]))`, 'm').exec(template);
    expect(m, `${name}: section`).not.toBeNull();
    return m![1]!;
  };
  const parameters = [...section('Parameters').matchAll(/^ {2}(\w+):$/gm)].map((m) => m[1]!);
  const resources = Object.fromEntries(
    [...section('Resources').matchAll(/^ {2}(\w+):\n(?:\s+#.*\n|\s+DependsOn:.*\n)*\s+Type: (\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const conditions = [...section('Conditions').matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]!);
  const variables = mapping(template, 'Variables');

  it('template.yaml: a 1024 MB / 900 s function, its role, and a UTC schedule at 02:30 targeting it', () => {
    expectCleanYaml(FILES.lambdaTemplate);
    expect(template).toMatch(/^AWSTemplateFormatVersion: "2010-09-09"$/m);
    expect(resources).toMatchObject({
      NightlyFunction: 'AWS::Lambda::Function',
      FunctionRole: 'AWS::IAM::Role',
      NightlySchedule: 'AWS::Scheduler::Schedule',
      SchedulerRole: 'AWS::IAM::Role',
      NightlyInvokeConfig: 'AWS::Lambda::EventInvokeConfig',
    });
    expect(scalar(template, 'MemorySize')).toBe('1024');
    expect(scalar(template, 'Timeout')).toBe('900');
    expect(scalar(template, 'ScheduleExpression')).toBe('cron(30 2 * * ? *)');
    expect(scalar(template, 'ScheduleExpressionTimezone')).toBe('UTC');
    // Unquoted OFF is a YAML 1.1 boolean; Scheduler wants the string.
    expect(scalar(template, 'Mode')).toBe('"OFF"');
    expect(section('Parameters')).toMatch(/NodeRuntime:[\s\S]*?Default: nodejs2\d\.x/);
    expect(scalar(template, 'Runtime')).toBe('!Ref NodeRuntime');
    expect(template).toMatch(/Target:\n\s+Arn: !GetAtt NightlyFunction\.Arn\n\s+RoleArn: !GetAtt SchedulerRole\.Arn/);
    expect(scalar(template, 'Role')).toBe('!GetAtt FunctionRole.Arn');
    expect(template).toMatch(/Principal:\n\s+Service: lambda\.amazonaws\.com/);
    expect(template).toMatch(/Principal:\n\s+Service: scheduler\.amazonaws\.com/);
    expect(template).toMatch(/Action: lambda:InvokeFunction\n\s+Resource: !GetAtt NightlyFunction\.Arn/);
  });

  it('template.yaml: every !Ref, !GetAtt, ${...} and condition resolves', () => {
    for (const [, name] of template.matchAll(/\$\{([\w:]+)\}/g)) {
      if (!name!.startsWith('AWS::')) expect(parameters, `\${${name}}`).toContain(name);
    }
    for (const [, name] of template.matchAll(/!Ref ([\w:]+)/g)) {
      if (!name!.startsWith('AWS::')) expect([...parameters, ...Object.keys(resources)], `!Ref ${name}`).toContain(name);
    }
    for (const [, name] of template.matchAll(/!GetAtt (\w+)\./g)) expect(Object.keys(resources), `!GetAtt ${name}`).toContain(name);
    for (const [, name] of template.matchAll(/- !If\n\s+- (\w+)/g)) expect(conditions, `!If ${name}`).toContain(name);
    expect(parameters).toEqual(expect.arrayContaining(PLACEHOLDERS.filter((p) => p !== 'Region' && p !== 'AccountId')));
  });

  it('template.yaml: the handler it names is built, and its settings are nightly settings', async () => {
    const [file, exported] = scalar(template, 'Handler')!.split(/\.(?=\w+$)/) as [string, string];
    expect(file).toBe('dist/jobs/lambda/handler');
    const built = (await import(pathToFileURL(join(ROOT, `${file}.js`)).href)) as Record<string, unknown>;
    expect(typeof built[exported]).toBe('function');
    expect(Object.keys(variables).length).toBeGreaterThanOrEqual(4);
    for (const name of Object.keys(variables)) expect(NIGHTLY_ENV.has(name), name).toBe(true);
    // The docs' build steps produce the directory the template packages.
    const code = scalar(template, 'Code')!;
    expect(join(dirname(FILES.lambdaTemplate), code)).toBe('out/lambda-package');
    expect(text(FILES.docs)).toContain('cp -r dist package.json package-lock.json out/lambda-package/');
  });

  /** Runs the handler with the template's variables, given values, as Lambda would. */
  async function invoke(values: Record<string, string>): Promise<Awaited<ReturnType<typeof handler>>> {
    for (const name of Object.keys(variables)) expect(values, `a value for ${name}`).toHaveProperty(name);
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('S3LOGS_')) delete process.env[k];
    Object.assign(process.env, values, { S3LOGS_QUIET: 'true' });
    try {
      return await handler({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler' });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }
  const lambdaEnv = (dest: string): Record<string, string> => ({
    S3LOGS_SOURCE: join(yesterdayRaw, 'logs/'),
    S3LOGS_DEST: dest,
    S3LOGS_CATALOG: 'local',
    S3LOGS_DATABASE: 's3_access_logs',
    S3LOGS_TABLE: 'access_logs',
    S3LOGS_REGION: 'us-east-1',
    S3LOGS_LOOKBACK_DAYS: '3',
    S3LOGS_TAG_CONVERTED: 'false',
  });

  it('handler: converts yesterday from the environment and returns the summary', async () => {
    const lake = join(work, 'lambda-lake');
    const summary = await invoke(lambdaEnv(lake));
    expect(summary.ok).toBe(true);
    expect(summary.rows).toBe(yesterdayRows);
    expect(summary.lines).toBe(summary.rows + summary.rejects);
    expect(summary.keyDates.find((k) => k.keyDate === yesterday)).toMatchObject({ status: 'converted', rows: yesterdayRows });
    expect(await tableRows(lake)).toBe(yesterdayRows);
    // A second night: nothing changed, nothing converted, still a success.
    const again = await invoke(lambdaEnv(lake));
    expect(again.keyDates.find((k) => k.keyDate === yesterday)!.status).toBe('unchanged');
    expect(JSON.parse(JSON.stringify(again))).toEqual(again);
  });

  it('handler: throws on an invalid setting, and when a key date fails', async () => {
    await expect(invoke({ ...lambdaEnv(join(work, 'lambda-bad')), S3LOGS_LOOKBACK_DAYS: 'three' })).rejects.toThrow(
      /--lookback-days must be a whole number/,
    );
    await expect(invoke({ ...lambdaEnv(join(work, 'lambda-bad')), S3LOGS_CATALOG: 'hive' })).rejects.toThrow(/--catalog/);
    // Another live run holds yesterday's lock: that key date fails, the invocation must fail.
    const lake = join(work, 'lambda-locked');
    const lock = join(lake, ...lakeKeys.publishLock(yesterday).split('/'));
    await mkdir(dirname(lock), { recursive: true });
    await writeFile(lock, heldLock(600_000, { token: 't', runId: 'other-run', host: 'another-host' }));
    // Only a lock another live run holds: exit 75 (try again later).
    await expect(invoke(lambdaEnv(lake))).rejects.toThrow(new RegExp(`exited with 75; failed key dates: ${yesterday} \\(`));
  });
});
