package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code calibrate} on a small cross-validated model: 300 labelled posters in 3 folds with
 * out-of-fold scores that sit higher on one fold than on the others (as a fold head's scale
 * drifts), so a cap held on the pooled scores lets that fold over-assign and one held on every fold
 * does not.
 */
class CalibrateCommandTest {
  static final int N = 300;
  static final int FOLDS = 3;
  static final double[] PREVALENCE = {0.3, 0.4, 0.5, 0.15, 0.2};

  @TempDir Path dir;
  Path model;
  Path manifest;
  float[] scores;
  float[] labels;
  int[] fold;

  @BeforeEach
  void crossValidatedModel() throws Exception {
    List<String> genres = TestModels.GENRES;
    int g = genres.size();
    Random random = new Random(11);
    Path posters = dir.resolve("data");
    Files.createDirectories(posters);
    scores = new float[N * g];
    labels = new float[N * g];
    fold = new int[N];
    List<String> manifestLines = new ArrayList<>(List.of("path,genres"));
    List<String> scoreLines = new ArrayList<>(List.of("poster," + String.join(",", genres)));
    List<String> foldLines = new ArrayList<>(List.of("# fold<TAB>poster, relative to " + posters));
    for (int i = 0; i < N; i++) {
      String name = "p" + i + ".jpg";
      Files.write(posters.resolve(name), new byte[] {(byte) i});
      fold[i] = 1 + i % FOLDS;
      List<String> has = new ArrayList<>();
      StringBuilder row = new StringBuilder(name);
      for (int j = 0; j < g; j++) {
        boolean y = random.nextDouble() < PREVALENCE[j] || (j == 2 && has.isEmpty());
        if (y) has.add(genres.get(j));
        labels[i * g + j] = y ? 1 : 0;
        double shift = fold[i] == 3 ? 0.8 : 0; // fold 3's head scores everything higher
        float s = (float) (1 / (1 + Math.exp(-((y ? 1.2 : -1.2) + random.nextGaussian() * 1.3 + shift - 1))));
        s = Float.parseFloat(String.format(Locale.ROOT, "%.4f", s)); // as written to the CSV
        scores[i * g + j] = s;
        row.append(String.format(Locale.ROOT, ",%.4f", s));
      }
      manifestLines.add(name + "," + String.join("|", has));
      scoreLines.add(row.toString());
      foldLines.add(fold[i] + "\t" + name);
    }
    manifest = posters.resolve("posters.csv");
    Files.write(manifest, manifestLines, StandardCharsets.UTF_8);

    model = TestModels.write(dir.resolve("model"), 8, 8, 3);
    ModelSpec spec = ModelPackage.read(model.toString(), new Configuration()).spec();
    Map<String, Object> rule = new LinkedHashMap<>();
    new CalibrationRule(1.3, false).putInto(rule);
    Map<String, Object> source = new LinkedHashMap<>(spec.source());
    source.put(ModelSpec.DECISION_RULE, rule);
    Files.write(model.resolve(ModelSpec.FILE_NAME), spec.withVersion("1.0.0").withSource(source).toJson());
    Files.write(model.resolve("out-of-fold-scores.csv"), scoreLines, StandardCharsets.UTF_8);
    Files.write(model.resolve("folds.txt"), foldLines, StandardCharsets.UTF_8);
    Files.createDirectories(model.resolve("text"));
    Files.writeString(model.resolve("text").resolve("text.json"), "{}");
  }

