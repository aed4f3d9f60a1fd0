import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import { ARROW_SCHEMA } from '../src/schema/arrow.js';
import { TABLE_COLUMNS } from '../src/schema/table.js';
import { schemaTable } from '../scripts/schemaDocs.js';

describe('schema declared once', () => {
  it('README shows the table rendered from schemas/ (run node dist/scripts/schemaDocs.js to refresh)', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- schema-table:start -->\n([\s\S]*?)\n<!-- schema-table:end -->/.exec(readme)?.[1];
    expect(block).toBe(schemaTable());
  });

  it('Arrow schema and catalog columns list every declared column in order, with the declared types', () => {
    expect(ARROW_SCHEMA.fields.map((f) => f.name)).toEqual(ACCESS_LOG_COLUMNS.map((c) => c.name));
    expect(TABLE_COLUMNS.map((c) => c.name)).toEqual(ACCESS_LOG_COLUMNS.map((c) => c.name));
    const typeOf = (name: string) => TABLE_COLUMNS.find((c) => c.name === name)?.type;
    expect([typeOf('requestdatetime'), typeOf('httpstatus'), typeOf('bytessent'), typeOf('aclrequired'), typeOf('key')]).toEqual([
      'timestamp',
      'int',
      'bigint',
      'boolean',
      'string',
    ]);
    expect(String(ARROW_SCHEMA.fields.find((f) => f.name === 'requestdatetime')?.type)).toBe('Timestamp<MILLISECOND, UTC>');
  });

  it('declares the 27 AWS fields in AWS order with AWS Athena names', () => {
    const fields = ACCESS_LOG_COLUMNS.filter((c) => c.source === 'field');
    expect(fields.map((c) => c.position)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    expect(fields.map((c) => c.name).join(' ')).toBe(
      'bucketowner bucket_name requestdatetime remoteip requester requestid operation key request_uri httpstatus errorcode bytessent objectsize totaltime turnaroundtime referrer useragent versionid hostid sigv ciphersuite authtype endpoint tlsversion accesspointarn aclrequired sourceregion',
    );
  });
});
