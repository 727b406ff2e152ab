#!/usr/bin/env bash
# The nightly incremental run: labels only the posters that are new or changed since the last runs.
# Safe to re-run (a date's partition is replaced whole) and refuses to run twice at once.
#
# Settings (environment):
#   POSTERS      input: directory, glob or URI of the poster catalogue (required)
#   LABELS       output directory of the incremental table (required)
#   MODEL        model directory (default: models/mobilenet-poster of this checkout)
#   RUN_DATE     the date this run stands for, YYYY-MM-DD (default: today, UTC)
#   EXTRA_ARGS   more `label` options, e.g. "--max-attempts 5 --batch-size 64"
#   SPARK_SUBMIT set to a spark-submit command line (without the application) to run on a cluster,
#                e.g. "spark-submit --master yarn --deploy-mode cluster" (see README)
#
# Exit codes (for the scheduler): 0 done; 2 bad configuration; 3 input missing; 4 model unusable;
# 5 too many posters failed (all rows written); 6 another run holds the lock; 1 unexpected error.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${POSTERS:?set POSTERS to the poster catalogue}"
: "${LABELS:?set LABELS to the output directory}"
model="${MODEL:-$home/models/mobilenet-poster}"
run_date="${RUN_DATE:-$(date -u +%F)}"

args=(label --incremental --run-date "$run_date" --input "$POSTERS" --output "$LABELS" --model "$model")
# shellcheck disable=SC2206
extra=(${EXTRA_ARGS:-})

if [ -n "${SPARK_SUBMIT:-}" ]; then
  # shellcheck disable=SC2086
  exec $SPARK_SUBMIT --class io.postergenres.cli.PosterGenres "$home/target/poster-genres-app.jar" "${args[@]}" "${extra[@]}"
fi
exec "$home/scripts/poster-genres" "${args[@]}" "${extra[@]}"
