package io.postergenres.model;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Turns one poster's sigmoid scores into its genres: every genre at or over its own threshold,
 * ordered by score (highest first, ties in output order), topped up to {@code min} from the best
 * of the rest and cut to {@code max}. Immutable, thread-safe and serializable.
 */
public final class GenreRules implements Serializable {
  private static final long serialVersionUID = 1L;
  private final List<String> genres;
  private final float[] thresholds;
  private final int min;
  private final int max;

  public GenreRules(List<String> genres, float[] thresholds, int min, int max) {
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
  }

  public static GenreRules of(ModelSpec spec) {
    return new GenreRules(spec.genres(), spec.thresholdArray(), spec.minGenres(), spec.maxGenres());
  }

  public List<String> genres() {
    return genres;
  }

  /** Genres for {@code scores[offset .. offset + genres)}, best first. */
  public List<String> assign(float[] scores, int offset) {
    int g = genres.size();
    Integer[] order = new Integer[g];
    for (int i = 0; i < g; i++) order[i] = i;
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -scores[offset + i]));
    boolean[] chosen = new boolean[g];
    int count = 0;
    for (int rank = 0; rank < g && count < max; rank++) {
      int i = order[rank];
      if (scores[offset + i] >= thresholds[i]) {
        chosen[i] = true;
        count++;
      }
    }
    // Too few over their thresholds: top up with the best of the rest.
    for (int rank = 0; rank < g && count < min; rank++) {
      int i = order[rank];
      if (!chosen[i]) {
        chosen[i] = true;
        count++;
      }
    }
    List<String> out = new ArrayList<>(count);
    for (int rank = 0; rank < g; rank++) {
      if (chosen[order[rank]]) out.add(genres.get(order[rank]));
    }
    return out;
  }
}
