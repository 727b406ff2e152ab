package io.postergenres.eval;

import io.postergenres.model.GenreRules;
import io.postergenres.metrics.Metrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The metrics of one evaluation, computed from scores and labels alone (row-major [n, g] arrays):
 * per genre support, ROC-AUC, average precision and precision/recall/F1 of the decisions the
 * labelling job makes (thresholds, then min/max genres via {@link GenreRules}); overall micro and
 * macro F1, mAP, macro ROC-AUC and binary accuracy; and the same figures for two baselines on the
 * same posters: all-negative (no genre, score 0) and the frequency prior (each genre's prior
 * frequency as its score, the two most frequent genres as labels).
 *
 * <p>Ranking metrics come from {@link Metrics}; a genre whose scores are all equal (the baselines)
 * has ROC-AUC 0.5 and average precision equal to its prevalence (one threshold, all tied), which is
 * what a tie-aware implementation gives.
 */
public final class Evaluation {
  /** One genre's figures; NaN where undefined (no positive, or no negative). */
  public record GenreRow(String genre, int support, int predicted, double rocAuc, double averagePrecision,
      double threshold, double precision, double recall, double f1, double priorFrequency, double priorAveragePrecision) {}

  /** Overall figures of one predictor. */
  public record Summary(String name, double binaryAccuracy, double microF1, double macroF1, double meanAveragePrecision,
      double macroRocAuc, double logLoss, double meanGenresAssigned) {}

  private final List<GenreRow> rows;
  private final Summary model;
  private final Summary allNegative;
  private final Summary prior;
  private final List<String> priorTop;
  private final int posters;

  private Evaluation(List<GenreRow> rows, Summary model, Summary allNegative, Summary prior, List<String> priorTop, int posters) {
    this.rows = List.copyOf(rows);
    this.model = model;
    this.allNegative = allNegative;
    this.prior = prior;
    this.priorTop = List.copyOf(priorTop);
    this.posters = posters;
  }

  /**
   * @param scores model scores [n, g]
   * @param labels 0/1 labels [n, g]
   * @param genres the model's genres, in output order
   * @param thresholds per genre, in output order (model.json's)
   * @param minGenres least genres per poster (model.json's min_genres)
   * @param maxGenres most genres per poster (model.json's max_genres)
   * @param priorFrequency each genre's prior (training) frequency, in [0, 1]
   */
  public static Evaluation compute(float[] scores, float[] labels, List<String> genres, float[] thresholds, int minGenres,
      int maxGenres, float[] priorFrequency) {
    return compute(scores, labels, genres, thresholds, minGenres, maxGenres, GenreRules.Ranking.SCORE, priorFrequency);
  }

  /** As above, with the model's ranking of genres for the max-genres cut (model.json's rank_by). */
  public static Evaluation compute(float[] scores, float[] labels, List<String> genres, float[] thresholds, int minGenres,
      int maxGenres, GenreRules.Ranking ranking, float[] priorFrequency) {
    GenreRules rules = new GenreRules(genres, thresholds, minGenres, maxGenres, ranking);
    int g = genres.size();
    if (scores.length != labels.length || scores.length % g != 0) {
      throw new IllegalArgumentException("scores (" + scores.length + ") and labels (" + labels.length + ") must both be n x " + g);
    }
    if (priorFrequency.length != g) throw new IllegalArgumentException("need " + g + " prior frequencies, got " + priorFrequency.length);
    int n = scores.length / g;
    if (n == 0) throw new IllegalArgumentException("no posters to evaluate");

    float[] decided = assign(scores, rules);
    float[] zeros = new float[scores.length];
    float[] priorScores = new float[scores.length];
    for (int i = 0; i < scores.length; i++) priorScores[i] = priorFrequency[i % g];
    Integer[] order = new Integer[g];
    for (int j = 0; j < g; j++) order[j] = j;
    Arrays.sort(order, (a, b) -> Float.compare(priorFrequency[b], priorFrequency[a]));
    int top = Math.min(2, g);
    List<String> priorTop = new ArrayList<>();
    float[] priorDecided = new float[scores.length];
    for (int k = 0; k < top; k++) {
      priorTop.add(genres.get(order[k]));
      for (int i = 0; i < n; i++) priorDecided[i * g + order[k]] = 1f;
    }

    double[] aucs = aucs(scores, labels, g);
    double[] aps = aps(scores, labels, g);
    double[] priorAps = aps(priorScores, labels, g);
    List<GenreRow> rows = new ArrayList<>();
    for (int j = 0; j < g; j++) {
      int tp = 0, fp = 0, fn = 0, support = 0, predicted = 0;
      for (int i = j; i < labels.length; i += g) {
        boolean y = labels[i] > 0.5f;
        boolean p = decided[i] > 0.5f;
        if (y) support++;
        if (p) predicted++;
        if (p && y) tp++;
        else if (p) fp++;
        else if (y) fn++;
      }
      double precision = tp + fp == 0 ? Double.NaN : (double) tp / (tp + fp);
      double recall = tp + fn == 0 ? Double.NaN : (double) tp / (tp + fn);
      double f1 = tp + fp + fn == 0 ? Double.NaN : 2.0 * tp / (2.0 * tp + fp + fn);
      rows.add(new GenreRow(genres.get(j), support, predicted, aucs[j], aps[j], thresholds[j], precision, recall, f1,
          priorFrequency[j], priorAps[j]));
    }
    Summary m = summary("model", scores, decided, labels, g, aucs, aps, true);
    Summary neg = summary("all_negative", zeros, zeros, labels, g, aucs(zeros, labels, g), aps(zeros, labels, g), false);
    Summary pr = summary("frequency_prior", priorScores, priorDecided, labels, g, aucs(priorScores, labels, g), priorAps, true);
    return new Evaluation(rows, m, neg, pr, priorTop, n);
  }

