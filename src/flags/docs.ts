/**
 * Flag documentation from the table: the option lines of `--help` and the README reference tables
 * (scripts/flagDocs.ts writes those; test/flagDocs.test.ts checks README against them).
 */
import { defaultOf, envOf, flagsOf, JOB_COMMANDS, type Command, type FlagSpec } from './table.js';

function usage(flag: FlagSpec): string {
  return flag.type === 'boolean' ? `--${flag.name}` : `--${flag.name} ${flag.arg ?? flag.kind.arg}`;
}

const HELP_WIDTH = 100;
const USAGE_WIDTH = 28;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Option lines of one command's help: `--name <arg>  help (default d)`, wrapped under the help column. */
export function helpOptions(command: Command, aws: boolean): string {
  const flags = flagsOf(command).filter((f) => !f.hidden && Boolean(f.aws) === aws);
  const column = Math.min(USAGE_WIDTH, Math.max(...flags.map((f) => usage(f).length)) + 2);
  const lines: string[] = [];
  for (const flag of flags) {
    const d = defaultOf(flag);
    const text = wrap(flag.help + (d === undefined ? '' : ` (default ${d})`), HELP_WIDTH - 2 - column);
    const head = usage(flag);
    if (head.length + 2 > column) lines.push(`  ${head}`);
    else lines.push(`  ${head.padEnd(column)}${text.shift()}`);
    for (const line of text) lines.push(`  ${''.padEnd(column)}${line}`);
  }
  return lines.join('\n') + '\n';
}

// Markdown: a | ends the cell and <dest> reads as an HTML tag.
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;

/** A flag's S3LOGS_* variable in whichever job takes it. */
function jobEnv(flag: FlagSpec): string | undefined {
  for (const job of JOB_COMMANDS) if (flag.commands.includes(job)) return envOf(flag, job);
  return undefined;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * README reference tables. `convert`: every convert flag with its S3LOGS_* name in the scheduled jobs;
 * `jobs`: the flags of nightly and backfill that convert does not take.
 */
export function flagTable(which: 'convert' | 'jobs'): string {
  const visible = (f: FlagSpec) => !f.hidden;
  if (which === 'convert') {
    const rows = flagsOf('convert')
      .filter(visible)
      .map((f) => {
        const env = jobEnv(f);
        return row([code(usage(f)), cell(defaultOf(f) ?? ''), env ? code(env) : '', cell(f.doc ?? f.help)]);
      });
    return ['| flag | default | job setting | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
  }
  const convert = new Set(flagsOf('convert'));
  const jobs = [...new Set(JOB_COMMANDS.flatMap((c) => flagsOf(c)))].filter((f) => visible(f) && !convert.has(f));
  const rows = jobs.map((f) => {
    const env = jobEnv(f);
    return row([
      code(usage(f)),
      f.commands.filter((c) => JOB_COMMANDS.includes(c)).join(', '),
      cell(defaultOf(f) ?? ''),
      env ? code(env) : '',
      cell(f.doc ?? f.help),
    ]);
  });
  return ['| flag | commands | default | environment | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
