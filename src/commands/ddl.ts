/** `s3logs ddl`: Athena CREATE EXTERNAL TABLE or DuckDB view for the output, from the schema declaration. */
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { athenaDdl, duckdbView } from '../schema/ddl.js';

export async function runDdl(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('ddl', argv);
  const dest = values.text(FLAGS.ddlDest);
  if (!dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const location = dest.endsWith('/') ? dest : dest + '/';
  const database = values.optional(FLAGS.ddlDatabase);
  const table = values.optional(FLAGS.ddlTable);
  const sql = values.flag(FLAGS.duckdb)
    ? duckdbView({ location, ...(table ? { view: table } : {}) })
    : athenaDdl({ location, ...(database ? { database } : {}), ...(table ? { table } : {}), ...(values.flag(FLAGS.ddlProjection) ? { projection: true } : {}) });
  process.stdout.write(sql.endsWith('\n') ? sql : sql + '\n');
  return 0;
}
