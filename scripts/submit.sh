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
# DEPLOY_MODE (default: cluster, or client for local), HADOOP_AWS (default 3.4.2: adds org.apache.hadoop:hadoop-aws
# for s3a:// unless set to "none"), IMAGE (Kubernetes only).
# Credentials come from Hadoop's and AWS's standard providers (environment, profile, instance or pod role);
# never pass keys on this command line, where `ps` would show them.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
master="$1"; shift
extra=()
if printf '%s\n' "$@" | grep -qx -- '--'; then
  while [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
fi

jar="$home/target/poster-genres-app.jar"
if [ ! -f "$jar" ]; then
  echo "submit.sh: building $jar ..." >&2
  mvn -q -f "$home/pom.xml" -DskipTests package >&2
fi

case "$master" in
  local*) mode="${DEPLOY_MODE:-client}" ;;
  *) mode="${DEPLOY_MODE:-cluster}" ;;
esac
args=(--master "$master" --deploy-mode "$mode" --class io.postergenres.cli.PosterGenres
      --properties-file "${PROPERTIES:-$home/conf/spark-defaults.conf}")
if [ "${HADOOP_AWS:-3.4.2}" != "none" ]; then
  args+=(--packages "org.apache.hadoop:hadoop-aws:${HADOOP_AWS:-3.4.2}")
fi
case "$master" in
  k8s://*)
    : "${IMAGE:?set IMAGE to a Spark 4.1 (Scala 2.13) image that contains poster-genres-app.jar}"
    args+=(--conf "spark.kubernetes.container.image=$IMAGE")
    jar="local:///opt/poster-genres/poster-genres-app.jar"   # the path inside the image
    ;;
  yarn)
    [ -n "${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-}" ] || echo "submit.sh: warning: HADOOP_CONF_DIR is not set" >&2
    ;;
esac
read -ra submit <<< "${SPARK_SUBMIT:-spark-submit}"
exec "${submit[@]}" "${args[@]}" "${extra[@]}" "$jar" "$@"
