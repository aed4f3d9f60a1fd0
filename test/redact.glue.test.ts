/**
 * The Glue table's `s3logs.redact` parameter (against the stand-in with the real SDK): the setting on
 * create, narrowed to what holds for every registered row, `none` for a table from before the record,
 * and kept by projection updates.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { GlueCatalog } from '../src/catalog/glue.js';
import { tableDefinition } from '../src/schema/table.js';
import { startGlueStandIn, type GlueStandIn } from './helpers/glueStandIn.js';

const DEF = tableDefinition('s3://lake/logs/', 'logs', 'access');

let standIn: GlueStandIn;
beforeEach(async () => {
  standIn = await startGlueStandIn();
});
afterEach(async () => {
  await standIn.close();
});

const glue = (projection = false) =>
  new GlueCatalog({
    database: DEF.database,
    table: DEF.table,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    aws: { region: 'us-east-1', maxAttempts: 1, endpointUrl: standIn.endpoint },
    ...(projection ? { projection: true } : {}),
  });
const params = (): Record<string, string> => standIn.state.tables.get('logs.access')!.input.Parameters;

it('records the setting and only ever narrows it', async () => {
  const catalog = glue(true);
  await catalog.ensureTable({ ...DEF, redact: ['ip', 'presigned'] });
  expect(params()['s3logs.redact']).toBe('ip,presigned');
  const updates = standIn.count('UpdateTable');
  await catalog.ensureTable({ ...DEF, redact: ['presigned', 'ip'] });
  expect(standIn.count('UpdateTable')).toBe(updates);
  await catalog.registerPartitions('2024-03-10', [
    { bucket: 'b', dt: '2024-03-10', location: 's3://lake/logs/bucket=b/dt=2024-03-10/', files: [], rows: 1 },
  ]);
  expect(params()['s3logs.redact']).toBe('ip,presigned');
  await catalog.ensureTable({ ...DEF, redact: ['presigned'] });
  expect(params()['s3logs.redact']).toBe('presigned');
  await catalog.ensureTable({ ...DEF, redact: ['ip', 'presigned'] });
  expect(params()['s3logs.redact']).toBe('presigned');
  await catalog.ensureTable({ ...DEF, redact: [] });
  expect(params()['s3logs.redact']).toBe('none');
});

it('a table created before the record holds rows as logged', async () => {
  await glue().ensureTable(DEF);
  expect(params()['s3logs.redact']).toBeUndefined();
  await glue().ensureTable({ ...DEF, redact: ['presigned'] });
  expect(params()['s3logs.redact']).toBe('none');
});
