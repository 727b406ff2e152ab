package io.postergenres.metrics;

import java.util.Arrays;

/**
 * Multi-label metrics on row-major [n, g] arrays: {@code scores} are sigmoid outputs, {@code
 * labels} 0/1, {@code predicted} 0/1 decisions.
 */
public final class Metrics {
  private Metrics() {}

  /** Mean binary cross-entropy (natural log), scores clipped to [1e-7, 1 - 1e-7]. */
  public static double logLoss(float[] scores, float[] labels) {
    double sum = 0;
    for (int i = 0; i < scores.length; i++) {
      double p = Math.min(1 - 1e-7, Math.max(1e-7, scores[i]));
      sum += labels[i] > 0.5f ? -Math.log(p) : -Math.log(1 - p);
    }
    return sum / scores.length;
  }

  /** Decisions by threshold (per genre), no genre-count rules. */
  public static float[] threshold(float[] scores, int g, float[] thresholds) {
    float[] out = new float[scores.length];
    for (int i = 0; i < scores.length; i++) out[i] = scores[i] >= thresholds[i % g] ? 1f : 0f;
    return out;
  }

  public static float[] constantThresholds(int g, float t) {
    float[] out = new float[g];
    Arrays.fill(out, t);
    return out;
  }

  public static double binaryAccuracy(float[] predicted, float[] labels) {
    long right = 0;
    for (int i = 0; i < labels.length; i++) if ((predicted[i] > 0.5f) == (labels[i] > 0.5f)) right++;
    return (double) right / labels.length;
  }

