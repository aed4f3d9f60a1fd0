/**
 * Where the conformance tests find real log lines: ../shared/corpus when this clone has it (and
 * S3LOGS_TEST_VENDORED_CORPUS is not 1), otherwise the licence-permitted copies in test/fixtures/corpus.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedCorpus = path.resolve(repoRoot, '../shared/corpus');
export const fixtureCorpus = path.join(repoRoot, 'test/fixtures/corpus');
export const useShared = existsSync(sharedCorpus) && process.env.S3LOGS_TEST_VENDORED_CORPUS !== '1';
export const corpusDir = useShared ? sharedCorpus : fixtureCorpus;

/** Documentation and expected-output files: not log objects. */
export function isLogFile(rel: string): boolean {
  return !/\.(md|jsonl|yaml)$/.test(rel);
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(dir, name)).isDirectory()) out.push(...listFiles(path.join(dir, name), rel));
    else out.push(rel);
  }
  return out;
}
