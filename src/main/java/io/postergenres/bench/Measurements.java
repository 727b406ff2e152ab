package io.postergenres.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The statistics {@code bench} reports, so that its figures hold from run to run on a shared host:
 * the median of repeated measurements with their minimum and maximum (a flag when they spread too
 * widely to trust), and the split of a run's time into a fixed part and a marginal rate, from runs
 * of several sizes.
 */
public final class Measurements {
  /** A spread ({@code (max - min) / median}) above this is flagged as too wide to trust. */
  public static final double WIDE = 0.20;

  private Measurements() {}

  /**
   * Repeated measurements of one figure.
   *
   * @param values the measurements, in the order taken
   * @param median their median (the mean of the middle two for an even count)
   * @param min the smallest
   * @param max the largest
   */
  public record Spread(double[] values, double median, double min, double max) {
    public Spread {
      values = values.clone();
    }

    public int n() {
      return values.length;
    }

    /** {@code (max - min) / median}: 0 for one measurement (unknown, not small: see {@link #wide()}). */
    public double spread() {
      if (max == min) return 0;
      return median == 0 ? Double.POSITIVE_INFINITY : (max - min) / Math.abs(median);
    }

    /** Whether the measurements spread more than {@link #WIDE} of their median. */
    public boolean wide() {
      return spread() > WIDE;
    }

    /** The figure as JSON: the median under {@code key}, then min, max, spread, the flag and every measurement. */
    public Map<String, Object> toJson(String key) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put(key, round(median));
      m.put("min", round(min));
      m.put("max", round(max));
      m.put("measurements", n());
      m.put("spread", round(spread()));
      m.put("spread_too_wide", wide());
      m.put("values", Arrays.stream(values).map(Measurements::round).toArray());
      return m;
    }

    /** {@code 41.2 [39.0-44.1] 12%}, with {@code !} after a spread too wide to trust. */
    public String describe(String format) {
      if (n() == 1) return String.format(Locale.ROOT, format + " (one measurement)", median);
      return String.format(Locale.ROOT, format + " [%s-%s] %3.0f%%%s", median, String.format(Locale.ROOT, format, min).trim(),
          String.format(Locale.ROOT, format, max).trim(), 100 * spread(), wide() ? " !" : "");
    }
  }

  /** Median, minimum and maximum of {@code values} (at least one, none NaN). */
  public static Spread of(double... values) {
    if (values.length == 0) throw new IllegalArgumentException("no measurements");
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    if (Double.isNaN(sorted[sorted.length - 1])) throw new IllegalArgumentException("a measurement is NaN: " + Arrays.toString(values));
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return new Spread(values, median, sorted[0], sorted[n - 1]);
  }

  /**
   * A run's seconds as {@code fixedSeconds + posters / marginalRate}: what every run pays whatever
   * its size, and the posters per second each further poster goes at.
   *
   * @param fixedSeconds the intercept, in seconds (may come out slightly negative from noisy runs)
   * @param marginalRate posters per second of the slope; infinite when the runs' time did not grow with their size
   */
  public record Fit(double fixedSeconds, double marginalRate) {
    /** The seconds a run of {@code posters} takes by this fit. */
    public double secondsFor(double posters) {
      return fixedSeconds + posters / marginalRate;
    }
  }

  /**
   * The least-squares line through (size, seconds) of runs of two or more different sizes.
   *
   * @throws IllegalArgumentException with fewer than two distinct sizes, or arrays of different lengths
   */
  public static Fit fit(double[] sizes, double[] seconds) {
    if (sizes.length != seconds.length) throw new IllegalArgumentException(sizes.length + " sizes for " + seconds.length + " timings");
    if (Arrays.stream(sizes).distinct().count() < 2) {
      throw new IllegalArgumentException("a fixed part and a marginal rate need runs of at least two sizes: " + Arrays.toString(sizes));
    }
    int n = sizes.length;
    double mx = Arrays.stream(sizes).average().orElseThrow();
    double my = Arrays.stream(seconds).average().orElseThrow();
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < n; i++) {
      sxy += (sizes[i] - mx) * (seconds[i] - my);
      sxx += (sizes[i] - mx) * (sizes[i] - mx);
    }
    double slope = sxy / sxx;
    return new Fit(my - slope * mx, slope > 0 ? 1 / slope : Double.POSITIVE_INFINITY);
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }
}
