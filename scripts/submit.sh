#!/usr/bin/env bash
# Submits poster-genres to a cluster with spark-submit. Builds target/poster-genres-app.jar if missing.
#
#   scripts/submit.sh MASTER [spark-submit options --] poster-genres arguments...
#
# MASTER is one of:
#   spark://host:7077        Spark standalone (cluster deploy mode: the driver runs on a worker)
#   yarn                     Hadoop YARN (cluster deploy mode; HADOOP_CONF_DIR must point at the cluster)
#   k8s://https://host:6443  Kubernetes (cluster deploy mode; set IMAGE to a Spark 4.1 image with the jar inside)
#   local[N]                 this machine, for a try-out
#
# Examples:
#   scripts/submit.sh spark://master:7077 label --input hdfs://nn:8020/posters --output hdfs://nn:8020/labels/2026-11-26
#   scripts/submit.sh yarn --num-executors 20 -- label --incremental --input s3a://catalogue/posters/ --output s3a://catalogue/poster-labels
#   IMAGE=registry/poster-genres:0.1 scripts/submit.sh k8s://https://k8s:6443 label --input s3a://... --output s3a://...
#
# Settings (environment): SPARK_SUBMIT (default: spark-submit on PATH), PROPERTIES (default: conf/spark-defaults.conf),
# DEPLOY_MODE (default: cluster, or client for local), HADOOP_AWS (default 3.4.2: the org.apache.hadoop:hadoop-aws
# version added with --packages when an argument names s3a://; "none" if your Spark ships S3A), IMAGE (Kubernetes only).
# Credentials come from Hadoop's and AWS's standard providers (environment, profile, instance or pod role);
# never pass keys on this command line, where `ps` would show them.
#
# Exit codes: those of poster-genres (see README); 2 also when this script's own settings are wrong.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
esac
if [ $# -lt 2 ]; then
  usage >&2
  exit 2
fi
fail() { echo "submit.sh: $*" >&2; exit 2; }
master="$1"; shift
extra=()
if printf '%s\n' "$@" | grep -qx -- '--'; then
  while [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
fi

# Prerequisites first, before a build of several minutes.
read -ra submit <<< "${SPARK_SUBMIT:-spark-submit}"
command -v "${submit[0]}" > /dev/null \
  || fail "${submit[0]} not found: install Spark 4.1 for Scala 2.13 and put its bin/ on the PATH, or set SPARK_SUBMIT"
properties="${PROPERTIES:-$home/conf/spark-defaults.conf}"
[ -f "$properties" ] || fail "PROPERTIES names $properties, which is not a file"
case "$master" in
  local|local\[*\]|spark://*|yarn|k8s://*) ;;
  *) fail "MASTER '$master' is not one of spark://HOST:PORT, yarn, k8s://https://HOST:PORT, local[N]" ;;
esac
case "$master" in
  k8s://*) [ -n "${IMAGE:-}" ] || fail "set IMAGE to a Spark 4.1 (Scala 2.13) image that contains poster-genres-app.jar" ;;
  yarn) [ -n "${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-}" ] || echo "submit.sh: warning: HADOOP_CONF_DIR is not set" >&2 ;;
esac

jar="$home/target/poster-genres-app.jar"
if [ ! -f "$jar" ] && [[ "$master" != k8s://* ]]; then
  command -v mvn > /dev/null || fail "$jar is missing and Maven (mvn) is not installed to build it"
  echo "submit.sh: building $jar (a few minutes; the first build downloads the dependencies) ..." >&2
  mvn -B -q -ntp -Dstyle.color=never -f "$home/pom.xml" -DskipTests package >&2
fi

case "$master" in
  local*) mode="${DEPLOY_MODE:-client}" ;;
  *) mode="${DEPLOY_MODE:-cluster}" ;;
esac
args=(--master "$master" --deploy-mode "$mode" --class io.postergenres.cli.PosterGenres --properties-file "$properties")
# S3A's client only where something is on S3: --packages downloads it from Maven Central on every submit.
if [ "${HADOOP_AWS:-3.4.2}" != "none" ] && printf '%s\n' "$@" "${extra[@]}" | grep -q 's3a://'; then
  args+=(--packages "org.apache.hadoop:hadoop-aws:${HADOOP_AWS:-3.4.2}")
fi
case "$master" in
  k8s://*)
    args+=(--conf "spark.kubernetes.container.image=$IMAGE")
    jar="local:///opt/poster-genres/poster-genres-app.jar"   # the path inside the image
    ;;
esac
exec "${submit[@]}" "${args[@]}" "${extra[@]}" "$jar" "$@"
