package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.image.TestImages;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code scripts/poster-genres label} as a user does, in its own JVM, on real CCU posters
 * (from {@code -Dposter.datasets}, default ../shared/datasets) next to broken files, and the README's
 * first command on the shipped samples. Runs after {@code package}, so the script finds the jar.
 */
class LabelScriptIT {
  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void startReader() {
    spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
  }

  @AfterAll
  static void stopReader() {
    spark.stop();
  }

  record Run(int code, String output) {}

  static Run script(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("scripts/poster-genres"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("POSTER_GENRES_MEMORY", "2g");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "script timed out");
    return new Run(p.exitValue(), out);
  }

  static Path model() throws IOException {
    Path shipped = Path.of("models/postercnn");
    return Files.exists(shipped.resolve("model.json")) ? shipped : TestModels.write(tmp.resolve("model"), 64, 48, 5);
  }

  @Test
  void realPostersNextToBrokenFiles() throws Exception {
    Path dataset = Path.of(System.getProperty("poster.datasets", "../shared/datasets"), "ccu-movie-posters", "Movie_Poster_Dataset");
    assumeTrue(Files.isDirectory(dataset),
        "CCU posters not found at " + dataset.toAbsolutePath() + "; set -Dposter.datasets=DIR to run this test");
    Path year = dataset.resolve("2015");
    long real;
    try (Stream<Path> s = Files.list(year)) {
      real = s.filter(f -> f.toString().endsWith(".jpg")).count();
    }
    Path broken = tmp.resolve("broken");
    Files.createDirectories(broken);
    Files.write(broken.resolve("empty.jpg"), new byte[0]);
    Files.writeString(broken.resolve("notes.jpg"), "a text file\n");
    Files.write(broken.resolve("cut.jpg"),
        TestImages.truncated(TestImages.jpeg(TestImages.solid(300, 444, Color.RED), false), 0.5));
    Path out = tmp.resolve("real-labels");

    Run run = script("label", "--input", year.toString(), broken.toString(), "--output", out.toString(),
        "--model", model().toString(), "--master", "local[2]");
    assertEquals(0, run.code(), run.output());
    assertTrue(run.output().contains((real + 3) + " files listed, " + real + " labelled, 3 failed"), run.output());

    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    assertEquals(real + 3, rows.size());
    long labelled = rows.stream().filter(r -> r.isNullAt(r.fieldIndex("error_kind"))).count();
    assertEquals(real, labelled, "every real poster decodes and gets genres");
    for (Row r : rows) {
      if (r.isNullAt(r.fieldIndex("error_kind"))) {
        assertFalse(r.getList(r.fieldIndex("genres")).isEmpty(), "min_genres >= 1 gives every poster a genre");
      }
    }
  }

  @Test
  void readmeQuickStartOnShippedSamples() throws Exception {
    assumeTrue(Files.exists(Path.of("models/mobilenet-poster/model.json")),
        "no model in models/mobilenet-poster yet; the README's first command needs one");
    Path out = tmp.resolve("samples-out");
    Run run = script("label", "--input", "src/samples/posters", "--output", out.toString(), "--mode", "overwrite");
    assertEquals(0, run.code(), run.output());
    assertTrue(run.output().contains("11 files listed, 10 labelled, 1 failed"), run.output());
    assertTrue(run.output().contains("  report " + out), "the summary names the report: " + run.output());
    assertFalse(run.output().contains("resolves to a loopback address"), "a local run stays on loopback: " + run.output());
    // the README's next command: the labels read back in one line
    Run show = script("show", out.toString(), "--poster", "night-chase.jpg");
    assertEquals(0, show.code(), show.output());
    assertTrue(show.output().contains("/night-chase.jpg") && show.output().contains("  genres  "), show.output());
  }
}
