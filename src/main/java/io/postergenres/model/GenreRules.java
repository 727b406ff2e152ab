package io.postergenres.model;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns one poster's sigmoid scores into its genres: every genre at or over its own threshold,
 * ranked best first, topped up to {@code min} from the best of the rest and cut to {@code max}.
 * Immutable, thread-safe and serializable.
 *
 * <p>How genres are ranked is the model's choice ({@code rank_by} in model.json): by score, or by
 * score over the genre's own threshold. With the second, a rare genre well over its high bar is not
 * pushed out of the top {@code max} by a common genre just over its low one, so the genres a
 * catalogue shows keep to the shares the thresholds were calibrated for.
 */
public final class GenreRules implements Serializable {
  private static final long serialVersionUID = 2L;

  /** The order in which genres over their thresholds are taken. */
  public enum Ranking {
    /** Highest score first (ties in output order). */
    SCORE,
    /** Highest score / threshold first (ties in output order). */
    THRESHOLD_RATIO;

    /** The spelling in model.json. */
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** {@code null} (an older model.json) is {@link #SCORE}. */
    public static Ranking parse(String name) {
      if (name == null) return SCORE;
      for (Ranking r : values()) if (r.jsonName().equals(name)) return r;
      throw new IllegalArgumentException("rank_by must be score or threshold_ratio, got " + name);
    }
  }

  private final List<String> genres;
  private final float[] thresholds;
  private final int min;
  private final int max;
  private final Ranking ranking;

  public GenreRules(List<String> genres, float[] thresholds, int min, int max) {
    this(genres, thresholds, min, max, Ranking.SCORE);
  }

  public GenreRules(List<String> genres, float[] thresholds, int min, int max, Ranking ranking) {
    if (genres.size() != thresholds.length) {
      throw new IllegalArgumentException(genres.size() + " genres but " + thresholds.length + " thresholds");
    }
    if (min < 0 || max < min || max < 1) {
      throw new IllegalArgumentException("need 0 <= min <= max and max >= 1, got min=" + min + " max=" + max);
    }
    this.genres = List.copyOf(genres);
    this.thresholds = thresholds.clone();
    this.min = min;
    this.max = max;
    this.ranking = ranking;
  }

  public static GenreRules of(ModelSpec spec) {
    return new GenreRules(spec.genres(), spec.thresholdArray(), spec.minGenres(), spec.maxGenres(), spec.ranking());
  }

  public List<String> genres() {
    return genres;
  }

  /** Genres for {@code scores[offset .. offset + genres)}, best first. */
  public List<String> assign(float[] scores, int offset) {
    int[] chosen = new int[genres.size()];
    int count = choose(scores, offset, thresholds, min, max, ranking, chosen);
    List<String> out = new ArrayList<>(count);
    for (int k = 0; k < count; k++) out.add(genres.get(chosen[k]));
    return out;
  }

  /**
   * The rule itself, allocation-free, for the job and for calibrating thresholds on many posters:
   * writes the chosen genre indices, best first, into {@code chosen} and returns how many.
   */
  public static int choose(float[] scores, int offset, float[] thresholds, int min, int max, Ranking ranking, int[] chosen) {
    int g = thresholds.length;
    int count = 0;
    // Selection by repeated maximum: g is small (24) and at most max + min picks are made.
    while (count < max) {
      int best = -1;
      double bestKey = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < g; j++) {
        if (scores[offset + j] < thresholds[j] || taken(chosen, count, j)) continue;
        double key = key(scores[offset + j], thresholds[j], ranking);
        if (key > bestKey) {
          bestKey = key;
          best = j;
        }
      }
      if (best < 0) break;
      chosen[count++] = best;
    }
    // Too few over their thresholds: top up with the best of the rest, by the same ranking.
    while (count < min) {
      int best = -1;
      double bestKey = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < g; j++) {
        if (taken(chosen, count, j)) continue;
        double key = key(scores[offset + j], thresholds[j], ranking);
        if (key > bestKey) {
          bestKey = key;
          best = j;
        }
      }
      if (best < 0) break;
      chosen[count++] = best;
    }
    // Best first, as before, whichever way they were found.
    for (int a = 1; a < count; a++) {
      int v = chosen[a];
      double kv = key(scores[offset + v], thresholds[v], ranking);
      int b = a - 1;
      while (b >= 0 && (key(scores[offset + chosen[b]], thresholds[chosen[b]], ranking) < kv
          || (key(scores[offset + chosen[b]], thresholds[chosen[b]], ranking) == kv && chosen[b] > v))) {
        chosen[b + 1] = chosen[b];
        b--;
      }
      chosen[b + 1] = v;
    }
    return count;
  }

  private static boolean taken(int[] chosen, int count, int j) {
    for (int k = 0; k < count; k++) if (chosen[k] == j) return true;
    return false;
  }

  private static double key(float score, float threshold, Ranking ranking) {
    return ranking == Ranking.SCORE ? score : score / Math.max(threshold, 1e-6f);
  }
}
