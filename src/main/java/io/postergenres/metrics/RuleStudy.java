package io.postergenres.metrics;

import io.postergenres.model.GenreRules;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How other decision rules would do on posters nobody tuned them on: for each setting (assignment
 * cap, most genres per poster, weight of macro-F1 against micro-F1), thresholds are calibrated by
 * {@link RuleCalibration} on all folds but one and the rule is scored on that one, for every fold;
 * each figure is the mean and standard deviation over the folds. The scores must themselves be out
 * of fold (each poster scored by a model that never saw it), as {@code train --folds} writes them.
 */
public final class RuleStudy {
  private RuleStudy() {}

  /** One decision rule: thresholds keep each genre within {@code cap} x its share; 1..{@code maxGenres} genres per poster. */
  public record Setting(double cap, int maxGenres, double macroWeight, boolean capOnEveryFold, double floor) {
    /** A setting whose cap holds on the calibration posters pooled. */
    public Setting(double cap, int maxGenres, double macroWeight) {
      this(cap, maxGenres, macroWeight, false);
    }

    /** A setting without a floor. */
    public Setting(double cap, int maxGenres, double macroWeight, boolean capOnEveryFold) {
      this(cap, maxGenres, macroWeight, capOnEveryFold, 0);
    }

    public Setting {
      if (!(cap >= 0.1) || maxGenres < 1 || !(macroWeight >= 0) || !(floor >= 0 && floor <= cap)) {
        throw new IllegalArgumentException("need cap >= 0.1, maxGenres >= 1, macroWeight >= 0, 0 <= floor <= cap, got " + cap + ", "
            + maxGenres + ", " + macroWeight + ", " + floor);
      }
    }

    public String describe() {
      return String.format(Locale.ROOT, "cap %.1f%s%s, 1-%d genres, micro-F1 + %s x macro-F1", cap, capOnEveryFold ? " on every calibration fold" : "",
          floor > 0 ? String.format(Locale.ROOT, ", floor %.1f", floor) : "", maxGenres,
          macroWeight == Math.rint(macroWeight) ? String.valueOf((long) macroWeight) : String.valueOf(macroWeight));
    }
  }

  /** A setting's figures over the held-out folds: mean and standard deviation of each of {@link #FIGURES}. */
  public record Row(Setting setting, double[] mean, double[] sd, FoldCounts folds) {}

  /** The rule's decisions on each held-out fold, in ascending fold order, and each fold's posters. */
  public record FoldCounts(RuleCalibration.Counts[] counts, long[] posters) {}

  /** Where model.json keeps the cap its thresholds were calibrated under: {@code source.decision_rule.assignment_cap}. */
  public static final String CAP_KEY = "assignment_cap";

  /** Where model.json keeps the floor, where there was one: {@code source.decision_rule.assignment_floor}. */
  public static final String FLOOR_KEY = "assignment_floor";

  /** The figures of each fold, in the order of {@link Row#mean()}. */
  public static final List<String> FIGURES = List.of("micro_f1", "macro_f1", "most_over_assigned", "genres_per_poster");

  /**
   * Settings around the shipped rule: caps 1.1 to 1.5; one genre fewer, as many or one more than
   * {@code shippedMax}; macro-F1 weighted once or twice.
   */
  public static List<Setting> grid(int shippedMax) {
    List<Setting> out = new ArrayList<>();
    for (double cap : new double[] {1.1, 1.2, 1.3, 1.5}) {
      for (int max : new int[] {Math.max(1, shippedMax - 1), shippedMax, shippedMax + 1}) {
        for (double w : new double[] {1, 2}) out.add(new Setting(cap, max, w));
      }
    }
    // the cap held on each calibration fold, not only pooled: against the held-out swings of mid-size genres
    for (double cap : new double[] {1.2, 1.3}) {
      for (int max : new int[] {shippedMax, shippedMax + 1}) {
        for (double w : new double[] {1, 2}) out.add(new Setting(cap, max, w, true));
      }
    }
    return out;
  }

  /**
   * Scores [n, g] out of fold, labels [n, g] 0/1, {@code fold[i]} each poster's fold (any ints; at
   * least two distinct). Over-assignment is over genres with {@code minSupport} or more posters in
   * the held-out fold.
   */
  public static List<Row> run(float[] scores, float[] labels, int[] fold, int g, GenreRules.Ranking ranking, List<Setting> settings,
      int minSupport) {
    int[] folds = java.util.Arrays.stream(fold).distinct().sorted().toArray();
    if (folds.length < 2) throw new IllegalArgumentException("a rule study needs at least two folds, got " + folds.length);
    List<Row> rows = new ArrayList<>();
    for (Setting s : settings) {
      double[][] per = new double[folds.length][FIGURES.size()];
      FoldCounts byFold = heldOutCounts(scores, labels, fold, g, ranking, s);
      for (int k = 0; k < folds.length; k++) {
        RuleCalibration.Counts c = byFold.counts()[k];
        double over = 0;
        long assigned = 0;
        for (int j = 0; j < g; j++) {
          assigned += c.tp()[j] + c.fp()[j];
          if (c.tp()[j] + c.fn()[j] >= minSupport) over = Math.max(over, c.assignedOverTrue(j));
        }
        per[k] = new double[] {c.microF1(), c.macroF1(), over, (double) assigned / byFold.posters()[k]};
      }
      double[] mean = new double[FIGURES.size()];
      double[] sd = new double[FIGURES.size()];
      for (int q = 0; q < mean.length; q++) {
        for (double[] r : per) mean[q] += r[q] / per.length;
        double var = 0;
        for (double[] r : per) var += (r[q] - mean[q]) * (r[q] - mean[q]);
        sd[q] = Math.sqrt(var / (per.length - 1));
      }
      rows.add(new Row(s, mean, sd, byFold));
    }
    return rows;
  }

