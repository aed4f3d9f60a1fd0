/** The report as Markdown (chat tools, tickets): the same tables as the JSON, numbers written out exactly. */
import type { ReportData } from './buildReport.js';
import { exactValue, isNumeric } from './format.js';
import type { QueryResult } from './query.js';

const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(q: QueryResult): string {
  if (q.rows.length === 0) return '_No matching requests in the range._';
  const head = `| ${q.columns.map((c) => cell(c.label)).join(' | ')} |`;
  const align = `|${q.columns.map((c) => (isNumeric(c.format) ? ' ---: ' : ' --- ')).join('|')}|`;
  const rows = q.rows.map((r) => `| ${q.columns.map((c) => cell(exactValue(r[c.name] ?? null, c.format))).join(' | ')} |`);
  return [head, align, ...rows].join('\n');
}

export function renderMarkdown(report: ReportData): string {
  const p = report.prices;
  const lines = [
    `# S3 access log report: ${report.from}${report.to === report.from ? '' : ` to ${report.to}`}`,
    '',
    `- Range: ${report.from} .. ${report.to} (${report.days} day${report.days === 1 ? '' : 's'}, UTC dt partitions)`,
    `- Buckets: ${report.buckets.join(', ') || 'none'}${report.bucketFilter ? ' (filtered with --bucket)' : ''}`,
    `- Rows: ${exactValue(report.rows, 'int')} in ${report.partitions} partitions, ${report.files} files`,
    `- Source: ${report.dest}`,
    `- Cost figures are estimates: ${p.storageClass} list prices for ${p.region} (${p.currency}, as of ${p.asOf}); no storage, free tier or discounts.`,
    '',
  ];
  for (const s of report.sections) {
    lines.push(`## ${s.title}`, '', s.blurb, '');
    for (const q of s.queries) lines.push(`### ${q.title}`, '', q.description, '', table(q), '');
  }
  lines.push(`_Generated ${report.generatedAt} by ${report.tool}._`, '');
  return lines.join('\n');
}