  @Test
  void writesACopyWhoseThresholdsKeepEveryGenreInProportionOnEveryFold() throws Exception {
    Path out = dir.resolve("recalibrated");
    CommandRun run = calibrateInto(out, "--assignment-cap", "1.2");
    assertTrue(run.out().contains("as 1.0.1") && run.out().contains("previous rule") && run.out().contains("most_over_assigned"), run.out());
    assertTrue(run.out().contains("text stage of " + model + " was left out"), run.out());

    ModelSpec spec = ModelPackage.read(out.toString(), new Configuration()).spec();
    assertEquals("1.0.1", spec.version());
    assertEquals(CalibrationRule.of(spec), new CalibrationRule(1.2, true));
    Map<?, ?> from = (Map<?, ?>) spec.source().get("recalibrated_from");
    assertEquals("1.0.0", from.get("version"));
    assertEquals(List.of("1.0.0"), spec.sameScoresAs(), "nightly runs decide 1.0.0's rows again from their scores");
    Map<?, ?> cv = (Map<?, ?>) spec.source().get("cross_validation");
    assertEquals(FOLDS, ((List<?>) cv.get("folds")).size());
    assertTrue(((Map<?, ?>) cv.get("previous_rule")).get("rule").toString().contains("1.3"), cv.toString());
    assertArrayEquals(Files.readAllBytes(model.resolve("saved_model.pb")), Files.readAllBytes(out.resolve("saved_model.pb")), "the network is copied as is");
    assertFalse(Files.exists(out.resolve("text")), "the text stage's thresholds follow the old rule");

    // The thresholds are the rule's on these scores, and hold the cap on each fold's own posters.
    int g = TestModels.GENRES.size();
    float[] expected = new CalibrationRule(1.2, true).calibrate(scores, labels, g, spec.maxGenres(), spec.ranking(), fold);
    float[] written = new float[g];
    for (int j = 0; j < g; j++) {
      written[j] = spec.thresholds().get(TestModels.GENRES.get(j)).floatValue();
      assertEquals(expected[j], written[j], 0.0005, TestModels.GENRES.get(j));
    }
    double worstEveryFold = worstFold(written, spec);
    assertTrue(worstEveryFold <= 1.2 + 0.05, "most over-assigned on a fold: " + worstEveryFold);

    // Written over (--overwrite): a text stage trained on the earlier copy does not survive.
    Files.createDirectories(out.resolve("text"));
    Files.writeString(out.resolve("text").resolve("text.json"), "{}");
    CommandRun over = CommandRun.of("calibrate", "--model", model.toString(), "--manifest", manifest.toString(), "--output", out.toString(),
        "--assignment-cap", "1.3", "--assignment-floor", "0.5", "--overwrite");
    assertEquals(0, over.code(), over.err() + over.out());
    assertFalse(Files.exists(out.resolve("text")), "a text stage of the copy written over is removed");
    ModelSpec floored = ModelPackage.read(out.toString(), new Configuration()).spec();
    assertEquals(new CalibrationRule(1.3, true, 0.5), CalibrationRule.of(floored), "model.json keeps the floor");
    float[] flooredExpected = new CalibrationRule(1.3, true, 0.5).calibrate(scores, labels, g, floored.maxGenres(), floored.ranking(), fold);
    for (int j = 0; j < g; j++) {
      assertEquals(flooredExpected[j], floored.thresholds().get(TestModels.GENRES.get(j)).floatValue(), 0.0005, TestModels.GENRES.get(j));
    }
    Files.write(out.resolve(ModelSpec.FILE_NAME), spec.toJson()); // back to the cap-1.2 copy for what follows

    // A copy of the copy may not take a version whose scores it lists; convert drops the list (float16 scores differ).
    CommandRun loop = CommandRun.of("calibrate", "--model", out.toString(), "--manifest", manifest.toString(), "--output",
        dir.resolve("loop").toString(), "--model-version", "1.0.0");
    assertEquals(2, loop.code());
    assertTrue(loop.err().contains("one it was calibrated from"), loop.err());
    CommandRun fp16 = CommandRun.of("convert", "--model", out.toString(), "--output", dir.resolve("fp16").toString());
    assertEquals(0, fp16.code(), fp16.err());
    assertEquals(List.of(), ModelPackage.read(dir.resolve("fp16").toString(), new Configuration()).spec().sameScoresAs());

    // evaluate --split out-of-fold reports the same cross-validated figures, computed live under the copy's rule.
    CommandRun ev = CommandRun.of("evaluate", "--model", out.toString(), "--manifest", manifest.toString(), "--split", "out-of-fold");
    assertEquals(0, ev.code(), ev.err() + ev.out());
    Map<?, ?> summary = (Map<?, ?>) cv.get("summary");
    assertTrue(ev.out().contains("Cross-validated") && ev.out().contains("micro_f1                             " + summary.get("micro_f1"))
        && ev.out().contains("most_over_assigned                   " + summary.get("most_over_assigned")), ev.out() + "\n" + summary);

    // The same cap on the pooled scores lets the fold whose scores sit higher go over it.
    Path pooled = dir.resolve("pooled");
    CommandRun p = CommandRun.of("calibrate", "--model", model.toString(), "--manifest", manifest.toString(), "--output", pooled.toString(),
        "--assignment-cap", "1.2", "--cap-scope", "pooled", "--model-version", "1.0.0-pooled");
    assertEquals(0, p.code(), p.err() + p.out());
    ModelSpec pooledSpec = ModelPackage.read(pooled.toString(), new Configuration()).spec();
    assertEquals("1.0.0-pooled", pooledSpec.version());
    float[] pooledT = new float[g];
    for (int j = 0; j < g; j++) pooledT[j] = pooledSpec.thresholds().get(TestModels.GENRES.get(j)).floatValue();
    assertTrue(worstFold(pooledT, pooledSpec) > worstEveryFold, worstFold(pooledT, pooledSpec) + " vs " + worstEveryFold);
  }

