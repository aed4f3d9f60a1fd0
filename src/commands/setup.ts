/**
 * `s3logs setup`: turn on S3 server access logging for a bucket, safely. The report (what would change
 * or what changed, with every policy and configuration as JSON) goes to stdout: it is the result.
 */
import { createControlS3Client } from '../setup/clients.js';
import { ACCOUNT_SOURCE_TEXT, planSetup, type SetupPlan } from '../setup/planSetup.js';
import { parseSetupConfig, type SetupConfig } from '../setup/setupConfig.js';

export const SETUP_HELP = `s3logs setup --bucket <source> --log-bucket <dest> [options]

Enables S3 server access logging on --bucket, delivered to --log-bucket, and gives S3's log delivery
(logging.s3.amazonaws.com) permission to write there. Reads first and writes only what differs, so a
second run changes nothing. Other bucket policy statements and lifecycle rules are kept.
Refuses a log bucket equal to the source bucket or in another region.

  --bucket <name>               the bucket whose requests are logged
  --log-bucket <name>           where S3 delivers the raw logs (same region, not --bucket)
  --log-prefix <prefix>         key prefix of the raw logs (default logs/; a trailing / is added)
  --key-format simple|partitioned   S3 log object keys (default partitioned: <prefix><account>/<region>/<bucket>/YYYY/MM/DD/...)
  --partition-date event|delivery   with partitioned keys: date of the request (default) or of delivery
  --account <id>                12-digit account owning --bucket, for the aws:SourceAccount condition
                                (default: --expected-bucket-owner, else the account in an existing log
                                delivery statement of --log-bucket, else the caller's account from STS
                                GetCallerIdentity; the output says which was used)
  --raw-transition-days <n>     lifecycle: move raw logs to --raw-transition-class after n days
  --raw-transition-class STANDARD_IA|INTELLIGENT_TIERING|GLACIER_IR   (default STANDARD_IA, n >= 30)
  --raw-expire-days <n>         lifecycle: delete raw logs after n days, but only those tagged
                                s3logs-converted=true (convert --tag-converted sets it)
  --dry-run                     print every change (policies and configurations as JSON), change nothing
  --json                        print the plan as JSON on stdout

AWS options: --region, --profile, --endpoint-url, --expected-bucket-owner (see s3logs convert --help).
IAM permissions setup needs, the policy it writes and the key-format trade-off: docs/logging.md.

Exit codes: 0 done (or nothing to do), 1 an AWS call failed, 2 bad usage or a refused setup.
`;

export async function runSetup(argv: string[]): Promise<number> {
  const config = parseSetupConfig(argv);
  const client = createControlS3Client(config.aws);
  try {
    const plan = await planSetup(client, config);
    if (!config.dryRun) {
      // One at a time, in plan order: the delivery permission exists before logging starts.
      for (const change of plan.changes) await change.apply();
    }
    process.stdout.write(config.json ? JSON.stringify(planJson(plan, config)) + '\n' : formatPlan(plan, config));
    return 0;
  } finally {
    client.destroy();
  }
}

function planJson(plan: SetupPlan, config: SetupConfig): unknown {
  return {
    dryRun: config.dryRun,
    sourceBucket: config.sourceBucket,
    logBucket: config.logBucket,
    logPrefix: config.logPrefix,
    region: plan.region,
    account: plan.account,
    accountSource: plan.accountSource,
    changed: !config.dryRun && plan.changes.length > 0,
    changes: plan.changes.map(({ what, bucket, summary, before, after }) => ({ what, bucket, summary, before, after })),
    unchanged: plan.unchanged,
  };
}

export function formatPlan(plan: SetupPlan, config: SetupConfig): string {
  const lines = [
    `s3logs setup: ${config.sourceBucket} (${plan.region}, account ${plan.account}) → s3://${config.logBucket}/${config.logPrefix}`,
    `aws:SourceAccount ${plan.account} from ${ACCOUNT_SOURCE_TEXT[plan.accountSource]}${plan.accountSource === 'flag' ? '' : ' (--account to override)'}`,
  ];
  const verb = config.dryRun ? 'would change' : 'changed';
  for (const change of plan.changes) {
    lines.push('', `${verb} ${change.what} of ${change.bucket}: ${change.summary}`);
    if (change.before !== null) lines.push(`  before: ${JSON.stringify(change.before, null, 2).replace(/\n/g, '\n  ')}`);
    lines.push(`  after:  ${JSON.stringify(change.after, null, 2).replace(/\n/g, '\n  ')}`);
  }
  if (plan.unchanged.length) lines.push('', `already as wanted: ${plan.unchanged.join(', ')}`);
  if (plan.changes.length === 0) lines.push('', 'Nothing to change.');
  else if (config.dryRun) lines.push('', 'Dry run: nothing was changed. Run again without --dry-run to apply.');
  else lines.push('', 'S3 starts delivering logs within about an hour; check with `s3logs doctor`.');
  return lines.join('\n') + '\n';
}
