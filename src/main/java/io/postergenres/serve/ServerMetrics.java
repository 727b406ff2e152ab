package io.postergenres.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Request counts by endpoint and status, and a latency histogram, in Prometheus' text format.
 * Thread-safe.
 */
public final class ServerMetrics {
  private static final double[] BUCKETS_MS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000};
  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final LongAdder[] latency = new LongAdder[BUCKETS_MS.length + 1];
  private final LongAdder latencySumMicros = new LongAdder();
  private final LongAdder latencyCount = new LongAdder();

  public ServerMetrics() {
    for (int i = 0; i < latency.length; i++) latency[i] = new LongAdder();
  }

  void record(String endpoint, int status, long nanos) {
    requests.computeIfAbsent(endpoint + "|" + status, k -> new LongAdder()).increment();
    if (endpoint.equals("analysis") || endpoint.equals("classify")) {
      double ms = nanos / 1e6;
      int b = 0;
      while (b < BUCKETS_MS.length && ms > BUCKETS_MS[b]) b++;
      latency[b].increment();
      latencySumMicros.add(nanos / 1000);
      latencyCount.increment();
    }
  }

  /** Requests answered with {@code status} on {@code endpoint} so far. */
  public long count(String endpoint, int status) {
    LongAdder a = requests.get(endpoint + "|" + status);
    return a == null ? 0 : a.sum();
  }

  String prometheus(InferenceBatcher batcher) {
    StringBuilder b = new StringBuilder();
    b.append("# HELP poster_genres_requests_total HTTP requests by endpoint and status.\n");
    b.append("# TYPE poster_genres_requests_total counter\n");
    new TreeMap<>(requests).forEach((k, v) -> {
      String[] parts = k.split("\\|");
      b.append(String.format(Locale.ROOT, "poster_genres_requests_total{endpoint=\"%s\",status=\"%s\"} %d%n", parts[0], parts[1], v.sum()));
    });
    b.append("# HELP poster_genres_classify_seconds Latency of classification requests.\n");
    b.append("# TYPE poster_genres_classify_seconds histogram\n");
    long cumulative = 0;
    for (int i = 0; i < BUCKETS_MS.length; i++) {
      cumulative += latency[i].sum();
      b.append(String.format(Locale.ROOT, "poster_genres_classify_seconds_bucket{le=\"%s\"} %d%n", BUCKETS_MS[i] / 1000, cumulative));
    }
    cumulative += latency[BUCKETS_MS.length].sum();
    b.append(String.format(Locale.ROOT, "poster_genres_classify_seconds_bucket{le=\"+Inf\"} %d%n", cumulative));
    b.append(String.format(Locale.ROOT, "poster_genres_classify_seconds_sum %.6f%n", latencySumMicros.sum() / 1e6));
    b.append(String.format(Locale.ROOT, "poster_genres_classify_seconds_count %d%n", latencyCount.sum()));
    b.append("# TYPE poster_genres_batches_total counter\n");
    b.append("poster_genres_batches_total ").append(batcher.batches()).append('\n');
    b.append("# TYPE poster_genres_batched_posters_total counter\n");
    b.append("poster_genres_batched_posters_total ").append(batcher.posters()).append('\n');
    b.append("# TYPE poster_genres_largest_batch gauge\n");
    b.append("poster_genres_largest_batch ").append(batcher.largestBatch()).append('\n');
    return b.toString();
  }
}
