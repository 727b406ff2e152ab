package io.postergenres.serve;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A bounded load generator for {@code serve}, run as its own process: N clients post posters in a
 * loop for a fixed time (and at most a fixed number of requests), then it prints throughput and
 * latency percentiles as one JSON line. Only for loopback targets.
 *
 * <p>Run by {@code scripts/serve-load-test} through the hidden command {@code poster-genres serve-load
 * URL POSTER_DIR CLIENTS SECONDS [MAX_REQUESTS]}.
 */
public final class LoadClient {
  private LoadClient() {}

  /** Whether {@code url} points at this machine: the only targets the client takes. */
  public static boolean isLoopback(URI url) {
    String host = url.getHost();
    return host != null && (host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1"));
  }

  /**
   * Posts the {@code .jpg} posters under {@code posterDir} to {@code url} from {@code clients}
   * threads for {@code seconds} (at most {@code maxRequests} requests) and returns the JSON line.
   */
  public static String run(URI url, Path posterDir, int clients, long seconds, long maxRequests)
      throws IOException, InterruptedException {
    if (!isLoopback(url)) throw new IllegalArgumentException("LoadClient only targets loopback addresses, not " + url.getHost());
    List<byte[]> posters = new ArrayList<>();
    try (Stream<Path> files = Files.walk(posterDir)) {
      for (Path p : files.filter(Files::isRegularFile).filter(p -> p.toString().toLowerCase(Locale.ROOT).endsWith(".jpg")).limit(200).toList()) {
        posters.add(Files.readAllBytes(p));
      }
    }
    if (posters.isEmpty()) throw new IOException("no .jpg posters under " + posterDir);

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong issued = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    List<long[]> perThread = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      long[] latencies = new long[(int) Math.min(maxRequests, 200_000)];
      perThread.add(latencies);
      final int id = c;
      Thread t = new Thread(() -> {
        int n = 0;
        while (System.nanoTime() < deadline && issued.incrementAndGet() <= maxRequests && n < latencies.length) {
          byte[] body = posters.get((id * 7919 + n) % posters.size());
          long t0 = System.nanoTime();
          try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() != 200) failures.incrementAndGet();
          } catch (IOException | InterruptedException e) {
            failures.incrementAndGet();
          }
          latencies[n++] = System.nanoTime() - t0;
        }
        latencies[latencies.length - 1] = -n - 1; // remember the count in the last slot
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    double elapsed = (System.nanoTime() - start) / 1e9;
    List<Long> all = new ArrayList<>();
    for (long[] l : perThread) {
      int n = (int) (-l[l.length - 1] - 1);
      for (int i = 0; i < n && i < l.length - 1; i++) all.add(l[i]);
    }
    long[] sorted = all.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    return String.format(Locale.ROOT,
        "{\"clients\": %d, \"seconds\": %.1f, \"requests\": %d, \"failed\": %d, \"requests_per_second\": %.1f, \"p50_ms\": %.1f, \"p99_ms\": %.1f}%n",
        clients, elapsed, sorted.length, failures.get(), sorted.length / elapsed, pct(sorted, 0.50), pct(sorted, 0.99));
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) return 0;
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }
}
