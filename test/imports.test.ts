/**
 * Static import graph checks over src/, schemas/, jobs/ and scripts/ (the files tsc compiles).
 *
 * Only edges that exist at runtime count: `import … from`, `export … from` and side-effect `import '…'`.
 * Erased imports do not: `import type` / `export type`, and `import { type A, type B }` where every
 * binding is type-qualified. Dynamic `await import('…')` is the deliberate way to load a heavy module
 * lazily, so it is not a static edge either.
 *
 * The parser is a small lexer, not a TypeScript parse: it blanks comments, string contents, template
 * literals and regex literals (so `'//'` in a string or `import x from 'y'` inside a string never
 * counts), then matches import/export-from statements, multi-line ones included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['src', 'schemas', 'jobs', 'scripts'];

// ---------------------------------------------------------------------------------------------------
// Lexer: comments and literals out, string literals kept aside as '#<index>' placeholders.
// ---------------------------------------------------------------------------------------------------

/** Tokens after which a `/` starts a regex literal rather than a division. */
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);
const REGEX_AFTER_PUNCT = new Set([...'(,=:[!&|?{};+-*%<>~^/']);

interface StrippedSource {
  /** The code with comments removed, every string literal replaced by '#<i>', templates and regexes blanked. */
  readonly code: string;
  /** The raw contents of the string literals, by placeholder index. */
  readonly strings: string[];
}

function stripSource(src: string): StrippedSource {
  const strings: string[] = [];
  const n = src.length;
  let i = 0;
  if (src.startsWith('#!')) {
    while (i < n && src[i] !== '\n') i++;
  }

  const isWordChar = (c: string | undefined) => c !== undefined && /[\w$]/.test(c);

  /** Skips a quoted string starting at `start`; returns [index after it, raw contents]. */
  function scanString(start: number): [number, string] {
    const quote = src[start];
    let j = start + 1;
    let value = '';
    while (j < n && src[j] !== quote && src[j] !== '\n') {
      if (src[j] === '\\') {
        value += src.slice(j, j + 2);
        j += 2;
      } else value += src[j++];
    }
    return [Math.min(j + 1, n), value];
  }

  /** Skips a template literal starting at the backtick at `start`, nested `${ … }` code included. */
  function scanTemplate(start: number): number {
    let j = start + 1;
    while (j < n) {
      const c = src[j];
      if (c === '\\') j += 2;
      else if (c === '`') return j + 1;
      else if (c === '$' && src[j + 1] === '{') j = scanCode(j + 2, true).end;
      else j++;
    }
    return n;
  }

  /** Skips a regex literal at the `/` at `start`; -1 if it is not one (no closing `/` on the line). */
  function scanRegex(start: number): number {
    let j = start + 1;
    let inClass = false;
    while (j < n) {
      const c = src[j];
      if (c === '\n') return -1;
      if (c === '\\') j += 2;
      else {
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) break;
        j++;
      }
    }
    if (j >= n) return -1;
    j++;
    while (j < n && isWordChar(src[j])) j++; // flags
    return j;
  }

  /**
   * Scans code from `start`. With `untilBrace`, stops after the `}` closing a template expression and
   * emits nothing (the caller discards template contents); otherwise emits the stripped code.
   */
  function scanCode(start: number, untilBrace: boolean): { end: number; out: string } {
    let out = '';
    let j = start;
    let depth = 0;
    let last = ''; // last significant token: '' at start, a punctuation char, a word, or 'literal'
    const emit = (s: string) => {
      if (!untilBrace) out += s;
    };
    while (j < n) {
      const c = src[j]!;
      const next = src[j + 1];
      if (c === '/' && next === '/') {
        while (j < n && src[j] !== '\n') j++;
        emit(' ');
      } else if (c === '/' && next === '*') {
        const close = src.indexOf('*/', j + 2);
        const end = close === -1 ? n : close + 2;
        emit(' ' + src.slice(j, end).replace(/[^\n]/g, '')); // keep line breaks
        j = end;
      } else if (c === "'" || c === '"') {
        const [end, value] = scanString(j);
        emit(`'#${strings.length}'`);
        strings.push(value);
        j = end;
        last = 'literal';
      } else if (c === '`') {
        j = scanTemplate(j);
        emit('``');
        last = 'literal';
      } else if (c === '/' && (last === '' || REGEX_AFTER_PUNCT.has(last) || REGEX_AFTER_KEYWORD.has(last))) {
        const end = scanRegex(j);
        if (end === -1) {
          emit(c);
          last = c;
          j++;
        } else {
          emit(' /r/ ');
          j = end;
          last = 'literal';
        }
      } else if (isWordChar(c)) {
        let k = j;
        while (k < n && isWordChar(src[k])) k++;
        const word = src.slice(j, k);
        emit(word);
        last = word;
        j = k;
      } else if (/\s/.test(c)) {
        emit(c);
        j++;
      } else {
        if (untilBrace) {
          if (c === '{') depth++;
          else if (c === '}') {
            if (depth === 0) return { end: j + 1, out };
            depth--;
          }
        }
        emit(c);
        // `}` usually ends a block, after which a `/` starts a regex; `)` and `]` end an operand.
        last = c;
        j++;
      }
    }
    return { end: n, out };
  }

  return { code: scanCode(i, false).out, strings };
}

