package io.postergenres.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.image.TestImages;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole benchmark on a tiny model and 40 small posters, in local[2] Spark: every line is
 * measured, the ratios are the quotients of the figures they name, and a model compared with
 * itself scores identically. No timing is asserted.
 */
class BenchTest {
  @TempDir static Path dir;
  static Path posters;
  static Path model;

  @BeforeAll
  static void posters() throws Exception {
    posters = dir.resolve("posters");
    Files.createDirectories(posters);
    for (int i = 0; i < 40; i++) {
      Color c = new Color((37 * i) % 256, (91 * i) % 256, (53 * i) % 256);
      Files.write(posters.resolve(String.format("p%02d.jpg", i)), TestImages.jpeg(TestImages.solid(40, 60, c), i % 3 == 0));
    }
    model = TestModels.write(dir.resolve("model"), 24, 24, 5);
  }

  @AfterAll
  static void closeModels() {
    ModelCache.closeAll();
  }

  @SuppressWarnings("unchecked")
  @Test
  void measuresEveryLineAndRatiosAreTheirQuotients() throws Exception {
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    Map<String, Object> report;
    try (PrintStream out = new PrintStream(table, true, StandardCharsets.UTF_8)) {
      report = new Bench(new Bench.Settings(model.toString(), posters, 40, 8, "local[2]", dir.resolve("work"), model.toString(), 2), out)
          .run();
    }
    String printed = table.toString(StandardCharsets.UTF_8);
    for (String line : List.of("1. ceiling", "2. batched inference", "2a. bound", "2c. read + decode + infer", "2d. in-process inference of --compare-model",
        "3. Spark job", "3c. the same with --bf16", "4. naive job", "5. read + preprocess", "5b. the same with ImageIO")) {
      assertTrue(printed.contains(line), "table has '" + line + "':\n" + printed);
    }
    Map<String, Object> results = (Map<String, Object>) report.get("results");
    for (String key : List.of("ceiling", "in_process_inference", "decode_and_infer_bound", "in_process_pipeline", "in_process_inference_bf16",
        "spark_job", "spark_job_without_decode_ahead", "spark_job_bf16", "naive_udf_job", "read_and_preprocess", "read_and_preprocess_imageio", "in_process_inference_compared_model")) {
      Map<String, Object> r = (Map<String, Object>) results.get(key);
      assertTrue(r != null, "results has " + key);
      assertTrue(((Number) r.get("posters_per_second")).doubleValue() > 0, key + " measured: " + r);
    }
    Map<String, Object> compared = (Map<String, Object>) results.get("in_process_inference_compared_model");
    assertEquals(0.0, ((Number) compared.get("max_score_difference")).doubleValue(), "the same model scores the same");
    assertEquals(1.0, ((Number) compared.get("top3_agreement")).doubleValue());

    Map<String, Object> ratios = (Map<String, Object>) report.get("ratios");
    double job = rate(results, "spark_job");
    assertRatio(job / rate(results, "ceiling"), ratios.get("spark_job_over_ceiling"));
    assertRatio(job / rate(results, "in_process_inference"), ratios.get("spark_job_over_in_process"));
    assertRatio(job / rate(results, "in_process_pipeline"), ratios.get("spark_job_over_in_process_pipeline"));
    assertRatio(job / rate(results, "naive_udf_job"), ratios.get("spark_job_over_naive"));
    double bound = 1 / (1 / rate(results, "in_process_inference") + 1 / rate(results, "read_and_preprocess"));
    assertEquals(bound, rate(results, "decode_and_infer_bound"), 0.01 * bound);
    Map<String, Object> settings = (Map<String, Object>) report.get("settings");
    assertEquals(40, settings.get("posters"));
    assertEquals(2, settings.get("repeat"));
    assertTrue(((Number) report.get("peak_rss_mb")).longValue() > 0);
  }

  @Test
  @SuppressWarnings("unchecked")
  void timesAModelOfAnotherInputSizeAtItsOwnSizeAndRefusesAMissingOne() throws Exception {
    Path other = TestModels.write(dir.resolve("other"), 32, 32, 6);
    Map<String, Object> report = new Bench(new Bench.Settings(model.toString(), posters, 8, 8, "local[2]", dir.resolve("work2"),
        other.toString(), 1), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
    Map<String, Object> compared = (Map<String, Object>) ((Map<String, Object>) report.get("results")).get("in_process_inference_compared_model");
    assertEquals("32x32", compared.get("input"));
    assertTrue(((Number) compared.get("posters_per_second")).doubleValue() > 0, compared.toString());
    assertTrue(!compared.containsKey("max_score_difference"), "scores of posters preprocessed at other sizes are not compared: " + compared);
    io.postergenres.model.ModelException missing = assertThrows(io.postergenres.model.ModelException.class, () ->
        new Bench(new Bench.Settings(model.toString(), posters, 8, 8, "local[2]", dir.resolve("work3"), dir.resolve("nowhere").toString(), 1),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run());
    assertTrue(missing.getMessage().startsWith("--compare-model: model directory"), missing.getMessage());
  }

  private static double rate(Map<String, Object> results, String key) {
    @SuppressWarnings("unchecked")
    Map<String, Object> r = (Map<String, Object>) results.get(key);
    return ((Number) r.get("posters_per_second")).doubleValue();
  }

  private static void assertRatio(double expected, Object actual) {
    assertEquals(expected, ((Number) actual).doubleValue(), 0.002 + 0.002 * expected, "ratio");
  }
}
