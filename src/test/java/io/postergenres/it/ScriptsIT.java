package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/submit.sh and scripts/nightly.sh as a newcomer meets them: help, prerequisites checked
 * before any build, and the spark-submit command line they hand over (to a stand-in spark-submit
 * that records its arguments).
 */
class ScriptsIT {
  @TempDir static Path tmp;
  static Path fakeSubmit;
  static Path recorded;

  record Outcome(int code, String output, List<String> submitted) {}

  @BeforeAll
  static void standInSparkSubmit() throws IOException {
    recorded = tmp.resolve("submitted.txt");
    fakeSubmit = tmp.resolve("spark-submit");
    Files.writeString(fakeSubmit, "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > " + recorded + "\n");
    Files.setPosixFilePermissions(fakeSubmit, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  static Outcome run(Map<String, String> env, String... command) throws Exception {
    Files.deleteIfExists(recorded);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().keySet().removeAll(List.of("SPARK_SUBMIT", "MASTER", "MODEL", "POSTERS", "LABELS", "HADOOP_AWS", "SUBMIT_OPTS"));
    pb.environment().put("PATH", "/usr/bin:/bin"); // no spark-submit there
    pb.environment().putAll(env);
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the script answers at once");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Outcome(p.exitValue(), out, Files.exists(recorded) ? Files.readAllLines(recorded) : List.of());
  }

  @Test
  void submitHelpIsNotAnError() throws Exception {
    Outcome o = run(Map.of(), "scripts/submit.sh", "--help");
    assertEquals(0, o.code(), o.output());
    assertTrue(o.output().contains("MASTER is one of") && o.output().contains("HADOOP_AWS"), o.output());
    assertEquals(2, run(Map.of(), "scripts/submit.sh").code(), "no arguments: usage, exit 2");
  }

  @Test
  void submitChecksForSparkSubmitBeforeBuilding() throws Exception {
    long t0 = System.nanoTime();
    Outcome o = run(Map.of(), "scripts/submit.sh", "yarn", "label", "--input", "hdfs://nn/p", "--output", "hdfs://nn/l");
    assertEquals(2, o.code(), o.output());
    assertTrue(o.output().contains("spark-submit not found") && o.output().contains("SPARK_SUBMIT"), o.output());
    assertFalse(o.output().contains("building"), "nothing built: " + o.output());
    assertTrue(System.nanoTime() - t0 < 30_000_000_000L);
    Outcome k8s = run(Map.of("SPARK_SUBMIT", fakeSubmit.toString()), "scripts/submit.sh", "k8s://https://k:6443", "label");
    assertEquals(2, k8s.code(), k8s.output());
    assertTrue(k8s.output().contains("set IMAGE"), k8s.output());
    Outcome typo = run(Map.of("SPARK_SUBMIT", fakeSubmit.toString()), "scripts/submit.sh", "lcoal[2]", "label");
    assertEquals(2, typo.code(), typo.output());
  }

  @Test
  void hadoopAwsOnlyForS3a() throws Exception {
    Map<String, String> env = Map.of("SPARK_SUBMIT", fakeSubmit.toString());
    Outcome local = run(env, "scripts/submit.sh", "local[2]", "label", "--input", "/p", "--output", "/l");
    assertEquals(0, local.code(), local.output());
    assertFalse(local.submitted().contains("--packages"), local.submitted().toString());
    assertTrue(String.join(" ", local.submitted()).contains("--master local[2] --deploy-mode client"), local.submitted().toString());
    Outcome s3 = run(env, "scripts/submit.sh", "spark://m:7077", "--executor-cores", "4", "--", "label",
        "--input", "s3a://bucket/p", "--output", "hdfs://nn/l");
    assertEquals(0, s3.code(), s3.output());
    String line = String.join(" ", s3.submitted());
    assertTrue(line.contains("--packages org.apache.hadoop:hadoop-aws:3.4.2"), line);
    assertTrue(line.contains("--executor-cores 4") && line.endsWith("poster-genres-app.jar label --input s3a://bucket/p --output hdfs://nn/l"), line);
  }

  @Test
  void nightlyHelpAndConfigurationErrorsExitTwo() throws Exception {
    Outcome help = run(Map.of(), "scripts/nightly.sh", "--help");
    assertEquals(0, help.code(), help.output());
    assertTrue(help.output().contains("POSTERS") && help.output().contains("MASTER"), help.output());
    Outcome unset = run(Map.of(), "scripts/nightly.sh");
    assertEquals(2, unset.code(), unset.output());
    assertTrue(unset.output().contains("set POSTERS"), unset.output());
    Outcome clusterModel = run(Map.of("POSTERS", "hdfs://nn/p", "LABELS", "hdfs://nn/l", "MASTER", "yarn",
        "SPARK_SUBMIT", fakeSubmit.toString()), "scripts/nightly.sh");
    assertEquals(2, clusterModel.code(), clusterModel.output());
    assertTrue(clusterModel.output().contains("set MODEL"), clusterModel.output());
  }

  @Test
  void nightlyOnAClusterGoesThroughSubmit() throws Exception {
    Outcome o = run(Map.of("POSTERS", "s3a://c/posters/", "LABELS", "s3a://c/labels", "MODEL", "s3a://c/models/m",
        "MASTER", "yarn", "RUN_DATE", "2026-11-26", "SUBMIT_OPTS", "--num-executors 3", "EXTRA_ARGS", "--batch-size 64",
        "HADOOP_CONF_DIR", "/etc/hadoop", "SPARK_SUBMIT", fakeSubmit.toString()), "scripts/nightly.sh");
    assertEquals(0, o.code(), o.output());
    String line = String.join(" ", o.submitted());
    assertTrue(line.contains("--master yarn --deploy-mode cluster"), line);
    assertTrue(line.contains("--properties-file ") && line.contains("conf/spark-defaults.conf"), line);
    assertTrue(line.contains("--packages org.apache.hadoop:hadoop-aws:"), line);
    assertTrue(line.contains("--num-executors 3"), line);
    assertTrue(line.endsWith("poster-genres-app.jar label --incremental --run-date 2026-11-26 --input s3a://c/posters/"
        + " --output s3a://c/labels --model s3a://c/models/m --batch-size 64"), line);
  }
}