// ---------------------------------------------------------------------------------------------------
// Static imports of one file.
// ---------------------------------------------------------------------------------------------------

interface StaticImport {
  readonly specifier: string;
  /** The statement as written, whitespace collapsed, for messages. */
  readonly statement: string;
}

const SIDE_EFFECT_IMPORT = /(?<![\w$.])import\s*'#(\d+)'/g;
const IMPORT_FROM = /(?<![\w$.])import\s+(type\s+)?([\w$*{}\s,]+?)\s*from\s*'#(\d+)'/g;
const EXPORT_FROM = /(?<![\w$.])export\s+(type\s+)?(\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*'#(\d+)'/g;
/** CommonJS packages are loaded by require (src/cjs.ts): counted as an edge, like an import. */
const CJS_REQUIRE = /(?<![\w$.])requireCjs\s*\(\s*'#(\d+)'\s*\)/g;

/** True when the clause binds names only inside `{ … }` and every one of them is `type`-qualified. */
function onlyTypeBindings(clause: string): boolean {
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  if (!braces) return false; // a default or namespace binding is a value
  const entries = braces[1]!
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return false; // `import {} from` : keep it, to be safe
  return entries.every((entry) => {
    const words = entry.split(/\s+/);
    // `type A` and `type A as B` are type-only; `type as t` imports a value named `type`.
    return words[0] === 'type' && (words.length === 2 || words.length === 4);
  });
}

function staticImports(src: string): StaticImport[] {
  const { code, strings } = stripSource(src);
  const found: { at: number; imp: StaticImport }[] = [];
  const add = (at: number, index: string, statement: string) =>
    found.push({
      at,
      imp: {
        specifier: strings[Number(index)]!,
        statement: statement.replace(/'#(\d+)'/g, (_, k) => `'${strings[Number(k)]}'`).replace(/\s+/g, ' '),
      },
    });
  for (const m of code.matchAll(SIDE_EFFECT_IMPORT)) add(m.index!, m[1]!, m[0]);
  for (const m of code.matchAll(IMPORT_FROM)) {
    if (m[1] || onlyTypeBindings(m[2]!)) continue;
    add(m.index!, m[3]!, m[0]);
  }
  for (const m of code.matchAll(EXPORT_FROM)) {
    if (m[1] || onlyTypeBindings(m[2]!)) continue;
    add(m.index!, m[3]!, m[0]);
  }
  for (const m of code.matchAll(CJS_REQUIRE)) add(m.index!, m[1]!, m[0]);
  return found.sort((a, b) => a.at - b.at).map((f) => f.imp);
}

// ---------------------------------------------------------------------------------------------------
// The graph: file -> project files it loads statically, and the packages it imports.
// ---------------------------------------------------------------------------------------------------

interface ImportGraph {
  /** Project file (root-relative, posix) -> project files it imports statically, in source order. */
  readonly edges: Map<string, string[]>;
  /** Project file -> package names it imports statically (`node:` builtins included). */
  readonly packages: Map<string, string[]>;
  /** Relative specifiers that resolve to no file of the graph (e.g. JSON), per file. */
  readonly unresolved: Map<string, string[]>;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function resolveRelative(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  const ext = /\.(m|c)?jsx?$/.exec(base)?.[0];
  const candidates = ext
    ? [stem + ext.replace('js', 'ts'), stem + '.tsx'] // ./x.js -> x.ts, ./dir/index.js -> dir/index.ts
    : [base, base + '.ts', base + '/index.ts'];
  return candidates.find((c) => files.has(c));
}

/** Builds the graph from file path (root-relative, posix) -> source text. */
function buildGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const files = new Set(sources.keys());
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const unresolved = new Map<string, string[]>();
  for (const [file, src] of sources) {
    const deps: string[] = [];
    const pkgs: string[] = [];
    const missing: string[] = [];
    for (const { specifier } of staticImports(src)) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = resolveRelative(file, specifier, files);
        if (target === undefined) missing.push(specifier);
        else if (!deps.includes(target)) deps.push(target);
      } else if (!pkgs.includes(packageName(specifier))) pkgs.push(packageName(specifier));
    }
    edges.set(file, deps);
    packages.set(file, pkgs);
    if (missing.length) unresolved.set(file, missing);
  }
  return { edges, packages, unresolved };
}

