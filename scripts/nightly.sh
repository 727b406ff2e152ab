#!/usr/bin/env bash
# The nightly incremental run: labels only the posters that are new or changed since the last runs.
# Safe to re-run (a date's partition is replaced whole, and the summary says it was a re-run) and
# refuses to run twice at once.
#
# Settings (environment):
#   POSTERS      input: directory, glob or URI of the poster catalogue (required)
#   LABELS       output directory of the incremental table (required)
#   MODEL        model directory (default: the label command's default model; required on a cluster
#                in cluster deploy mode, where this checkout's path means nothing: use hdfs:// or s3a://)
#   RUN_DATE     the date this run stands for, YYYY-MM-DD (default: today, UTC)
#   EXTRA_ARGS   more `label` options, e.g. "--max-attempts 5 --batch-size 64"
#   TABLE_FORMAT parquet (default) or iceberg: keep the labels as an Apache Iceberg table (docs/nightly.md)
#   CATALOG      with iceberg: the Iceberg catalog, jdbc:postgresql://HOST:PORT/DB?user=... (required for s3a://)
#                or a REST catalog's http(s):// URL (default: a Hadoop catalog in LABELS, local disk or HDFS)
#   EXPIRE_DAYS  with iceberg: expire snapshots older than this many days after the run (default 30; 0 keeps all)
#   COMPACT      with iceberg: 1 compacts the table's data files after the run, 0 does not (default: 1 on Sundays)
#   MASTER       run on a cluster through scripts/submit.sh (spark://..., yarn, k8s://...), which builds
#                the application jar and passes conf/spark-defaults.conf and, for s3a://, hadoop-aws;
#                unset: this machine, through scripts/poster-genres
#   SUBMIT_OPTS  spark-submit options for submit.sh, e.g. "--num-executors 20 --executor-cores 4"
#                (submit.sh's settings, SPARK_SUBMIT, DEPLOY_MODE, HADOOP_AWS, IMAGE, apply too)
#
# Exit codes (for the scheduler): 0 done; 2 bad configuration; 3 input missing; 4 model unusable;
# 5 too many posters failed (all rows written); 6 another run holds the lock; 1 unexpected error.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  "") ;;
  *) echo "nightly.sh: takes no arguments, only the settings in its environment (nightly.sh --help lists them)" >&2; exit 2 ;;
esac
fail() { echo "nightly.sh: $*; nightly.sh --help lists the settings" >&2; exit 2; }
[ -n "${POSTERS:-}" ] || fail "set POSTERS to the poster catalogue"
[ -n "${LABELS:-}" ] || fail "set LABELS to the output directory"
[ -z "${SPARK_SUBMIT:-}" ] || [ -n "${MASTER:-}" ] \
  || fail "SPARK_SUBMIT alone no longer picks a cluster: set MASTER (spark://..., yarn, k8s://...) and SUBMIT_OPTS"
run_date="${RUN_DATE:-$(date -u +%F)}"
[[ "$run_date" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || fail "RUN_DATE must be YYYY-MM-DD, not '$run_date'"

args=(label --incremental --run-date "$run_date" --input "$POSTERS" --output "$LABELS")
if [ -n "${MODEL:-}" ]; then
  args+=(--model "$MODEL")
elif [ -n "${MASTER:-}" ] && [[ "$MASTER" != local* ]] && [ "${DEPLOY_MODE:-cluster}" = cluster ]; then
  fail "set MODEL to a model directory the cluster's driver can read (hdfs://... or s3a://...)"
fi
case "${TABLE_FORMAT:-parquet}" in
  parquet) [ -z "${CATALOG:-}" ] || fail "CATALOG applies to TABLE_FORMAT=iceberg only" ;;
  iceberg)
    expire="${EXPIRE_DAYS:-30}"
    [[ "$expire" =~ ^[0-9]+$ ]] || fail "EXPIRE_DAYS must be a number of days, not '$expire'"
    args+=(--table-format iceberg --expire-snapshots-days "$expire")
    [ -z "${CATALOG:-}" ] || args+=(--catalog "$CATALOG")
    compact="${COMPACT:-$([ "$(date -u +%u)" = 7 ] && echo 1 || echo 0)}"
    case "$compact" in 1) args+=(--compact) ;; 0) ;; *) fail "COMPACT must be 1 or 0, not '$compact'" ;; esac
    ;;
  *) fail "TABLE_FORMAT must be parquet or iceberg, not '$TABLE_FORMAT'" ;;
esac
# shellcheck disable=SC2206
extra=(${EXTRA_ARGS:-})

if [ -n "${MASTER:-}" ]; then
  # shellcheck disable=SC2206
  opts=(${SUBMIT_OPTS:-})
  if [ ${#opts[@]} -gt 0 ]; then opts+=(--); fi
  exec "$home/scripts/submit.sh" "$MASTER" "${opts[@]}" "${args[@]}" "${extra[@]}"
fi
exec "$home/scripts/poster-genres" "${args[@]}" "${extra[@]}"
