/**
 * `s3logs doctor`: a checklist of everything a working access-log pipeline needs, each line ✓ or ✗ with
 * the fix. The checklist is the result, so it goes to stdout (--json: one JSON object instead).
 */
import { formatChecklist } from '../setup/check.js';
import { diagnose } from '../setup/diagnose.js';
import { parseDoctorConfig } from '../setup/doctorConfig.js';

export const DOCTOR_HELP = `s3logs doctor --source <s3 uri> --dest <uri> [--bucket <logged bucket>] [--catalog glue --database d --table t]

Checks that S3 server access logging and the conversion can work, and prints one line per check,
✓ or ✗ with the fix:
  credentials and region resolve;
  logging is on for the logged bucket and delivers to --source (GetBucketLogging);
  the log bucket is a separate bucket in the same region;
  the log bucket policy lets logging.s3.amazonaws.com put objects under the log prefix, and no more
    (no "*" principal, only s3:PutObject, aws:SourceAccount and aws:SourceArn conditions);
  no lifecycle rule expires raw logs that are not tagged s3logs-converted=true;
  --source can be listed and read, --dest takes a put and a delete (probe _s3logs/doctor-probe-<random>,
    removed again);
  with --catalog glue: the Glue database and table are reachable;
  once --dest holds converted key dates: the newest ones hold no live presigned-URL secrets
    (X-Amz-Security-Token, X-Amz-Signature, …); a warning (!) suggests --redact presigned, it does
    not fail doctor.

  --source <s3://bucket/prefix/>   where S3 delivers the raw logs (convert's --source)
  --dest <uri>                  where convert writes Parquet (s3://... or a directory)
  --bucket <name>               the logged bucket; default: read from date-based keys under --source,
                                or with simple keys from the records of the log object doctor reads
  --catalog local|glue|none     check Glue only with glue (default local)
  --database <db> --table <t>   Glue names (default s3_access_logs.access_logs)
  --json                        one JSON object on stdout: {"ok": ..., "checks": [{id, title, status, detail, fix}]}

AWS options: --region, --profile, --endpoint-url, --expected-bucket-owner (see s3logs convert --help).

Exit codes: 0 every check passed (warnings included), 1 some check failed, 2 bad usage.
`;

export async function runDoctor(argv: string[]): Promise<number> {
  const config = parseDoctorConfig(argv);
  const checks = await diagnose(config);
  const ok = checks.every((c) => c.status !== 'fail');
  if (config.json) process.stdout.write(JSON.stringify({ ok, checks }) + '\n');
  else process.stdout.write(`s3logs doctor: --source ${config.source} --dest ${config.dest}\n${formatChecklist(checks)}`);
  return ok ? 0 : 1;
}
