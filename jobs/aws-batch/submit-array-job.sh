#!/usr/bin/env bash
# Submits an s3logs backfill as an AWS Batch array job: SHARDS children, each converting its 1/SHARDS
# slice of every key date from FROM to TO (Batch sets AWS_BATCH_JOB_ARRAY_INDEX in each child; the
# job definition passes --shards SHARDS). For each key date the child that finishes it last publishes
# it. The array size and --shards are both set from SHARDS here, so they cannot disagree.
#
#   jobs/aws-batch/submit-array-job.sh 2024-01-01 2024-01-31 8
#
# Environment: JOB_QUEUE (default s3logs), JOB_DEFINITION (default s3logs-backfill, registered from
# job-definition.json with `aws batch register-job-definition --cli-input-json file://job-definition.json`),
# PARALLEL_DATES (key dates each child works on at once, default 2), plus the usual AWS_PROFILE /
# AWS_REGION for the aws CLI. Prints the array job's id.
#
# Resume: submit the same range again. Key dates already published with the same input objects are
# skipped; only failed or missing ones are converted.
set -euo pipefail

usage() {
  echo "usage: $0 FROM TO [SHARDS]   (dates YYYY-MM-DD, SHARDS 2..10000, default 8)" >&2
  exit 2
}

[[ $# -ge 2 && $# -le 3 ]] || usage
from=$1
to=$2
shards=${3:-8}
date_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
[[ $from =~ $date_re && $to =~ $date_re ]] || usage
[[ ! $to < $from ]] || { echo "$0: TO ($to) is before FROM ($from)" >&2; exit 2; }
# Batch array jobs have 2 to 10,000 children; for one worker submit without --array-properties.
[[ $shards =~ ^[0-9]+$ ]] && (( shards >= 2 && shards <= 10000 )) || usage
parallel_dates=${PARALLEL_DATES:-2}
[[ $parallel_dates =~ ^[0-9]+$ ]] && (( parallel_dates >= 1 && parallel_dates <= 32 )) || usage

aws batch submit-job \
  --job-name "s3logs-backfill-${from}-to-${to}" \
  --job-queue "${JOB_QUEUE:-s3logs}" \
  --job-definition "${JOB_DEFINITION:-s3logs-backfill}" \
  --array-properties "size=${shards}" \
  --parameters "from=${from},to=${to},shards=${shards},parallelDates=${parallel_dates}" \
  --query jobId \
  --output text
