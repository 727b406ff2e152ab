package io.postergenres.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.image.TestImages;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole benchmark on a tiny model and 40 small posters, in local[2] Spark: every line is
 * measured and reported as the median of its measurements with their range, the ratios are the
 * quotients of the medians they name, the job's fixed part is the sum of its steps' shares, and a
 * model compared with itself scores identically. No timing is asserted.
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
      report = new Bench(new Bench.Settings(model.toString(), posters, 40, 8, "local[2]", dir.resolve("work"), model.toString(), 2, List.of(10)), out)
          .run();
    }
    String printed = table.toString(StandardCharsets.UTF_8);
    for (String line : List.of("1. ceiling", "2. batched inference", "2a. bound", "2c. read + decode + infer", "2d. in-process inference of --compare-model",
        "3. Spark job", "3c. the same with --bf16", "4. naive job", "5. read + preprocess", "5b. the same with ImageIO",
        "6. where inference time goes")) {
      assertTrue(printed.contains(line), "table has '" + line + "':\n" + printed);
    }
    Map<String, Object> results = (Map<String, Object>) report.get("results");
    for (String key : List.of("ceiling", "in_process_inference", "decode_and_infer_bound", "in_process_pipeline", "in_process_inference_bf16",
        "spark_job", "spark_job_without_decode_ahead", "spark_job_bf16", "naive_udf_job", "read_and_preprocess", "read_and_preprocess_imageio", "in_process_inference_compared_model")) {
      Map<String, Object> r = (Map<String, Object>) results.get(key);
      assertTrue(r != null, "results has " + key);
      assertTrue(((Number) r.get("posters_per_second")).doubleValue() > 0, key + " measured: " + r);
    }
    Map<String, Object> profile = (Map<String, Object>) ((Map<String, Object>) results.get("op_time_shares")).get("shares");
    assertTrue(profile.keySet().stream().anyMatch(op -> op.contains("Mean")) && printed.contains("%"), profile + "\n" + printed);
    assertEquals(1.0, profile.values().stream().mapToDouble(v -> ((Number) v).doubleValue()).sum(), 0.01, "shares of all ops' time: " + profile);
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
    assertEquals(List.of(10, 40), settings.get("job_sizes"), "--sizes and --count");

    // Every repeated line: the median of its two measurements, with their minimum and maximum.
    for (String key : List.of("in_process_inference", "in_process_pipeline", "spark_job", "spark_job_10",
        "naive_udf_job", "read_and_preprocess")) {
      Map<String, Object> r = (Map<String, Object>) results.get(key);
      assertEquals(2, r.get("measurements"), key);
      double[] values = (double[]) r.get("values");
      assertEquals(2, values.length, key);
      assertEquals((values[0] + values[1]) / 2, rate(results, key), 0.002, key + ": " + r);
      assertEquals(Math.min(values[0], values[1]), ((Number) r.get("min")).doubleValue(), 0.001, key);
      assertEquals(Math.max(values[0], values[1]), ((Number) r.get("max")).doubleValue(), 0.001, key);
    }
    assertTrue(printed.contains("3a. the same on 10 posters"), printed);

    // The job's cost: fixed part and marginal rate per round, and the fixed part step by step. With
    // two rounds the median is the mean, so the steps' intercepts add up to the run's.
    Map<String, Object> cost = (Map<String, Object>) report.get("job_cost");
    assertEquals(List.of("10", "40"), List.copyOf(((Map<String, Object>) cost.get("by_size")).keySet()));
    Map<String, Object> fixed = (Map<String, Object>) cost.get("fixed_seconds");
    assertEquals(2, fixed.get("measurements"));
    assertTrue(((Number) ((Map<String, Object>) cost.get("marginal_posters_per_second")).get("median")).doubleValue() > 0, cost.toString());
    Map<String, Object> steps = (Map<String, Object>) cost.get("fixed_seconds_by_step");
    assertTrue(steps.keySet().containsAll(List.of("checks", "model_read", "listing", "broadcast", "label_and_write", "count", "report")),
        steps.toString());
    double sum = steps.values().stream().mapToDouble(v -> ((Number) v).doubleValue()).sum();
    assertEquals(((Number) fixed.get("median")).doubleValue(), sum, 0.001 * (steps.size() + 1), "steps add up: " + steps);
    assertTrue(((Number) cost.get("spark_session_start_seconds")).doubleValue() > 0);
    assertTrue(printed.contains("fixed part per run (s)") && printed.contains("label_and_write"), printed);
    Map<String, Object> perRound = (Map<String, Object>) ((Map<String, Object>) report.get("ratios_per_round"))
        .get("spark_job_over_in_process_pipeline");
    assertEquals(2, perRound.get("measurements"));
    assertTrue(((Map<String, Object>) report.get("ratios")).containsKey("spark_job_marginal_over_in_process_pipeline"));
    assertTrue(((Number) report.get("peak_rss_mb")).longValue() > 0);
  }

  @Test
  void profilesWhereTheModelsTimeGoesByOpType() throws Exception {
    try (PosterModel m = PosterModel.load(model, ModelPackage.read(model.toString(), new Configuration()).spec(), 2, 2)) {
      int per = 24 * 24 * 3;
      float[] batch = new float[4 * per];
      for (int i = 0; i < batch.length; i++) batch[i] = (i % 7) / 7f;
      Map<String, Double> shares = m.opTimeShares(batch, 4, 2);
      assertTrue(shares.keySet().stream().anyMatch(op -> op.contains("Mean")), "the test model's mean over the image: " + shares);
      assertEquals(1.0, shares.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9, shares.toString());
      List<Double> values = List.copyOf(shares.values());
      for (int i = 1; i < values.size(); i++) assertTrue(values.get(i - 1) >= values.get(i), "largest first: " + shares);
      assertArrayEquals(m.predict(batch, 4), m.predict(batch, 4), "the traced runs leave the session as it was");
      assertThrows(IllegalArgumentException.class, () -> m.opTimeShares(batch, 4, 0));
    }
    Map<String, Double> four = new LinkedHashMap<>(Map.of("a", 0.1, "b", 0.5, "c", 0.3, "d", 0.1));
    Map<String, Double> two = Bench.topShares(four, 2);
    assertEquals(List.of("b", "c", Bench.OTHER_OPS), List.copyOf(two.keySet()));
    assertEquals(0.2, two.get(Bench.OTHER_OPS), 1e-12);
    assertEquals(List.of("b", "c"), List.copyOf(Bench.topShares(four, 4).keySet()).subList(0, 2));
    assertFalse(Bench.topShares(four, 4).containsKey(Bench.OTHER_OPS), "nothing left over");
  }

  @Test
  @SuppressWarnings("unchecked")
  void timesAModelOfAnotherInputSizeAtItsOwnSizeAndRefusesAMissingOne() throws Exception {
    Path other = TestModels.write(dir.resolve("other"), 32, 32, 6);
    Map<String, Object> report = new Bench(new Bench.Settings(model.toString(), posters, 8, 8, "local[2]", dir.resolve("work2"),
        other.toString(), 1, List.of(4)), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
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
