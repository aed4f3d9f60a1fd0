/**
 * A Chromium for browser tests that needs nothing but `npm ci`: a system Chromium when one is there
 * (S3LOGS_CHROMIUM, or chromium / chromium-browser / google-chrome on PATH), otherwise the one that
 * @sparticuz/chromium ships inside its npm package (unpacked to the temp directory on first use).
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface BrowserExecutable {
  readonly path: string;
  /** Flags the executable needs besides the test's own. */
  readonly args: readonly string[];
  readonly from: 'env' | 'path' | 'npm';
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(names: readonly string[]): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (await executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export async function findChromium(): Promise<BrowserExecutable> {
  const fromEnv = process.env.S3LOGS_CHROMIUM;
  if (fromEnv) {
    if (!(await executable(fromEnv))) throw new Error(`S3LOGS_CHROMIUM=${fromEnv} is not an executable file`);
    return { path: fromEnv, args: [], from: 'env' };
  }
  const system = await onPath(['chromium', 'chromium-browser', 'google-chrome']);
  if (system) return { path: system, args: [], from: 'path' };
  const packaged = (await import('@sparticuz/chromium')).default;
  return { path: await packaged.executablePath(), args: packaged.args, from: 'npm' };
}
