package io.postergenres.train;

import io.postergenres.metrics.Metrics;
import io.postergenres.model.GenreRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a training run reports: thresholds calibrated for the job's decisions, the decisions
 * themselves, validation metrics and the trivial baselines beside them, the per-genre table of
 * {@code model.json}, and the small formatting and clean-up helpers of the report.
 */
public final class TrainingReport {
  private TrainingReport() {}

  /**
   * Per-genre thresholds for model.json: each genre's best-F1 threshold, then moved to maximise the
   * micro-F1 of the job's decisions (at least 1, at most {@code maxGenres} genres per poster).
   */
  public static float[] calibrate(float[] scores, float[] labels, int g, int maxGenres) {
    float[] start = Metrics.bestF1Thresholds(scores, labels, g, 0.5f);
    return Metrics.bestRuleMicroF1Thresholds(scores, labels, g, start, 1, maxGenres);
  }

  /** Decisions the labelling job would make: thresholds, then at least 1 and at most max genres. */
  public static float[] assign(float[] scores, int g, float[] thresholds, List<String> genres, int maxGenres) {
    GenreRules rules = new GenreRules(genres, thresholds, 1, maxGenres);
    float[] out = new float[scores.length];
    for (int i = 0; i < scores.length / g; i++) {
      for (String genre : rules.assign(scores, i * g)) out[i * g + genres.indexOf(genre)] = 1f;
    }
    return out;
  }

  public static Map<String, Object> validationMetrics(float[] scores, float[] labels, int g, float[] thresholds,
      List<String> genres, int maxGenres) {
    Map<String, Object> m = new LinkedHashMap<>();
    float[] at05 = Metrics.threshold(scores, g, Metrics.constantThresholds(g, 0.5f));
    float[] calibrated = assign(scores, g, thresholds, genres, maxGenres);
    m.put("loss", round(Metrics.logLoss(scores, labels), 4));
    m.put("binary_accuracy_at_0.5", round(Metrics.binaryAccuracy(at05, labels), 4));
    m.put("micro_f1_at_0.5", round(Metrics.microF1(at05, labels), 4));
    m.put("macro_roc_auc", round(Metrics.nanMean(Metrics.aucs(scores, labels, g)), 4));
    m.put("macro_average_precision", round(Metrics.nanMean(Metrics.averagePrecisions(scores, labels, g)), 4));
    m.put("binary_accuracy_with_thresholds_and_rules", round(Metrics.binaryAccuracy(calibrated, labels), 4));
    m.put("micro_f1_with_thresholds_and_rules", round(Metrics.microF1(calibrated, labels), 4));
    m.put("macro_f1_with_thresholds_and_rules", round(Metrics.macroF1(calibrated, labels, g), 4));
    // The thresholds were tuned on these posters, so the figures above flatter the model. Cross-calibrate:
    // tune on one half of the validation posters, apply to the other, both ways.
    int n = scores.length / g;
    List<Integer> a = new ArrayList<>();
    List<Integer> b = new ArrayList<>();
    for (int i = 0; i < n; i++) (i % 2 == 0 ? a : b).add(i);
    float[] crossPred = new float[scores.length];
    for (int pass = 0; pass < 2; pass++) {
      List<Integer> tune = pass == 0 ? a : b;
      List<Integer> apply = pass == 0 ? b : a;
      float[] t = calibrate(TrainingData.gatherLabels(scores, tune, g), TrainingData.gatherLabels(labels, tune, g), g, maxGenres);
      float[] pred = assign(TrainingData.gatherLabels(scores, apply, g), g, t, genres, maxGenres);
      for (int k = 0; k < apply.size(); k++) System.arraycopy(pred, k * g, crossPred, apply.get(k) * g, g);
    }
    m.put("micro_f1_cross_calibrated", round(Metrics.microF1(crossPred, labels), 4));
    m.put("macro_f1_cross_calibrated", round(Metrics.macroF1(crossPred, labels, g), 4));
    double assigned = 0;
    for (float v : calibrated) assigned += v;
    m.put("mean_genres_assigned", round(assigned / n, 2));
    return m;
  }

  public static Map<String, Object> baselines(float[] trainLabels, float[] valLabels, int g, List<String> genres, int maxGenres) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("all_negative_binary_accuracy", round(Metrics.binaryAccuracy(new float[valLabels.length], valLabels), 4));
    int[] counts = new int[g];
    for (int i = 0; i < trainLabels.length; i++) if (trainLabels[i] > 0.5f) counts[i % g]++;
    Integer[] order = new Integer[g];
    for (int j = 0; j < g; j++) order[j] = j;
    Arrays.sort(order, (p, q) -> counts[q] - counts[p]);
    int top = Math.min(2, g);
    float[] constant = new float[valLabels.length];
    List<String> names = new ArrayList<>();
    for (int k = 0; k < top; k++) names.add(genres.get(order[k]));
    for (int i = 0; i < valLabels.length / g; i++) for (int k = 0; k < top; k++) constant[i * g + order[k]] = 1f;
    m.put("top2_genres", names);
    m.put("top2_micro_f1", round(Metrics.microF1(constant, valLabels), 4));
    m.put("top2_macro_f1", round(Metrics.macroF1(constant, valLabels, g), 4));
    m.put("top2_binary_accuracy", round(Metrics.binaryAccuracy(constant, valLabels), 4));
    m.put("chance_macro_roc_auc", 0.5);
    return m;
  }

  public static Map<String, Object> perGenre(float[] scores, float[] labels, float[] trainLabels, int g,
      List<String> genres, float[] thresholds) {
    double[] aucs = Metrics.aucs(scores, labels, g);
    double[] aps = Metrics.averagePrecisions(scores, labels, g);
    Map<String, Object> m = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) {
      int trainPos = 0;
      int valPos = 0;
      for (int i = j; i < trainLabels.length; i += g) if (trainLabels[i] > 0.5f) trainPos++;
      for (int i = j; i < labels.length; i += g) if (labels[i] > 0.5f) valPos++;
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("train_positives", trainPos);
      e.put("validation_positives", valPos);
      e.put("roc_auc", round(aucs[j], 4));
      e.put("average_precision", round(aps[j], 4));
      e.put("threshold", round(thresholds[j], 2));
      m.put(genres.get(j), e);
    }
    return m;
  }

  /** {@code v} to {@code digits} decimals; null for NaN and infinities (JSON has none). */
  public static Double round(double v, int digits) {
    return Metrics.round(v, digits);
  }

  public static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }

  /** Deletes {@code dir} and all below it, if it exists. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