  @Test
  void maxGenresChangesHowManyGenresAPosterMayGetAndTheThresholdsWithIt() throws Exception {
    Path out = dir.resolve("two");
    CommandRun run = calibrateInto(out, "--max-genres", "2");
    assertTrue(run.out().contains("rule: 1-2 genres") && run.out().contains("was:  1-3 genres"), run.out());
    ModelSpec spec = ModelPackage.read(out.toString(), new Configuration()).spec();
    assertEquals(2, spec.maxGenres(), "model.json's max_genres, which the job applies");
    int g = TestModels.GENRES.size();
    float[] expected = new CalibrationRule(1.2, true).calibrate(scores, labels, g, 2, spec.ranking(), fold);
    float[] asThree = new CalibrationRule(1.2, true).calibrate(scores, labels, g, 3, spec.ranking(), fold);
    boolean differs = false;
    for (int j = 0; j < g; j++) {
      float written = spec.thresholds().get(TestModels.GENRES.get(j)).floatValue();
      assertEquals(expected[j], written, 0.0005, TestModels.GENRES.get(j));
      differs |= Math.abs(asThree[j] - written) > 0.0005;
    }
    assertTrue(differs, "thresholds calibrated for 1-2 genres, not those of 1-3");
    Map<?, ?> cv = (Map<?, ?>) spec.source().get("cross_validation");
    assertTrue(cv.get("rule").toString().startsWith("1-2 genres a poster"), cv.toString());
    assertTrue(((Map<?, ?>) cv.get("previous_rule")).get("rule").toString().startsWith("1-3 genres a poster"), cv.toString());
  }

  /** The largest posters-given / posters-having over genres with 10+ posters, on each fold's own posters. */
  private double worstFold(float[] t, ModelSpec spec) {
    int g = t.length;
    double worst = 0;
    for (int k = 1; k <= FOLDS; k++) {
      int kk = k;
      int[] rows = java.util.stream.IntStream.range(0, N).filter(i -> fold[i] == kk).toArray();
      float[] s = new float[rows.length * g];
      float[] y = new float[rows.length * g];
      for (int r = 0; r < rows.length; r++) {
        System.arraycopy(scores, rows[r] * g, s, r * g, g);
        System.arraycopy(labels, rows[r] * g, y, r * g, g);
      }
      RuleCalibration.Counts c = RuleCalibration.count(s, y, g, t, 1, spec.maxGenres(), spec.ranking());
      for (int j = 0; j < g; j++) if (c.tp()[j] + c.fn()[j] >= 10) worst = Math.max(worst, c.assignedOverTrue(j));
    }
    return worst;
  }