  /** The job's decisions: thresholds, then at least min and at most max genres per poster. */
  static float[] assign(float[] scores, GenreRules rules) {
    List<String> genres = rules.genres();
    int g = genres.size();
    float[] out = new float[scores.length];
    for (int i = 0; i < scores.length / g; i++) {
      for (String genre : rules.assign(scores, i * g)) out[i * g + genres.indexOf(genre)] = 1f;
    }
    return out;
  }

  private static Summary summary(String name, float[] scores, float[] decided, float[] labels, int g, double[] aucs,
      double[] aps, boolean withLoss) {
    double assigned = 0;
    for (float v : decided) assigned += v;
    return new Summary(name, Metrics.binaryAccuracy(decided, labels), Metrics.microF1(decided, labels),
        Metrics.macroF1(decided, labels, g), Metrics.nanMean(aps), Metrics.nanMean(aucs),
        withLoss ? Metrics.logLoss(scores, labels) : Double.NaN, assigned / (labels.length / g));
  }

  private static double[] aucs(float[] scores, float[] labels, int g) {
    return Metrics.aucs(scores, labels, g); // ties count half: a constant score gives 0.5
  }

  /** Metrics.averagePrecision per genre, except prevalence for a genre whose scores are all tied. */
  private static double[] aps(float[] scores, float[] labels, int g) {
    double[] out = Metrics.averagePrecisions(scores, labels, g);
    int n = scores.length / g;
    for (int j = 0; j < g; j++) {
      boolean constant = true;
      int pos = 0;
      for (int i = 0; i < n; i++) {
        if (scores[i * g + j] != scores[j]) constant = false;
        if (labels[i * g + j] > 0.5f) pos++;
      }
      if (constant && pos > 0) out[j] = (double) pos / n;
    }
    return out;
  }

  public List<GenreRow> rows() {
    return rows;
  }

  public Summary model() {
    return model;
  }

  public Summary allNegative() {
    return allNegative;
  }

  public Summary prior() {
    return prior;
  }

  public List<String> priorTop() {
    return priorTop;
  }

  public int posters() {
    return posters;
  }

