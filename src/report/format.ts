/** Cell formatting shared by the HTML and Markdown renderers. */
import type { ColumnFormat, Row } from './query.js';

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${INT.format(value)} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

/** Small amounts keep enough digits to be distinguishable from zero. */
export function formatUsd(n: number): string {
  if (n === 0) return '$0';
  if (Math.abs(n) >= 100) return `$${INT.format(Math.round(n))}`;
  if (Math.abs(n) >= 0.01) return `$${n.toFixed(2)}`;
  return `$${n.toPrecision(2)}`;
}

/** Human form of a value for tables, tiles and chart labels. */
export function formatValue(value: Row[string], format: ColumnFormat): string {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number')
    return format === 'time'
      ? String(value)
          .replace('T', ' ')
          .replace(/\.000Z$/, 'Z')
      : String(value);
  switch (format) {
    case 'int':
      return INT.format(value);
    case 'bytes':
      return formatBytes(value);
    case 'usd':
      return formatUsd(value);
    case 'price':
      return `$${value}`;
    case 'ratio':
      return `${(value * 100).toFixed(value !== 0 && value < 0.001 ? 3 : 2)}%`;
    case 'ms':
      return `${INT.format(value)} ms`;
    default:
      return String(value);
  }
}

/** Exact form for Markdown: integers with separators, money with 6 decimals, ratios as percentages. */
export function exactValue(value: Row[string], format: ColumnFormat): string {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  switch (format) {
    case 'int':
    case 'bytes':
    case 'ms':
      return INT.format(value);
    case 'usd':
      return value.toFixed(6);
    case 'ratio':
      return `${(value * 100).toFixed(4)}%`;
    default:
      return String(value);
  }
}

export const isNumeric = (format: ColumnFormat): boolean => format !== 'text' && format !== 'time';
