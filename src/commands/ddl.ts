/** `s3logs ddl`: Athena CREATE EXTERNAL TABLE or DuckDB view for the output, from the schema declaration. */
import { parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { athenaDdl, duckdbView } from '../schema/ddl.js';

export async function runDdl(argv: string[]): Promise<number> {
  const values = parseFlags(
    argv,
    { dest: { type: 'string' }, database: { type: 'string' }, table: { type: 'string' }, projection: { type: 'boolean' }, duckdb: { type: 'boolean' } },
    'ddl',
  );
  if (!values.dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const location = values.dest.endsWith('/') ? values.dest : values.dest + '/';
  const sql = values.duckdb
    ? duckdbView({ location, ...(values.table ? { view: values.table } : {}) })
    : athenaDdl({ location, ...(values.database ? { database: values.database } : {}), ...(values.table ? { table: values.table } : {}), ...(values.projection ? { projection: true } : {}) });
  process.stdout.write(sql.endsWith('\n') ? sql : sql + '\n');
  return 0;
}