  /** Everything, for JSON: per_genre and overall (model and both baselines). */
  public Map<String, Object> toMap() {
    Map<String, Object> perGenre = new LinkedHashMap<>();
    for (GenreRow r : rows) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("support", r.support());
      e.put("predicted", r.predicted());
      e.put("roc_auc", round(r.rocAuc()));
      e.put("average_precision", round(r.averagePrecision()));
      e.put("threshold", round(r.threshold()));
      e.put("precision", round(r.precision()));
      e.put("recall", round(r.recall()));
      e.put("f1", round(r.f1()));
      e.put("prior_frequency", round(r.priorFrequency()));
      e.put("prior_average_precision", round(r.priorAveragePrecision()));
      perGenre.put(r.genre(), e);
    }
    Map<String, Object> overall = new LinkedHashMap<>();
    for (Summary s : List.of(model, allNegative, prior)) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("binary_accuracy", round(s.binaryAccuracy()));
      e.put("micro_f1", round(s.microF1()));
      e.put("macro_f1", round(s.macroF1()));
      e.put("mean_average_precision", round(s.meanAveragePrecision()));
      e.put("macro_roc_auc", round(s.macroRocAuc()));
      e.put("log_loss", round(s.logLoss()));
      e.put("mean_genres_assigned", round(s.meanGenresAssigned()));
      if (s == prior) e.put("labels", priorTop);
      overall.put(s.name(), e);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("posters", posters);
    m.put("overall", overall);
    m.put("per_genre", perGenre);
    m.put("notes", List.of(
        "model: F1, precision, recall and binary accuracy use model.json thresholds plus its min/max genres per poster",
        "macro_f1 averages the genres with a positive label or prediction; mAP and macro ROC-AUC average the genres where defined",
        "all_negative: no genre for any poster, score 0 (ROC-AUC 0.5, AP = prevalence)",
        "frequency_prior: each genre's prior frequency as its score (ROC-AUC 0.5, AP = prevalence); labels: the two most frequent genres"));
    return m;
  }

  /** A readable table: one row per genre, then the model beside both baselines. */
  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-12s %7s %5s %7s %6s %5s %6s %6s %6s %9s %7s%n",
        "genre", "support", "pred", "ROC-AUC", "AP", "thr", "prec", "recall", "F1", "prior AP", "pred/sup"));
    for (GenreRow r : rows) {
      b.append(String.format(Locale.ROOT, "%-12s %7d %5d %7s %6s %5.2f %6s %6s %6s %9s %7s%n", r.genre(), r.support(),
          r.predicted(), f(r.rocAuc()), f(r.averagePrecision()), r.threshold(), f(r.precision()), f(r.recall()),
          f(r.f1()), f(r.priorAveragePrecision()), r.support() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) r.predicted() / r.support())));
    }
    b.append('\n');
    b.append(String.format(Locale.ROOT, "%-38s %8s %8s %8s %6s %9s %8s %7s%n",
        "overall (" + posters + " posters)", "bin-acc", "micro-F1", "macro-F1", "mAP", "macro-AUC", "log-loss", "genres"));
    for (Summary s : List.of(model, allNegative, prior)) {
      String name = switch (s.name()) {
        case "model" -> "model (thresholds + min/max rules)";
        case "all_negative" -> "baseline: all negative";
        default -> "baseline: prior, labels " + String.join("+", priorTop);
      };
      b.append(String.format(Locale.ROOT, "%-38s %8s %8s %8s %6s %9s %8s %7.2f%n", name, f(s.binaryAccuracy()),
          f(s.microF1()), f(s.macroF1()), f(s.meanAveragePrecision()), f(s.macroRocAuc()), f(s.logLoss()),
          s.meanGenresAssigned()));
    }
    return b.toString();
  }

  /** Largest posters-given over posters-having among genres with at least {@code minSupport} posters, and which genre. */
  public Map.Entry<String, Double> mostOverAssigned(int minSupport) {
    String genre = "-";
    double worst = 0;
    for (GenreRow r : rows) {
      if (r.support() < minSupport) continue;
      double ratio = (double) r.predicted() / r.support();
      if (ratio > worst) {
        worst = ratio;
        genre = r.genre();
      }
    }
    return Map.entry(genre, worst);
  }

  /**
   * Standard deviations of macro ROC-AUC, mAP, micro-F1 and macro-F1 over {@code rounds} bootstrap
   * resamples of the posters (seeded): how much the figures would move on another sample of as
   * many posters.
   */
  public static double[] bootstrapSpread(float[] scores, float[] labels, List<String> genres, float[] thresholds, int minGenres,
      int maxGenres, GenreRules.Ranking ranking, int rounds, long seed) {
    int g = genres.size();
    int n = scores.length / g;
    java.util.Random r = new java.util.Random(seed);
    float[] decided = assign(scores, new GenreRules(genres, thresholds, minGenres, maxGenres, ranking));
    double[][] v = new double[4][rounds];
    float[] s = new float[scores.length];
    float[] y = new float[scores.length];
    float[] d = new float[scores.length];
    for (int k = 0; k < rounds; k++) {
      for (int i = 0; i < n; i++) {
        int from = r.nextInt(n) * g;
        System.arraycopy(scores, from, s, i * g, g);
        System.arraycopy(labels, from, y, i * g, g);
        System.arraycopy(decided, from, d, i * g, g);
      }
      v[0][k] = Metrics.nanMean(aucs(s, y, g));
      v[1][k] = Metrics.nanMean(aps(s, y, g));
      v[2][k] = Metrics.microF1(d, y);
      v[3][k] = Metrics.macroF1(d, y, g);
    }
    double[] sd = new double[4];
    for (int q = 0; q < 4; q++) {
      double mean = java.util.Arrays.stream(v[q]).filter(x -> !Double.isNaN(x)).average().orElse(Double.NaN);
      sd[q] = Math.sqrt(java.util.Arrays.stream(v[q]).filter(x -> !Double.isNaN(x)).map(x -> (x - mean) * (x - mean)).sum() / (rounds - 1));
    }
    return sd;
  }

  private static String f(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  static Double round(double v) {
    return Metrics.round(v, 4);
  }
}
