/**
 * Renders the flag reference tables of README.md from the flag table (src/flags/table.ts).
 * `node dist/scripts/flagDocs.js` prints them; `--write` puts them into README.md between their
 * `<!-- flags:<name>:start -->` / `<!-- flags:<name>:end -->` markers. test/flagDocs.test.ts fails when
 * README drifts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flagTable } from '../src/flags/docs.js';

export const FLAG_TABLES = ['convert', 'jobs'] as const;

/** README with every flag table block replaced by its rendering. */
export function withFlagTables(readme: string): string {
  let out = readme;
  for (const name of FLAG_TABLES) {
    const start = `<!-- flags:${name}:start -->\n`;
    const end = `\n<!-- flags:${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end, from);
    if (from === -1 || to === -1) throw new Error(`README.md has no ${start.trim()} … ${end.trim()} block`);
    out = out.slice(0, from + start.length) + flagTable(name) + out.slice(to);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--write')) {
    const path = fileURLToPath(new URL('../../README.md', import.meta.url));
    writeFileSync(path, withFlagTables(readFileSync(path, 'utf8')));
  } else for (const name of FLAG_TABLES) console.log(`<!-- flags:${name} -->\n${flagTable(name)}\n`);
}