  @Test
  void badOptionsAndInputsSayWhatToChange() throws Exception {
    Path out = dir.resolve("out");
    String[] base = {"--model", model.toString(), "--manifest", manifest.toString(), "--output", out.toString()};
    CommandRun cap = CommandRun.of("calibrate", concat(base, "--assignment-cap", "5"));
    assertEquals(2, cap.code());
    assertTrue(cap.err().contains("--assignment-cap must be 1 to 3"), cap.err());
    CommandRun floor = CommandRun.of("calibrate", concat(base, "--assignment-floor", "1.5"));
    assertEquals(2, floor.code());
    assertTrue(floor.err().contains("--assignment-floor must be 0 (none) or more, under 1, got 1.5"), floor.err());
    for (String n : new String[] {"0", "6"}) {
      CommandRun max = CommandRun.of("calibrate", concat(base, "--max-genres", n));
      assertEquals(2, max.code(), max.err());
      assertTrue(max.err().contains("--max-genres must be 1 to 5 (the model's genres), got " + n), max.err());
    }
    CommandRun scope = CommandRun.of("calibrate", concat(base, "--cap-scope", "sometimes"));
    assertEquals(2, scope.code());
    assertTrue(scope.err().contains("every-fold or pooled"), scope.err());
    CommandRun same = CommandRun.of("calibrate", "--model", model.toString(), "--manifest", manifest.toString(), "--output", model.toString());
    assertEquals(2, same.code());
    assertTrue(same.err().contains("--output must differ from --model"), same.err());
    CommandRun version = CommandRun.of("calibrate", concat(base, "--model-version", "1.0.0"));
    assertEquals(2, version.code());
    assertTrue(version.err().contains("is the model's own"), version.err());

    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "x");
    CommandRun full = CommandRun.of("calibrate", base);
    assertEquals(3, full.code());
    assertTrue(full.err().contains("--overwrite"), full.err());

    // a damaged scores file: the line and the value, not a stack trace
    Path scores = model.resolve("out-of-fold-scores.csv");
    List<String> good = Files.readAllLines(scores);
    List<String> bad = new ArrayList<>(good);
    bad.set(5, bad.get(5).replaceFirst(",[0-9.]+,", ",NaN,"));
    Files.write(scores, bad);
    CommandRun nan = CommandRun.of("calibrate", "--model", model.toString(), "--manifest", manifest.toString(), "--output", dir.resolve("o1").toString());
    assertEquals(3, nan.code());
    assertTrue(nan.err().contains("out-of-fold-scores.csv line 6: score NaN is not in [0, 1]"), nan.err());
    Files.write(scores, good);

    Files.delete(model.resolve("folds.txt"));
    CommandRun noFolds = CommandRun.of("calibrate", "--model", model.toString(), "--manifest", manifest.toString(), "--output", dir.resolve("o2").toString());
    assertEquals(3, noFolds.code());
    assertTrue(noFolds.err().contains("folds.txt") && noFolds.err().contains("train --folds K"), noFolds.err());
    assertFalse(Files.exists(dir.resolve("o2")), "nothing written for a refused run");
  }

  /** Runs calibrate on the test model into {@code out} with {@code options}; it must succeed. */
  private CommandRun calibrateInto(Path out, String... options) {
    CommandRun run = CommandRun.of("calibrate", concat(new String[] {"--model", model.toString(), "--manifest", manifest.toString(), "--output",
        out.toString()}, options));
    assertEquals(0, run.code(), run.err() + run.out());
    return run;
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
