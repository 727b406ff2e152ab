package io.postergenres.job.incremental;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run at a time per output: a {@code _lock} file created exclusively, holding who took it and
 * until when it is valid. The holder renews it every third of its lifetime; a lock whose holder died
 * expires and is taken over by the next run. Driver-only.
 *
 * <p>Exclusive create is atomic on HDFS and local file systems; on S3, where two writers can both
 * "create" the same key, schedule one job per output (the scheduler's own concurrency limit) and
 * treat this lock as a guard against mistakes, not a distributed mutex.
 */
public final class RunLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;
  private final Path path;
  private final String runId;
  private final Duration ttl;
  private final ScheduledExecutorService renewer;

  private RunLock(FileSystem fs, Path path, String runId, Duration ttl) {
    this.fs = fs;
    this.path = path;
    this.runId = runId;
    this.ttl = ttl;
    this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "poster-genres-lock-renewer");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(1, ttl.toMillis() / 3);
    renewer.scheduleAtFixedRate(this::renew, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Takes the lock of {@code outputDir} or fails with {@link Failure#LOCK_HELD} naming the holder.
   */
  public static RunLock acquire(String outputDir, String runId, Duration ttl, Configuration conf) {
    Path path = new Path(outputDir, "_lock");
    try {
      FileSystem fs = path.getFileSystem(conf);
      for (int attempt = 0; attempt < 2; attempt++) {
        try {
          write(fs, path, runId, ttl, false);
          LOG.info("Took the lock {} for run {}", path, runId);
          return new RunLock(fs, path, runId, ttl);
        } catch (FileAlreadyExistsException e) {
          JsonNode holder = read(fs, path);
          Instant expires = holder == null ? Instant.EPOCH : Instant.parse(holder.path("expires_at").asText(Instant.EPOCH.toString()));
          if (Instant.now().isBefore(expires)) {
            throw new PosterGenresException(Failure.LOCK_HELD,
                "another run (" + holder.path("run_id").asText("?") + " on " + holder.path("host").asText("?")
                    + ", started " + holder.path("started_at").asText("?") + ") holds " + path
                    + " until " + expires + "; wait for it, or delete the lock file if you are sure it is dead");
          }
          LOG.warn("Taking over expired lock {} of run {} (expired {})", path,
              holder == null ? "?" : holder.path("run_id").asText("?"), expires);
          fs.delete(path, false);
        }
      }
      throw new PosterGenresException(Failure.LOCK_HELD, "another run took the lock " + path + " at the same moment");
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot create the lock " + path + ": " + e.getMessage(), e);
    }
  }

  private static void write(FileSystem fs, Path path, String runId, Duration ttl, boolean overwrite) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run_id", runId);
    body.put("host", hostName());
    body.put("process", ManagementFactory.getRuntimeMXBean().getName());
    body.put("started_at", Instant.now().toString());
    body.put("expires_at", Instant.now().plus(ttl).toString());
    if (!overwrite && fs.exists(path)) throw new FileAlreadyExistsException(path.toString());
    try (OutputStream out = fs.create(path, overwrite)) {
      out.write(JSON.writeValueAsBytes(body));
    }
  }

  private static JsonNode read(FileSystem fs, Path path) {
    try (InputStream in = fs.open(path)) {
      return JSON.readTree(in);
    } catch (IOException e) {
      return null; // unreadable or half-written: treated as expired
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private void renew() {
    try {
      JsonNode holder = read(fs, path);
      if (holder != null && !runId.equals(holder.path("run_id").asText())) {
        LOG.error("Lock {} was taken over by run {}; this run {} no longer holds it", path, holder.path("run_id").asText(), runId);
        return;
      }
      write(fs, path, runId, ttl, true);
    } catch (IOException e) {
      LOG.warn("Could not renew lock {}: {}", path, e.toString());
    }
  }

  @Override
  public void close() {
    renewer.shutdownNow();
    try {
      JsonNode holder = read(fs, path);
      if (holder != null && runId.equals(holder.path("run_id").asText())) fs.delete(path, false);
    } catch (IOException e) {
      LOG.warn("Could not release lock {}: {}", path, e.toString());
    }
  }
}