// ---------------------------------------------------------------------------------------------------
// Cycles: Tarjan's strongly connected components, each shown as readable cycle paths.
// ---------------------------------------------------------------------------------------------------

function stronglyConnectedComponents(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  // Iterative, so a long import chain cannot overflow the call stack.
  for (const start of [...edges.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const succ = edges.get(frame.node) ?? [];
      if (frame.next < succ.length) {
        const w = succ[frame.next++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** Shortest path from `from` to `to` following edges inside `within`; [from, …, to]. */
function shortestPath(
  edges: ReadonlyMap<string, readonly string[]>,
  from: string,
  to: string,
  within: ReadonlySet<string>,
): string[] | undefined {
  const parent = new Map<string, string>();
  const queue = [from];
  const seen = new Set<string>();
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of edges.get(node) ?? []) {
      if (!within.has(next)) continue;
      if (next === to) {
        const path = [to, node];
        for (let p = node; p !== from; ) path.push((p = parent.get(p)!));
        return path.reverse();
      }
      if (seen.has(next)) continue;
      seen.add(next);
      parent.set(next, node);
      queue.push(next);
    }
  }
  return undefined;
}

/**
 * Every cycle as `a.ts -> b.ts -> a.ts`: per strongly connected component with more than one file (or a
 * file importing itself), the shortest cycle through each member, rotated to start at its smallest file
 * and deduplicated, so a component knotted by several imports shows each knot.
 */
function findCycles(sources: ReadonlyMap<string, string>): string[] {
  const { edges } = buildGraph(sources);
  const cycles = new Set<string>();
  for (const component of stronglyConnectedComponents(edges)) {
    const members = new Set(component);
    const selfImport = component.length === 1 && (edges.get(component[0]!) ?? []).includes(component[0]!);
    if (component.length === 1 && !selfImport) continue;
    for (const node of component) {
      const path = shortestPath(edges, node, node, members);
      if (!path) continue;
      const ring = path.slice(0, -1);
      const first = ring.indexOf([...ring].sort()[0]!);
      const rotated = [...ring.slice(first), ...ring.slice(0, first)];
      cycles.add([...rotated, rotated[0]].join(' -> '));
    }
  }
  return [...cycles].sort();
}

/**
 * For each root: the shortest static import chain to each forbidden project file and to a file importing
 * each forbidden package, as `root -> … -> target` (a package shows as its name at the end).
 */
function forbiddenChains(
  graph: ImportGraph,
  roots: readonly string[],
  forbiddenFiles: readonly string[],
  forbiddenPackages: readonly string[],
): string[] {
  const chains: string[] = [];
  for (const root of roots) {
    const parent = new Map<string, string | null>([[root, null]]);
    const order: string[] = [];
    const queue = [root];
    while (queue.length) {
      const node = queue.shift()!;
      order.push(node);
      for (const next of graph.edges.get(node) ?? []) {
        if (parent.has(next)) continue;
        parent.set(next, node);
        queue.push(next);
      }
    }
    const chainTo = (file: string) => {
      const path = [file];
      for (let p = parent.get(file); p != null; p = parent.get(p)) path.push(p);
      return path.reverse();
    };
    for (const file of forbiddenFiles) {
      if (parent.has(file)) chains.push(chainTo(file).join(' -> '));
    }
    for (const pkg of forbiddenPackages) {
      const importer = order.find((f) => graph.packages.get(f)?.includes(pkg)); // BFS order: shortest chain
      if (importer !== undefined) chains.push([...chainTo(importer), pkg].join(' -> '));
    }
  }
  return chains;
}

// ---------------------------------------------------------------------------------------------------
// The project.
// ---------------------------------------------------------------------------------------------------

function listTs(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : listTs(path);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function projectSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const dir of SOURCE_DIRS) {
    for (const path of listTs(join(ROOT, dir)).sort()) {
      sources.set(relative(ROOT, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  }
  return sources;
}

/**
 * Where flags are parsed (see src/cli.ts, which loads src/commands/<name>.ts on use): the flag table and
 * its reader (src/flags/), the help built from it, the convert/job builders (src/config.ts,
 * src/jobs/settings.ts), setup -> src/setup/setupConfig.ts, doctor -> src/setup/doctorConfig.ts, and
 * report in its command module.
 */
const FLAG_PARSING_MODULES = [
  'src/flags/table.ts',
  'src/flags/read.ts',
  'src/help.ts',
  'src/config.ts',
  'src/jobs/settings.ts',
  'src/setup/setupConfig.ts',
  'src/setup/doctorConfig.ts',
  'src/commands/report.ts',
];

describe('static imports', () => {
  it('has no import cycles among src/, schemas/, jobs/ and scripts/', () => {
    const sources = projectSources();
    expect(sources.size, 'found no .ts files; is ROOT right?').toBeGreaterThan(0);
    expect(findCycles(sources), 'import cycles (static value imports; type-only and dynamic imports excluded)').toEqual([]);
  });

  it('parsing flags (table, help, jobs, setup, doctor, report) does not load the pipeline or apache-arrow', () => {
    const graph = buildGraph(projectSources());
    for (const root of FLAG_PARSING_MODULES) expect(graph.edges.has(root), `${root} is missing; update FLAG_PARSING_MODULES`).toBe(true);
    expect(
      forbiddenChains(graph, FLAG_PARSING_MODULES, ['src/pipeline.ts'], ['apache-arrow']),
      'static import chains from a flag-parsing module to src/pipeline.ts or apache-arrow',
    ).toEqual([]);
  });

  it('convert does not load apache-arrow (~0.2 s of CPU per process): neither parsing nor encoding', () => {
    const graph = buildGraph(projectSources());
    const roots = [
      'src/commands/convert.ts',
      'src/pipeline.ts',
      'src/stages/partition.ts',
      'src/jobs/nightly.ts',
      'src/stages/encoder.ts',
      'src/stages/encodeWorker.ts',
      'src/stages/write.ts',
    ];
    for (const root of roots) expect(graph.edges.has(root), `${root} is missing; update this test`).toBe(true);
    expect(forbiddenChains(graph, roots, [], ['apache-arrow']), 'static import chains from convert to apache-arrow').toEqual([]);
    // The check can fail: compaction, which reads Parquet back into Arrow, does reach it.
    expect(forbiddenChains(graph, ['src/stages/compact.ts'], [], ['apache-arrow'])).not.toEqual([]);
  });

  it('CommonJS packages are loaded by require, not import (src/cjs.ts: 0.06-0.25 CPU s less per package and run)', () => {
    const sources = projectSources();
    const commonJs = /^(@aws-sdk\/|@smithy\/|@duckdb\/node-api$|parquet-wasm$|flatbuffers$)/;
    const users = new Map<string, string[]>();
    for (const [file, src] of sources) {
      if (!file.startsWith('src/')) continue;
      const found = staticImports(src).filter((i) => commonJs.test(i.specifier));
      if (found.length > 0)
        users.set(
          file,
          found.map((i) => i.statement),
        );
      // A dynamic import pays the same scan.
      expect(src.match(/import\(\s*'(@aws-sdk|@smithy|@duckdb|parquet-wasm|flatbuffers)[^']*'\s*\)/g) ?? [], file).toEqual([]);
    }
    for (const file of [
      'src/storage/s3.ts',
      'src/catalog/glue.ts',
      'src/stages/parquetWasm.ts',
      'src/stages/ipc.ts',
      'src/report/engine.ts',
    ])
      expect(users.has(file), `${file} no longer loads a CommonJS package; update this test`).toBe(true);
    const imported = [...users].flatMap(([file, statements]) =>
      statements.filter((st) => !st.startsWith('requireCjs')).map((st) => `${file}: ${st}`),
    );
    expect(imported).toEqual([]);
  });

  it('src/ and schemas/ import nothing from scripts/ or test/ (the CLI ships without them)', () => {
    const graph = buildGraph(projectSources());
    const shipped = [...graph.edges.keys()].filter((f) => f.startsWith('src/') || f.startsWith('schemas/'));
    const wrong = shipped.flatMap((f) =>
      (graph.edges.get(f) ?? []).filter((to) => to.startsWith('scripts/') || to.startsWith('test/')).map((to) => `${f} -> ${to}`),
    );
    expect(wrong).toEqual([]);
  });

  it('the checker finds a known cycle and ignores type-only, dynamic, commented and quoted imports', () => {
    const sources = new Map<string, string>([
      [
        'src/a.ts',
        [
          `import { b } from './b.js';`,
          `import type { C } from './c.js'; // type-only: erased`,
          `import { type D, type E as F } from './d.js'; // every binding type-qualified: erased`,
          `const lazy = async () => (await import('./e.js')).e; // dynamic: not static`,
          `const url = 'http://example.com/'; // '//' inside a string is not a comment`,
          `const re = /\\/\\/[^/]*/g; const half = 1 / 2; const text = "import { x } from './f.js'";`,
          `const tpl = \`\${url}/import { y } from './f.js' \${'}'}\`;`,
          `/* import { z } from './f.js'; */`,
          `export const a = 1;`,
        ].join('\n'),
      ],
      ['src/b.ts', `import {\n  a,\n  type Unused,\n} from './a.js';\nexport const b = a;\n`],
      ['src/c.ts', `import { a } from './a.js';\nexport type C = typeof a;\n`],
      ['src/d.ts', `export type { C } from './c.js';\nexport type D = 1; export type E = 2;\nimport './a.js';\n`],
      ['src/e.ts', `import { a } from './a.js';\nexport const e = a;\n`],
      ['src/f.ts', `export * from './lib/index.js';\n`],
      [
        'src/lib/index.ts',
        `export { f } from '../f.js';\nimport pLimit from 'p-limit';\nimport { readFile } from 'node:fs/promises';\nconst { S3Client } = requireCjs('@aws-sdk/client-s3');\nexport const f = 1;\n`,
      ],
      ['src/self.ts', `import { x } from './self.js';\nexport const x = 1;\n`],
    ]);

    const graph = buildGraph(sources);
    expect(graph.edges.get('src/a.ts')).toEqual(['src/b.ts']);
    expect(graph.edges.get('src/d.ts')).toEqual(['src/a.ts']); // the side-effect import counts, export type does not
    expect(graph.edges.get('src/lib/index.ts')).toEqual(['src/f.ts']);
    expect(graph.packages.get('src/lib/index.ts')).toEqual(['p-limit', 'node:fs', '@aws-sdk/client-s3']);

    // c -> a and e -> a are real, but a reaches neither statically; f <-> lib/index is a re-export knot.
    expect(findCycles(sources)).toEqual([
      'src/a.ts -> src/b.ts -> src/a.ts',
      'src/f.ts -> src/lib/index.ts -> src/f.ts',
      'src/self.ts -> src/self.ts',
    ]);
    expect(forbiddenChains(graph, ['src/d.ts'], ['src/b.ts'], ['p-limit', 'apache-arrow'])).toEqual(['src/d.ts -> src/a.ts -> src/b.ts']);
    expect(forbiddenChains(graph, ['src/f.ts'], ['src/a.ts'], ['p-limit'])).toEqual(['src/f.ts -> src/lib/index.ts -> p-limit']);
  });
});
