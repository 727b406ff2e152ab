package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application jar under Spark's own launcher, as on a cluster: {@code SparkSubmit} in its own
 * JVM with a classpath of Spark and Hadoop only (what a Spark distribution has), the project's
 * jar with TensorFlow, relocated protobuf, picocli and TwelveMonkeys inside.
 */
class SparkSubmitIT {
  @TempDir Path tmp;

  @Test
  void applicationJarRunsUnderSparkSubmit() throws Exception {
    Path app = Path.of("target/poster-genres-app.jar");
    assertTrue(Files.exists(app), "mvn package builds " + app);
    Path out = tmp.resolve("labels");
    List<String> cmd = new ArrayList<>(LocalSpark.java("2g"));
    cmd.addAll(List.of("-cp", LocalSpark.sparkClasspath(), "org.apache.spark.deploy.SparkSubmit",
        "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--class", "io.postergenres.cli.PosterGenres",
        app.toString(), "label", "--input", "src/samples/posters", "--output", out.toString(), "--model", "models/postercnn"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), log);
    assertTrue(log.contains("11 files listed, 10 labelled, 1 failed"), log);
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      assertEquals(11, spark.read().parquet(out.toString()).count());
    } finally {
      spark.stop();
    }
  }
}
