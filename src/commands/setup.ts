/**
 * `s3logs setup`: turn on S3 server access logging for a bucket, safely. The report (what would change
 * or what changed, with every policy and configuration as JSON) goes to stdout: it is the result.
 */
import { createControlS3Client } from '../setup/clients.js';
import { ACCOUNT_SOURCE_TEXT, planSetup, type SetupPlan } from '../setup/planSetup.js';
import { parseSetupConfig, type SetupConfig } from '../setup/setupConfig.js';

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
