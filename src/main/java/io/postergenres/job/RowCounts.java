package io.postergenres.job;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.util.AccumulatorV2;

/**
 * What the labeller wrote, counted as it writes: rows per error kind ({@code ""} for labelled) and
 * labelled posters per genre. The labeller runs in the write's result stage, and Spark merges a
 * result task's accumulator updates once per partition, from the attempt that succeeded, so these
 * equal the rows the write committed, and the driver need not read the output again to count them.
 *
 * @param byKind rows per error kind, {@code ""} for labelled rows
 * @param byGenre labelled posters per assigned genre
 */
public record RowCounts(Counter byKind, Counter byGenre) implements Serializable {
  /** Two new counters, registered with {@code sc}. */
  public static RowCounts register(SparkContext sc) {
    RowCounts counts = new RowCounts(new Counter(), new Counter());
    sc.register(counts.byKind, "poster-genres.rows-by-kind");
    sc.register(counts.byGenre, "poster-genres.labelled-by-genre");
    return counts;
  }

  /** A count per string key. */
  public static final class Counter extends AccumulatorV2<String, Map<String, Long>> {
    private static final long serialVersionUID = 1L;
    private final HashMap<String, Long> counts = new HashMap<>();

    @Override
    public synchronized boolean isZero() {
      return counts.isEmpty();
    }

    @Override
    public synchronized Counter copy() {
      Counter c = new Counter();
      c.counts.putAll(counts);
      return c;
    }

    @Override
    public synchronized void reset() {
      counts.clear();
    }

    @Override
    public synchronized void add(String key) {
      counts.merge(key, 1L, Long::sum);
    }

    @Override
    public void merge(AccumulatorV2<String, Map<String, Long>> other) {
      Map<String, Long> theirs = other.value();
      synchronized (this) {
        theirs.forEach((k, v) -> counts.merge(k, v, Long::sum));
      }
    }

    /** A copy of the counts. */
    @Override
    public synchronized Map<String, Long> value() {
      return new HashMap<>(counts);
    }
  }
}
