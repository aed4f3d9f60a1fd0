/**
 * What Athena's partition projection requires of a table's properties, as its documentation states it
 * (no Athena or Trino grammar check runs here, so this is the check):
 * - https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html: `projection.enabled`
 *   `true`; every partition column needs `projection.<col>.type` (enum, integer, date or injected).
 * - https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html: enum needs
 *   `values`, a comma-separated list in which "any white space is considered part of an enum value";
 *   date needs `range` (two comma-separated values, each a date in `format` or NOW with an optional
 *   `+/-<n><UNIT>` offset) and `format` (a Java date pattern); `interval` is a positive integer and
 *   `interval.unit` one of YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS.
 * - https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html: an
 *   injected column makes every query without a static `WHERE col = …` fail (CONSTRAINT_VIOLATION).
 * - re:Post "athena-error-invalid-table-property": `storage.location.template` must hold a `${col}`
 *   placeholder for every partition column.
 * Returns the problems found; [] means the properties follow the docs.
 */
const UNITS = ['YEARS', 'MONTHS', 'WEEKS', 'DAYS', 'HOURS', 'MINUTES', 'SECONDS'];
const NOW = /^NOW([+-]\d+(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?))?$/;

export function athenaProjectionProblems(
  props: Record<string, string>,
  partitionColumns: readonly string[],
  opts: { allowInjected?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (props['projection.enabled']?.trim().toLowerCase() !== 'true') problems.push('projection.enabled is not true');
  const template = props['storage.location.template'];
  if (!template?.startsWith('s3://')) problems.push(`storage.location.template ${JSON.stringify(template)} is not an s3:// location`);
  for (const col of partitionColumns) {
    if (!template?.includes(`\${${col}}`)) problems.push(`storage.location.template lacks \${${col}}`);
    const type = props[`projection.${col}.type`]?.trim().toLowerCase();
    if (type === 'enum') {
      const values = props[`projection.${col}.values`];
      if (!values) problems.push(`projection.${col}.values missing`);
      else if (values.split(',').some((v) => v === '' || v !== v.trim()))
        problems.push(`projection.${col}.values ${JSON.stringify(values)} has empty or space-padded values`);
    } else if (type === 'date') {
      const format = props[`projection.${col}.format`];
      if (!format) problems.push(`projection.${col}.format missing`);
      const range = (props[`projection.${col}.range`] ?? '').split(',');
      const looksLikeFormat = (v: string): boolean =>
        format === 'yyyy-MM-dd' ? /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) : true;
      if (range.length !== 2 || range.some((v) => !NOW.test(v.trim()) && !looksLikeFormat(v.trim()))) {
        problems.push(`projection.${col}.range ${JSON.stringify(props[`projection.${col}.range`])} is not two dates or NOW expressions`);
      }
      const interval = props[`projection.${col}.interval`];
      if (interval !== undefined && !/^[1-9]\d*$/.test(interval.trim()))
        problems.push(`projection.${col}.interval ${interval} is not a positive integer`);
      const unit = props[`projection.${col}.interval.unit`];
      if (unit !== undefined && !UNITS.includes(unit.trim().toUpperCase()))
        problems.push(`projection.${col}.interval.unit ${unit} is not one of ${UNITS.join(', ')}`);
    } else if (type === 'injected') {
      if (!opts.allowInjected) problems.push(`projection.${col}.type is injected: every query without WHERE ${col} = '…' fails`);
    } else if (type !== 'integer') {
      problems.push(`projection.${col}.type ${JSON.stringify(type)} is not enum, integer, date or injected`);
    }
  }
  return problems;
}

/** TBLPROPERTIES of an Athena DDL text as a map (Hive string literals, `\'` unescaped). */
export function tblProperties(ddl: string): Record<string, string> {
  const body = ddl.slice(ddl.indexOf('TBLPROPERTIES ('));
  const unq = (s: string): string => s.replace(/\\(.)/g, '$1');
  return Object.fromEntries([...body.matchAll(/'((?:[^'\\]|\\.)*)' = '((?:[^'\\]|\\.)*)'/g)].map((m) => [unq(m[1]!), unq(m[2]!)]));
}
