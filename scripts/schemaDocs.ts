/**
 * Renders the column table of README.md from the schema declaration (schemas/accessLog.ts).
 * `node dist/scripts/schemaDocs.js` prints it; test/schemaDocs.test.ts fails when README drifts.
 */
import { pathToFileURL } from 'node:url';
import { ACCESS_LOG_COLUMNS, PARTITION_KEYS } from '../schemas/accessLog.js';
import { GLUE_TYPE } from '../src/schema/table.js';

export function schemaTable(): string {
  const rows = ACCESS_LOG_COLUMNS.map((c) => {
    const from = c.source === 'field' ? `field ${c.position} (${c.awsName})` : 'derived';
    return `| \`${c.name}\` | ${GLUE_TYPE[c.kind]} | ${from} | ${c.description} |`;
  });
  const partitions = PARTITION_KEYS.map((p) => `| \`${p.name}\` | string (partition) | path | ${p.description} |`);
  return ['| column | type | from | description |', '| --- | --- | --- | --- |', ...rows, ...partitions].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(schemaTable());
