package io.postergenres.metrics;

import io.postergenres.model.GenreRules;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The figures a cross-validated model reports for each held-out fold, with the thresholds
 * calibrated on the other folds, and their mean ± standard deviation over the folds.
 * Over-assignment is posters given a genre over posters that have it, largest over genres with
 * 10 or more posters in the fold; "genres with 10+" means 10 or more posters in the whole set (the
 * hidden-set scorer's definition).
 */
public final class FoldFigures {
  /** The figures, in the order of {@link Fold#values()}. */
  public static final List<String> NAMES = List.of("macro_roc_auc", "macro_roc_auc_genres_with_10_plus", "macro_average_precision",
      "micro_f1", "macro_f1", "most_over_assigned", "mean_genres_assigned");

  private FoldFigures() {}

  /** One held-out fold's figures and the genre most over-assigned in it. */
  public record Fold(double[] values, String mostOverAssigned) {
    /** The figures by name, rounded to 4 decimals, and the most over-assigned genre. */
    public Map<String, Object> toMap() {
      Map<String, Object> row = new LinkedHashMap<>();
      for (int q = 0; q < NAMES.size(); q++) row.put(NAMES.get(q), Metrics.round(values[q], 4));
      row.put("most_over_assigned_genre", mostOverAssigned);
      return row;
    }
  }

  /** Which genres have 10 or more posters among {@code labels} (n x g). */
  public static boolean[] common(float[] labels, int g) {
    boolean[] common = new boolean[g];
    for (int j = 0; j < g; j++) {
      int pos = 0;
      for (int i = j; i < labels.length; i += g) if (labels[i] > 0.5f) pos++;
      common[j] = pos >= 10;
    }
    return common;
  }

  /**
   * The figures of the held-out posters under the rule (1 to {@code maxGenres} genres, {@code
   * ranking}) with thresholds calibrated on the other posters' scores under {@code rule} ({@code
   * restFolds}: the other posters' folds, for a rule whose cap holds on every fold).
   */
  public static Fold score(float[] restScores, float[] restLabels, int[] restFolds, float[] heldScores, float[] heldLabels, int g,
      int maxGenres, GenreRules.Ranking ranking, CalibrationRule rule, boolean[] common, List<String> genres) {
    float[] t = RuleCalibration.asWritten(rule.calibrate(restScores, restLabels, g, maxGenres, ranking, restFolds));
    RuleCalibration.Counts c = RuleCalibration.count(heldScores, heldLabels, g, t, 1, maxGenres, ranking);
    double over = 0;
    String overGenre = "";
    long assigned = 0;
    for (int j = 0; j < g; j++) {
      assigned += c.tp()[j] + c.fp()[j];
      double r = c.assignedOverTrue(j);
      if (c.tp()[j] + c.fn()[j] >= 10 && r > over) {
        over = r;
        overGenre = genres.get(j);
      }
    }
    double[] aucs = Metrics.aucs(heldScores, heldLabels, g);
    double[] commonAucs = IntStream.range(0, g).filter(j -> common[j]).mapToDouble(j -> aucs[j]).toArray();
    int n = heldScores.length / g;
    return new Fold(new double[] {Metrics.nanMean(aucs), Metrics.nanMean(commonAucs),
        Metrics.nanMean(Metrics.averagePrecisions(heldScores, heldLabels, g)), c.microF1(), c.macroF1(), over, (double) assigned / n},
        overGenre);
  }

  /** Each figure as "mean ± standard deviation" over the folds. */
  public static Map<String, Object> summary(List<Fold> folds) {
    Map<String, Object> summary = new LinkedHashMap<>();
    for (int q = 0; q < NAMES.size(); q++) {
      double mean = 0;
      for (Fold f : folds) mean += f.values()[q];
      mean /= folds.size();
      double var = 0;
      for (Fold f : folds) var += (f.values()[q] - mean) * (f.values()[q] - mean);
      double sd = Math.sqrt(var / (folds.size() - 1));
      summary.put(NAMES.get(q), String.format(Locale.ROOT, "%.4f ± %.4f", mean, sd));
    }
    return summary;
  }

  /** Per genre: support, ROC-AUC, AP, F1 at the rule, share of posters given it against share that have it, threshold. */
  public static Map<String, Object> perGenre(float[] scores, float[] labels, int g, List<String> genres, float[] thresholds, int maxGenres,
      GenreRules.Ranking ranking) {
    double[] aucs = Metrics.aucs(scores, labels, g);
    double[] aps = Metrics.averagePrecisions(scores, labels, g);
    RuleCalibration.Counts c = RuleCalibration.count(scores, labels, g, thresholds, 1, maxGenres, ranking);
    int n = scores.length / g;
    Map<String, Object> m = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) {
      long support = c.tp()[j] + c.fn()[j];
      long given = c.tp()[j] + c.fp()[j];
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("support", support);
      e.put("roc_auc", Metrics.round(aucs[j], 4));
      e.put("average_precision", Metrics.round(aps[j], 4));
      e.put("f1", Metrics.round(support + given == 0 ? Double.NaN : 2.0 * c.tp()[j] / (support + given), 4));
      e.put("share_true", Metrics.round((double) support / n, 4));
      e.put("share_assigned", Metrics.round((double) given / n, 4));
      e.put("threshold", Metrics.round(thresholds[j], 4));
      m.put(genres.get(j), e);
    }
    return m;
  }
}
