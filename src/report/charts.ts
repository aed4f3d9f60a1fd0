/** Inline SVG charts (no scripts, no external assets): horizontal bars and hourly series. */
import { formatValue } from './format.js';
import type { ColumnFormat, Row } from './query.js';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#9333ea', '#d97706'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Long labels (ARNs, keys) keep their start and their distinguishing end. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.ceil((max - 1) * 0.6);
  return text.slice(0, max - 1 - tail) + '…' + text.slice(text.length - tail);
}

/** One bar per row, longest first as the rows come; labels are clipped, the full text is in a tooltip. */
export function barChart(rows: readonly Row[], label: readonly string[], value: string, format: ColumnFormat): string {
  const width = 640;
  const labelWidth = 250;
  const valueWidth = 84;
  const barHeight = 18;
  const gap = 6;
  const height = rows.length * (barHeight + gap) + gap;
  const max = Math.max(0, ...rows.map((r) => Number(r[value] ?? 0)));
  const span = width - labelWidth - valueWidth;
  const bars = rows.map((r, i) => {
    const text = label.map((c) => String(r[c] ?? '–')).join(' · ');
    const v = Number(r[value] ?? 0);
    const w = max > 0 ? Math.max(v > 0 ? 1.5 : 0, (v / max) * span) : 0;
    const y = gap + i * (barHeight + gap);
    return (
      `<g><title>${escapeXml(`${text}: ${formatValue(v, format)}`)}</title>` +
      `<text x="${labelWidth - 8}" y="${y + barHeight - 5}" text-anchor="end" class="lbl">${escapeXml(clip(text, 34))}</text>` +
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" fill="${PALETTE[0]}"/>` +
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + barHeight - 5}" class="val">${escapeXml(formatValue(v, format))}</text></g>`
    );
  });
  // Natural size at most: in a full-width card a 100%-wide bar chart would blow its text up twice.
  return `<svg class="chart bars" viewBox="0 0 ${width} ${height}" width="${width}" role="img" aria-label="bar chart">${bars.join('')}</svg>`;
}

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function dayList(from: string, days: number): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

/**
 * Series over every hour of the range (rows carry `dt` and `hour_utc`; missing hours are 0). One
 * series is drawn as columns, several as lines with a legend.
 */
export function hourlyChart(
  rows: readonly Row[],
  series: ReadonlyArray<{ column: string; label: string }>,
  format: ColumnFormat,
  from: string,
  days: number,
): string {
  const width = 960;
  const height = 240;
  const left = 64;
  const right = 16;
  const top = series.length > 1 ? 28 : 12;
  const bottom = 34;
  const dates = dayList(from, days);
  const slots = dates.length * 24;
  const index = new Map(rows.map((r) => [`${String(r.dt)}/${Number(r.hour_utc)}`, r]));
  const values = series.map((s) =>
    dates.flatMap((d) => Array.from({ length: 24 }, (_, h) => Number(index.get(`${d}/${h}`)?.[s.column] ?? 0))),
  );
  const yMax = niceMax(Math.max(0, ...values.flat()));
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number): number => left + (i + 0.5) * (plotW / slots);
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  for (let g = 0; g <= 4; g++) {
    const v = (yMax * g) / 4;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${escapeXml(formatValue(v, format))}</text>`,
    );
  }
  const labelEvery = days === 1 ? 3 : days <= 3 ? 12 : 24 * Math.ceil(days / 10);
  for (let i = 0; i < slots; i += labelEvery) {
    const text =
      days === 1 ? `${String(i).padStart(2, '0')}:00` : i % 24 === 0 ? dates[i / 24]!.slice(5) : `${String(i % 24).padStart(2, '0')}h`;
    parts.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" class="axis">${text}</text>`);
  }
  if (series.length === 1) {
    const barW = Math.max(1, (plotW / slots) * 0.75);
    values[0]!.forEach((v, i) => {
      if (v <= 0) return;
      const label = `${dates[Math.floor(i / 24)]} ${String(i % 24).padStart(2, '0')}:00 UTC: ${formatValue(v, format)}`;
      parts.push(
        `<rect x="${(x(i) - barW / 2).toFixed(1)}" y="${y(v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${PALETTE[0]}"><title>${escapeXml(label)}</title></rect>`,
      );
    });
  } else {
    values.forEach((vs, s) => {
      const points = vs.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${PALETTE[s % PALETTE.length]}" stroke-width="2"/>`);
      parts.push(
        `<rect x="${left + s * 120}" y="6" width="12" height="12" rx="2" fill="${PALETTE[s % PALETTE.length]}"/><text x="${left + s * 120 + 18}" y="16" class="axis">${escapeXml(series[s]!.label)}</text>`,
      );
    });
  }
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" class="baseline"/>`);
  return `<svg class="chart hourly" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="hourly chart">${parts.join('')}</svg>`;
}
