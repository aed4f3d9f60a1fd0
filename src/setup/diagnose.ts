/** `s3logs doctor`'s checks in order: who am I, which bucket logs here, its configuration, then access. */
import { errorMessage } from '../errors.js';
import { checkCredentials, checkDestAccess, checkGlue, checkSourceAccess } from './accessChecks.js';
import { checkLifecycle, checkLogging, checkPolicy, checkSeparateBucket, type BucketContext } from './bucketChecks.js';
import { fail, pass, skip, type Check } from './check.js';
import { createControlS3Client, s3ErrorName } from './clients.js';
import type { DoctorConfig } from './doctorConfig.js';
import { checkLakeSecrets } from './lakeSecrets.js';
import { bucketsInLogLines, findLoggedBuckets, type LoggedBucket } from './loggedBuckets.js';

export async function diagnose(config: DoctorConfig): Promise<Check[]> {
  const client = createControlS3Client(config.aws);
  try {
    const { check: credentials, region } = await checkCredentials(client);
    if (credentials.status === 'fail')
      return [credentials, skip('remaining', 'other checks', 'skipped: they all need credentials and a region')];
    const checks: Check[] = [credentials];
    const owner = config.aws.expectedBucketOwner ? { ExpectedBucketOwner: config.aws.expectedBucketOwner } : {};
    const ctx: BucketContext = { client, logBucket: config.logBucket, logPrefix: config.logPrefix, owner };

    // Read first: with simple keys, the lines of the log object it reads are what name the logged bucket.
    const source = await checkSourceAccess(config.source, config.aws);
    let logged: LoggedBucket[] = [];
    try {
      logged = await findLoggedBuckets(client, {
        ...config,
        ...(config.aws.expectedBucketOwner ? { expectedBucketOwner: config.aws.expectedBucketOwner } : {}),
      });
      if (logged.length === 0) {
        const named = source.sample ? await bucketsInLogLines(source.sample.body) : [];
        if (named.length > 0) {
          logged = named.map((bucket) => ({ bucket, targetPrefix: config.logPrefix }));
          checks.push(
            pass(
              'logged-bucket',
              'logged bucket',
              `${named.join(', ')}, named by the log records of ${source.sample!.key} (simple keys name no bucket; --bucket to check another)`,
            ),
          );
        } else {
          const why = source.sample ? `${source.sample.key} holds no access log record to name it` : 'there is no log object to read yet';
          checks.push(
            fail(
              'logged-bucket',
              'logged bucket',
              `cannot tell which bucket logs into ${config.source}: no date-based log keys name one, and ${why}`,
              'pass --bucket <the bucket whose requests are logged>',
            ),
          );
        }
      }
    } catch (error) {
      checks.push(
        fail(
          'logged-bucket',
          'logged bucket',
          `listing ${config.source} to find the logged buckets failed (${s3ErrorName(error)}: ${errorMessage(error)})`,
          `pass --bucket <the logged bucket>, or grant s3:ListBucket on arn:aws:s3:::${config.logBucket}`,
        ),
      );
    }
    for (const l of logged) {
      checks.push(await checkSeparateBucket(ctx, l));
      checks.push(await checkLogging(ctx, l));
      checks.push(await checkPolicy(ctx, l, region));
    }
    checks.push(await checkLifecycle(ctx, config.logPrefix));
    checks.push(...source.checks);
    checks.push(...(await checkDestAccess(config.dest, config.aws)));
    const secrets = await checkLakeSecrets(config.dest, config.aws);
    if (secrets) checks.push(secrets);
    if (config.catalog === 'glue') checks.push(await checkGlue(config.database, config.table, config.aws));
    return checks;
  } finally {
    client.destroy();
  }
}
