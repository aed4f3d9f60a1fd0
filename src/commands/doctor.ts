/**
 * `s3logs doctor`: a checklist of everything a working access-log pipeline needs, each line ✓ or ✗ with
 * the fix. The checklist is the result, so it goes to stdout (--json: one JSON object instead).
 */
import { formatChecklist } from '../setup/check.js';
import { diagnose } from '../setup/diagnose.js';
import { parseDoctorConfig } from '../setup/doctorConfig.js';

export async function runDoctor(argv: string[]): Promise<number> {
  const config = parseDoctorConfig(argv);
  const checks = await diagnose(config);
  const ok = checks.every((c) => c.status !== 'fail');
  if (config.json) process.stdout.write(JSON.stringify({ ok, checks }) + '\n');
  else process.stdout.write(`s3logs doctor: --source ${config.source} --dest ${config.dest}\n${formatChecklist(checks)}`);
  return ok ? 0 : 1;
}