  public static double microF1(float[] predicted, float[] labels) {
    long tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < labels.length; i++) {
      boolean p = predicted[i] > 0.5f;
      boolean y = labels[i] > 0.5f;
      if (p && y) tp++;
      else if (p) fp++;
      else if (y) fn++;
    }
    return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
  }

  /** Mean over genres that have a positive label or prediction of their F1. */
  public static double macroF1(float[] predicted, float[] labels, int g) {
    double sum = 0;
    int counted = 0;
    for (int j = 0; j < g; j++) {
      long tp = 0, fp = 0, fn = 0;
      for (int i = j; i < labels.length; i += g) {
        boolean p = predicted[i] > 0.5f;
        boolean y = labels[i] > 0.5f;
        if (p && y) tp++;
        else if (p) fp++;
        else if (y) fn++;
      }
      if (tp + fp + fn == 0) continue;
      sum += 2.0 * tp / (2.0 * tp + fp + fn);
      counted++;
    }
    return counted == 0 ? 0 : sum / counted;
  }

  /** Column j of a row-major [n, g] array. */
  static float[] column(float[] a, int g, int j) {
    float[] c = new float[a.length / g];
    for (int i = 0; i < c.length; i++) c[i] = a[i * g + j];
    return c;
  }

  /** ROC-AUC of one genre (ties count half); NaN when it has no positive or no negative. */
  public static double auc(float[] scores, float[] labels) {
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
    double rankSumPos = 0;
    long pos = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
      double avgRank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] > 0.5f) {
          rankSumPos += avgRank;
          pos++;
        }
      }
      i = j + 1;
    }
    long neg = n - pos;
    if (pos == 0 || neg == 0) return Double.NaN;
    return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }

  /** Average precision of one genre (area under the step precision-recall curve); NaN with no positive. */
  public static double averagePrecision(float[] scores, float[] labels) {
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
    long pos = 0;
    for (float l : labels) if (l > 0.5f) pos++;
    if (pos == 0) return Double.NaN;
    double sum = 0;
    long tp = 0;
    for (int k = 0; k < n; k++) {
      if (labels[order[k]] > 0.5f) {
        tp++;
        sum += (double) tp / (k + 1);
      }
    }
    return sum / pos;
  }

  /** Per-genre ROC-AUC (NaN where undefined). */
  public static double[] aucs(float[] scores, float[] labels, int g) {
    double[] out = new double[g];
    for (int j = 0; j < g; j++) out[j] = auc(column(scores, g, j), column(labels, g, j));
    return out;
  }

  public static double[] averagePrecisions(float[] scores, float[] labels, int g) {
    double[] out = new double[g];
    for (int j = 0; j < g; j++) out[j] = averagePrecision(column(scores, g, j), column(labels, g, j));
    return out;
  }

  /** Mean of the defined (non-NaN) values. */
  public static double nanMean(double[] values) {
    double sum = 0;
    int n = 0;
    for (double v : values) {
      if (!Double.isNaN(v)) {
        sum += v;
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /**
   * Per genre, the threshold in 0.02..0.98 (step 0.01) that maximises F1 on these rows (the lowest
   * such threshold on ties); {@code fallback} for genres with no positive row.
   */
  public static float[] bestF1Thresholds(float[] scores, float[] labels, int g, float fallback) {
    float[] out = new float[g];
    for (int j = 0; j < g; j++) {
      float[] s = column(scores, g, j);
      float[] y = column(labels, g, j);
      long pos = 0;
      for (float v : y) if (v > 0.5f) pos++;
      if (pos == 0) {
        out[j] = fallback;
        continue;
      }
      double best = -1;
      float bestT = fallback;
      for (int step = 2; step <= 98; step++) {
        float t = step / 100f;
        long tp = 0, fp = 0;
        for (int i = 0; i < s.length; i++) {
          if (s[i] >= t) {
            if (y[i] > 0.5f) tp++;
            else fp++;
          }
        }
        double f1 = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
        if (f1 > best + 1e-12) {
          best = f1;
          bestT = t;
        }
      }
      out[j] = bestT;
    }
    return out;
  }

  /**
   * Micro-F1 of the labelling job's decisions ({@link io.postergenres.model.GenreRules}: every
   * genre at or over its threshold, best first, at least {@code min} and at most {@code max} per
   * poster) with these thresholds.
   */
  public static double ruleMicroF1(float[] scores, float[] labels, int g, float[] thresholds, int min, int max) {
    return ruleMicroF1(scores, labels, g, thresholds, min, max, rankings(scores, g));
  }

  /** Each row's genre indices by falling score (ties in genre order), as {@code GenreRules} ranks them. */
  static int[][] rankings(float[] scores, int g) {
    int n = scores.length / g;
    int[][] order = new int[n][];
    for (int i = 0; i < n; i++) {
      int row = i;
      order[i] = java.util.stream.IntStream.range(0, g).boxed()
          .sorted(java.util.Comparator.comparingDouble((Integer j) -> -scores[row * g + j]))
          .mapToInt(Integer::intValue).toArray();
    }
    return order;
  }

  private static double ruleMicroF1(float[] scores, float[] labels, int g, float[] t, int min, int max, int[][] order) {
    long tp = 0, fp = 0, pos = 0;
    for (float v : labels) if (v > 0.5f) pos++;
    boolean[] chosen = new boolean[g];
    for (int i = 0; i < order.length; i++) {
      java.util.Arrays.fill(chosen, false);
      int count = 0;
      for (int r = 0; r < g && count < max; r++) {
        int j = order[i][r];
        if (scores[i * g + j] >= t[j]) {
          chosen[j] = true;
          count++;
        }
      }
      for (int r = 0; r < g && count < min; r++) {
        int j = order[i][r];
        if (!chosen[j]) {
          chosen[j] = true;
          count++;
        }
      }
      for (int j = 0; j < g; j++) {
        if (!chosen[j]) continue;
        if (labels[i * g + j] > 0.5f) tp++;
        else fp++;
      }
    }
    long fn = pos - tp;
    return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
  }

  /**
   * Thresholds that maximise the micro-F1 of the job's decisions ({@link #ruleMicroF1}) on these
   * rows: starting from {@code start}, each genre's threshold in turn is moved to the value in
   * 0.02..0.98 (step 0.01) that helps most, for a few rounds, until no move helps. Per-genre F1
   * thresholds ({@link #bestF1Thresholds}) let rare genres in too often for the micro-F1 of
   * posters with one to three genres; this trades those false positives away.
   */
  public static float[] bestRuleMicroF1Thresholds(float[] scores, float[] labels, int g, float[] start, int min, int max) {
    int[][] order = rankings(scores, g);
    float[] t = start.clone();
    double best = ruleMicroF1(scores, labels, g, t, min, max, order);
    for (int round = 0; round < 4; round++) {
      boolean moved = false;
      for (int j = 0; j < g; j++) {
        float keep = t[j];
        float bestT = keep;
        for (int step = 2; step <= 98; step++) {
          t[j] = step / 100f;
          double f = ruleMicroF1(scores, labels, g, t, min, max, order);
          if (f > best + 1e-9) {
            best = f;
            bestT = t[j];
          }
        }
        t[j] = bestT;
        if (bestT != keep) moved = true;
      }
      if (!moved) break;
    }
    return t;
  }

  /** {@code v} to {@code digits} decimals; null for NaN and infinities (JSON has none). */
  public static Double round(double v, int digits) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return null;
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