  /**
   * The rule's decisions on each held-out fold (folds in ascending order), with thresholds
   * calibrated under {@code s} on all the other folds.
   */
  private static FoldCounts heldOutCounts(float[] scores, float[] labels, int[] fold, int g, GenreRules.Ranking ranking, Setting s) {
    int[] folds = java.util.Arrays.stream(fold).distinct().sorted().toArray();
    RuleCalibration.Counts[] out = new RuleCalibration.Counts[folds.length];
    long[] posters = new long[folds.length];
    for (int k = 0; k < folds.length; k++) {
      int held = folds[k];
      float[][] rest = gather(scores, labels, fold, g, i -> fold[i] != held);
      float[][] test = gather(scores, labels, fold, g, i -> fold[i] == held);
      int[] restFolds = s.capOnEveryFold() ? java.util.Arrays.stream(fold).filter(f -> f != held).toArray() : null;
      float[] t = RuleCalibration.calibrate(rest[0], rest[1], g, 1, s.maxGenres(), ranking, s.cap(), s.floor(), s.macroWeight(), restFolds);
      out[k] = RuleCalibration.count(test[0], test[1], g, t, 1, s.maxGenres(), ranking);
      posters[k] = test[0].length / g;
    }
    return new FoldCounts(out, posters);
  }

  /**
   * How steady each genre's share of the rule's assignments is from one set of posters to the
   * next: for each held-out fold of {@code row} (its rule's thresholds calibrated on the other folds), the
   * posters given genre j in the fold over the posters expected to have it there (the fold's size x
   * j's share of all the posters; the fold's own count of a small genre is too noisy a yardstick).
   * [fold][genre]; NaN for a genre no poster has. Rare genres' thresholds sit far in their scores'
   * tails, where one fold head's scale differs from the next, so their shares swing most; a
   * catalogue should read their counts with that spread in mind.
   */
  public static double[][] heldOutShares(Row row, float[] labels, int g) {
    FoldCounts byFold = row.folds();
    int n = labels.length / g;
    double[] share = new double[g];
    for (int i = 0; i < n; i++) for (int j = 0; j < g; j++) if (labels[i * g + j] > 0.5f) share[j] += 1.0 / n;
    double[][] out = new double[byFold.counts().length][g];
    for (int k = 0; k < out.length; k++) {
      for (int j = 0; j < g; j++) {
        long given = byFold.counts()[k].tp()[j] + byFold.counts()[k].fp()[j];
        out[k][j] = share[j] == 0 ? Double.NaN : given / (byFold.posters()[k] * share[j]);
      }
    }
    return out;
  }


  /** A Markdown table of {@link #heldOutShares}: per genre its posters, the smallest and largest share, and the folds over 1.5. */
  public static String sharesTable(List<String> genres, float[] labels, double[][] shares) {
    int g = genres.size();
    StringBuilder b = new StringBuilder("| genre | posters | given / expected, held-out folds | folds over 1.5 |\n|---|---|---|---|\n");
    for (int j = 0; j < g; j++) {
      int support = 0;
      for (int i = j; i < labels.length; i += g) if (labels[i] > 0.5f) support++;
      if (support == 0) continue;
      double lo = Double.POSITIVE_INFINITY, hi = 0;
      int over = 0;
      for (double[] f : shares) {
        lo = Math.min(lo, f[j]);
        hi = Math.max(hi, f[j]);
        if (f[j] > 1.5) over++;
      }
      b.append(String.format(Locale.ROOT, "| %s | %d | %.2f - %.2f | %d of %d |%n", genres.get(j), support, lo, hi, over, shares.length));
    }
    return b.toString();
  }

  /** A Markdown table of the rows. */
  public static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder("| rule | micro-F1 | macro-F1 | most over-assigned | genres per poster |\n|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append("| ").append(r.setting().describe());
      for (int q = 0; q < FIGURES.size(); q++) b.append(String.format(Locale.ROOT, " | %.3f ± %.3f", r.mean()[q], r.sd()[q]));
      b.append(" |\n");
    }
    return b.toString();
  }

  /** The rows as JSON-ready maps. */
  public static List<Map<String, Object>> toMaps(List<Row> rows) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("cap", r.setting().cap());
      m.put("max_genres", r.setting().maxGenres());
      m.put("macro_weight", r.setting().macroWeight());
      m.put("cap_on_every_fold", r.setting().capOnEveryFold());
      for (int q = 0; q < FIGURES.size(); q++) {
        m.put(FIGURES.get(q), Metrics.round(r.mean()[q], 4));
        m.put(FIGURES.get(q) + "_sd", Metrics.round(r.sd()[q], 4));
      }
      out.add(m);
    }
    return out;
  }

  private static float[][] gather(float[] scores, float[] labels, int[] fold, int g, java.util.function.IntPredicate keep) {
    int n = 0;
    for (int i = 0; i < fold.length; i++) if (keep.test(i)) n++;
    float[] s = new float[n * g];
    float[] y = new float[n * g];
    int o = 0;
    for (int i = 0; i < fold.length; i++) {
      if (!keep.test(i)) continue;
      System.arraycopy(scores, i * g, s, o * g, g);
      System.arraycopy(labels, i * g, y, o * g, g);
      o++;
    }
    return new float[][] {s, y};
  }
}
