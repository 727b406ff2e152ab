package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Issue #13 item 6: no Spark UI on every interface during a local label run unless asked for. */
class SparkUiTest {
  static SparkConf confOf(String... args) {
    LabelCommand label = new LabelCommand();
    new CommandLine(label).parseArgs(args);
    return label.sparkConf(new SparkConf(false));
  }

  @Test
  void localRunsHaveNoUiUnlessAskedFor() {
    assertEquals("false", confOf("--input", "x", "--output", "y").get("spark.ui.enabled"));
    assertEquals("false", confOf("--input", "x", "--output", "y", "--master", "local[2]").get("spark.ui.enabled"));
    assertEquals("true", confOf("--input", "x", "--output", "y", "--conf", "spark.ui.enabled=true").get("spark.ui.enabled"));
  }

  @Test
  void executorsRunTensorFlowsOneDnnKernelsUnlessTheUserSaysOtherwise() {
    assertEquals("1", confOf("--input", "x", "--output", "y", "--master", "spark://h:7077").get("spark.executorEnv.TF_ENABLE_ONEDNN_OPTS"));
    assertEquals("0", confOf("--input", "x", "--output", "y", "--master", "spark://h:7077", "--conf",
        "spark.executorEnv.TF_ENABLE_ONEDNN_OPTS=0").get("spark.executorEnv.TF_ENABLE_ONEDNN_OPTS"));
  }

  @Test
  void clusterRunsKeepSparksDefault() {
    assertFalse(confOf("--input", "x", "--output", "y", "--master", "spark://h:7077").contains("spark.ui.enabled"));
  }
}
