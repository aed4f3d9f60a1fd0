/**
 * The HTML report in a real browser (a system Chromium, or the one @sparticuz/chromium ships in its npm
 * package, driven by playwright-core, offline): every
 * section and query card is there, every chart is a non-empty rendered SVG, nothing is fetched from
 * the network, no console errors, no horizontal scrolling on a laptop screen. The screenshot is kept
 * in test-artifacts/report.png (git-ignored).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { runReport } from '../src/commands/report.js';
import { REPORT_QUERIES } from '../src/report/queries.js';
import { SECTIONS } from '../src/report/query.js';
import { findChromium } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
let work: string;
let html: string;
let browser: BrowserContext;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3logs-report-html-'));
  for (const [i, keyDate] of ['2024-02-10', '2024-02-11'].entries()) {
    await writeKeyDateToDirectory(join(work, 'raw'), {
      seed: 7 + i,
      keyDate,
      layout: 'date-based',
      prefix: 'logs/',
      objects: 12,
      maxObjectBytes: 200_000,
    });
  }
  const converted = await runCli([
    'convert',
    '--source',
    join(work, 'raw', 'logs') + '/',
    '--dest',
    join(work, 'lake'),
    '--date',
    '2024-02-10',
    '--to',
    '2024-02-11',
    '--quiet',
  ]);
  expect(converted.code, converted.stderr).toBe(0);
  html = join(work, 'report.html');
  expect(await runReport(['--dest', join(work, 'lake'), '--from', '2024-02-10', '--to', '2024-02-11', '--out', html])).toBe(0);
  const executable = await findChromium();
  browser = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: executable.path,
    viewport: { width: 1366, height: 768 },
    args: [
      ...executable.args,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rm(work, { recursive: true, force: true });
});

describe('HTML report in Chromium', () => {
  it('renders every section and chart offline without errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning' ? problems.push(`${m.type()}: ${m.text()}`) : undefined));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => (r.url().startsWith('file:') ? undefined : requests.push(r.url())));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

    const text = await page.textContent('header');
    expect(text).toContain('2024-02-10 → 2024-02-11');
    expect(text).toContain('example-web-assets');
    for (const s of SECTIONS) expect(await page.locator(`section#${s.id} h2`).textContent()).toBe(s.title);
    for (const q of REPORT_QUERIES) expect(await page.locator(`#q-${q.id}`).count(), q.id).toBe(1);

    // Every query with a chart and rows has one SVG whose drawn shapes have a real size.
    const charted = REPORT_QUERIES.filter((q) => q.chart?.kind === 'bars' || q.chart?.kind === 'hourly');
    for (const q of charted) {
      const svg = page.locator(`#q-${q.id} svg.chart`);
      expect(await svg.count(), q.id).toBe(1);
      // Runs in the page: its DOM types are not the test program's (no "dom" lib), hence the narrow casts.
      const shapes = await svg.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const drawn = [...el.querySelectorAll('rect, polyline')].filter((s) => {
          const b = (s as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return b.width > 0 && b.height > 0;
        });
        return { width: box.width, height: box.height, drawn: drawn.length };
      });
      expect(shapes.width, q.id).toBeGreaterThan(200);
      expect(shapes.height, q.id).toBeGreaterThan(40);
      expect(shapes.drawn, q.id).toBeGreaterThan(0);
    }
    // Tiles show numbers, not placeholders.
    expect(await page.locator('#q-security_summary .tile .v').first().textContent()).toMatch(/^\d[\d,]*$/);

    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect((await readFile(join(ARTIFACTS, 'report.png'))).length).toBeGreaterThan(10_000);
    await page.close();
  });

  it('is self-contained: no scripts, no external URLs', async () => {
    const source = await readFile(html, 'utf8');
    expect(source).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|\ssrc=/i);
    // Only in-page links (the section navigation).
    expect([...source.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!).filter((h) => !h.startsWith('#'))).toEqual([]);
  });
});
