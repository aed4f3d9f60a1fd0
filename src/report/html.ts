/** The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external requests. */
import type { ReportData, ReportSection } from './buildReport.js';
import { barChart, escapeXml as esc, hourlyChart } from './charts.js';
import { formatBytes, formatValue, isNumeric } from './format.js';
import { REQUEST_CLASS_LABELS, REQUEST_CLASSES, TRANSFER_CLASS_LABELS, TRANSFER_CLASSES } from './prices.js';
import type { QueryResult } from './query.js';

const CSS = `
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f5f6f8;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#111827;color:#f9fafb;padding:20px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650}
header .meta{color:#d1d5db;display:flex;flex-wrap:wrap;gap:4px 24px}
header .meta b{color:#fff;font-weight:600}
nav{position:sticky;top:0;z-index:1;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;display:flex;gap:20px}
nav a{color:var(--accent);text-decoration:none;font-weight:600}
main{max-width:1400px;margin:0 auto;padding:8px 32px 40px}
section>h2{font-size:20px;margin:28px 0 2px}
section>p.blurb{margin:0 0 12px;color:var(--muted)}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 14px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:130px}
.tile .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.tile .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
.card.wide{grid-column:1/-1}
.card h3{margin:0 0 2px;font-size:15px}
.card p.d{margin:0 0 10px;color:var(--muted);font-size:12.5px}
.card .empty{color:var(--muted);font-style:italic}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin-top:8px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{overflow-wrap:anywhere;min-width:8em;max-width:420px}
details summary{cursor:pointer;color:var(--accent);margin-top:8px}
svg.chart{display:block;max-width:100%;height:auto;margin:4px 0}
svg .lbl,svg .val,svg .axis{font:11px system-ui,sans-serif;fill:#374151}
svg .val{fill:#111827;font-weight:600}
svg .grid{stroke:#eef0f3}
svg .baseline{stroke:#9ca3af}
.note{background:#fffbeb;border:1px solid #fde68a;border-radius:8px;padding:8px 12px;margin:0 0 14px;color:#78350f}
footer{color:var(--muted);font-size:12px;padding:0 32px 24px;max-width:1400px;margin:0 auto}
`;

function table(q: QueryResult): string {
  const head = q.columns.map((c) => `<th${isNumeric(c.format) ? ' class="n"' : ''}>${esc(c.label)}</th>`).join('');
  const body = q.rows
    .map(
      (r) =>
        `<tr>${q.columns.map((c) => `<td class="${isNumeric(c.format) ? 'n' : 't'}">${esc(formatValue(r[c.name] ?? null, c.format))}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function tiles(q: QueryResult): string {
  const row = q.rows[0] ?? {};
  return `<div class="tiles" id="q-${q.id}">${q.columns
    .map(
      (c) =>
        `<div class="tile"><div class="v">${esc(formatValue(row[c.name] ?? null, c.format))}</div><div class="k">${esc(c.label)}</div></div>`,
    )
    .join('')}</div>`;
}

function card(q: QueryResult, report: ReportData): string {
  const chart = q.chart;
  const wide = chart?.kind === 'hourly' || q.columns.length > 6;
  let body: string;
  if (q.rows.length === 0) body = `<p class="empty">No matching requests in the range.</p>`;
  else if (chart?.kind === 'hourly') {
    const format = q.columns.find((c) => c.name === chart.series[0]!.column)?.format ?? 'int';
    body =
      hourlyChart(q.rows, chart.series, format, report.from, report.days) +
      `<details><summary>Hourly numbers (${q.rows.length} rows)</summary>${table(q)}</details>`;
  } else if (chart?.kind === 'bars') {
    const format = q.columns.find((c) => c.name === chart.value)?.format ?? 'int';
    body = barChart(q.rows, chart.label, chart.value, format) + table(q);
  } else body = table(q);
  return `<div class="card${wide ? ' wide' : ''}" id="q-${q.id}"><h3>${esc(q.title)}</h3><p class="d">${esc(q.description)}</p>${body}</div>`;
}

function priceNote(report: ReportData): string {
  const p = report.prices;
  const requests = REQUEST_CLASSES.map((c) => `${esc(REQUEST_CLASS_LABELS[c])} $${p.requestsPer1000[c]}/1,000`).join('; ');
  const transfer = TRANSFER_CLASSES.map((c) => `${esc(TRANSFER_CLASS_LABELS[c])} $${p.transferPerGB[c]}/GB`).join('; ');
  return `<div class="note"><b>Estimate, not a bill.</b> ${esc(p.storageClass)} list prices for ${esc(p.region)} (${esc(p.currency)}, as of ${esc(p.asOf)}): ${requests}. Transfer: ${transfer}. Storage, free tier, volume tiers and discounts are not included.</div>`;
}

function section(s: ReportSection, report: ReportData): string {
  const head = s.queries
    .filter((q) => q.chart?.kind === 'tiles')
    .map(tiles)
    .join('');
  const cards = s.queries
    .filter((q) => q.chart?.kind !== 'tiles')
    .map((q) => card(q, report))
    .join('');
  return `<section id="${s.id}"><h2>${esc(s.title)}</h2><p class="blurb">${esc(s.blurb)}</p>${s.id === 'cost' ? priceNote(report) : ''}${head}<div class="grid">${cards}</div></section>`;
}

export function renderHtml(report: ReportData): string {
  const range = report.from === report.to ? report.from : `${report.from} → ${report.to}`;
  const meta = [
    `<span>Range <b>${esc(range)}</b> (${report.days} day${report.days === 1 ? '' : 's'}, UTC)</span>`,
    `<span>Buckets <b>${esc(report.buckets.join(', ') || 'none')}</b>${report.bucketFilter ? ' (filtered)' : ''}</span>`,
    `<span>Rows <b>${formatValue(report.rows, 'int')}</b></span>`,
    `<span>Partitions <b>${report.partitions}</b>, files <b>${report.files}</b> (${esc(formatBytes(report.parquetBytes))} Parquet)</span>`,
    `<span>Source <b>${esc(report.dest)}</b></span>`,
  ].join('');
  const nav = report.sections.map((s) => `<a href="#${s.id}">${esc(s.title)}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>S3 access logs ${esc(range)}</title><style>${CSS}</style></head>
<body><header><h1>S3 access log report</h1><div class="meta">${meta}</div></header>
<nav>${nav}</nav>
<main>${report.sections.map((s) => section(s, report)).join('\n')}</main>
<footer>Generated ${esc(report.generatedAt)} by ${esc(report.tool)} in ${report.seconds.total.toFixed(2)} s. Definitions of every figure: docs/report.md.</footer>
</body></html>
`;
}
