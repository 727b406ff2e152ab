package io.postergenres.job.incremental;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.RunSummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.hdfs.protocol.HdfsFileStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run at a time per output. Driver-only.
 *
 * <ul>
 *   <li><b>Taking</b>: {@code _lock} is created exclusively (one atomic step: HDFS's create without
 *       overwrite; on local disk {@code O_EXCL} through java.nio, since Hadoop's local create checks
 *       then creates). It names its run and a random lock id, and is never rewritten.
 *   <li><b>Holding</b>: the holder renews its lease in its own file, {@code _lock.<lock id>.lease},
 *       every third of the lifetime, and checks each time that {@code _lock} still names it. A
 *       holder that finds it lost the lock marks itself lost; {@link #verify} (called before each
 *       step that deletes or publishes) then stops the run with {@link Failure#LOCK_HELD}.
 *   <li><b>Taking over</b> an expired lock (its lease, or the lock itself when no lease was written,
 *       older than the lifetime): a contender must first create {@code _lock.<lock id>.takeover}
 *       exclusively; only the one that does may delete that lock, then it creates {@code _lock}
 *       exclusively like anyone else. So two contenders that both saw the same expired lock
 *       cannot both delete it (the check-then-create race of before), and a lock created meanwhile
 *       by a third is never deleted by a takeover meant for the old one.
 * </ul>
 *
 * <p>On S3 exclusive creation is not atomic: schedule one job per output (the scheduler's own
 * concurrency limit) and treat this lock as a guard against mistakes, not a distributed mutex.
 */
public final class RunLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Takeover markers and others' leases older than this many lifetimes are removed by the next holder. */
  private static final int MARKER_LIFETIMES = 20;

  private final FileSystem fs;
  private final Path path;
  private final String runId;
  private final String lockId;
  private final Duration ttl;
  private final ScheduledExecutorService renewer;
  /** {@code _lock} as this run's exclusive create left it (null if its status could not be read then). */
  private final FileStatus written;
  private volatile String lost;
  private volatile boolean closed;

  private RunLock(FileSystem fs, Path path, String runId, String lockId, Duration ttl, FileStatus written) {
    this.fs = fs;
    this.path = path;
    this.runId = runId;
    this.lockId = lockId;
    this.ttl = ttl;
    this.written = written;
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
    String shown = RunSummary.redact(path.toString());
    FileSystem fs = null;
    boolean taken = false;
    try {
      fs = FileSystem.newInstance(path.toUri(), lockConf(conf)); // its own client: see lockConf; closed with the lock
      fs.mkdirs(path.getParent());
      for (int attempt = 0; attempt < 2; attempt++) {
        String lockId = UUID.randomUUID().toString();
        if (createExclusive(fs, path, body(runId, lockId, ttl))) {
          RunLock lock = new RunLock(fs, path, runId, lockId, ttl, statusOrNull(fs, path));
          taken = true; // from here the lock owns the client: its close() closes it
          boolean held = false;
          try {
            lock.renewLease();
            lock.verify(); // read back: the file names this run
            held = true;
          } finally {
            if (!held) lock.close(); // not taken after all: no renewer left behind, and its own _lock removed
          }
          LOG.info("Took the lock {} for run {}", shown, runId);
          lock.removeOldMarkers();
          return lock;
        }
        JsonNode holder = read(fs, path);
        String heldId = holder == null ? null : holder.path("lock_id").asText(null);
        if (heldId != null && !heldId.matches("[0-9a-f-]{36}")) heldId = null; // not one of ours: judged by its age
        Instant expires = expiry(fs, path, holder, heldId, ttl);
        if (expires == null) continue; // gone meanwhile: try to create it again
        if (Instant.now().isBefore(expires)) throw held(holder, shown, expires);
        // Its generation: the lock id, or for a lock without one (unreadable, or written by an older
        // version) its modification time, which only a new lock changes.
        String generation = heldId != null ? heldId : "mtime-" + modificationTime(fs, path);
        if (!createExclusive(fs, marker(path, generation, "takeover"), body(runId, generation, ttl))) {
          throw new PosterGenresException(Failure.LOCK_HELD, "another run is taking over the expired lock " + shown + " at the same moment");
        }
        LOG.warn("Taking over expired lock {} of run {} (expired {})", shown,
            holder == null ? "?" : holder.path("run_id").asText("?"), expires);
        fs.delete(path, false);
        if (heldId != null) fs.delete(marker(path, heldId, "lease"), false);
      }
      throw new PosterGenresException(Failure.LOCK_HELD, "another run took the lock " + shown + " at the same moment");
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot create the lock " + shown + ": " + e.getMessage(), e);
    } finally {
      if (!taken && fs != null) closeQuietly(fs);
    }
  }

  /** HDFS client setting: how often a close (or a new block) is retried while the NameNode waits for block reports. */
  static final String CLOSE_RETRIES = "dfs.client.block.write.locateFollowingBlock.retries";
  /** At least this many retries for the lock's files (HDFS's default is 5, about 12 s in all). */
  static final int LOCK_CLOSE_RETRIES = 8;

  /**
   * The configuration of the lock's own file system client. The lock files are tiny and created and
   * closed one after another; a close completes only once the DataNodes have reported the block,
   * and on a busy NameNode (or a loaded small cluster: HdfsIT on a 2-core machine) that can take
   * longer than HDFS's default 5 retries (0.4 s doubling, about 12 s), after which the client gives
   * up: the run fails and leaves an unfinished {@code _lock} that blocks the next runs until it
   * expires. So the lock's client retries at least {@value #LOCK_CLOSE_RETRIES} times (about 100 s
   * at most, well inside the lock's lifetime); the job's data files keep the cluster's settings.
   * A higher value set by the cluster is kept.
   *
   * <p>Reads go the other way: a contender may read a lock file that another one is deleting (a
   * takeover). HDFS's client then looks for the vanished block 3 times with waits from a 3 s window
   * (about 30 s in all: one such wait made HdfsIT's contender miss its 30 s deadline), where the lock
   * only needs to learn that the file changed: an unreadable lock is judged by its age and the race
   * starts again. So the lock's client gives up on a missing block after one retry, 0.3 s apart; a
   * lower value set by the cluster is kept.
   */
  static Configuration lockConf(Configuration conf) {
    Configuration lockConf = new Configuration(conf);
    lockConf.setInt(CLOSE_RETRIES, Math.max(conf.getInt(CLOSE_RETRIES, 5), LOCK_CLOSE_RETRIES));
    lockConf.setInt(BLOCK_ACQUIRE_FAILURES, Math.min(conf.getInt(BLOCK_ACQUIRE_FAILURES, 3), 1));
    lockConf.setInt(RETRY_WINDOW_MS, Math.min(conf.getInt(RETRY_WINDOW_MS, 3000), 300));
    return lockConf;
  }

  /** HDFS client setting: how often a read looks again for a block no DataNode has. */
  static final String BLOCK_ACQUIRE_FAILURES = "dfs.client.max.block.acquire.failures";
  /** HDFS client setting: the base of the random wait between those looks, in ms. */
  static final String RETRY_WINDOW_MS = "dfs.client.retry.window.base";

  private static void closeQuietly(FileSystem fs) {
    try {
      fs.close();
    } catch (IOException e) {
      LOG.debug("closing the lock's file system: {}", e.toString());
    }
  }

  private static PosterGenresException held(JsonNode holder, String shown, Instant expires) {
    return new PosterGenresException(Failure.LOCK_HELD,
        "another run (" + (holder == null ? "?" : holder.path("run_id").asText("?") + " on " + holder.path("host").asText("?")
            + ", started " + holder.path("started_at").asText("?")) + ") holds " + shown
            + " until " + expires + "; wait for it, or delete the lock file if you are sure it is dead");
  }

  /** When the lock expires: its lease's expiry, else the lock file's; null when the lock is gone. */
  private static Instant expiry(FileSystem fs, Path path, JsonNode holder, String lockId, Duration ttl) throws IOException {
    if (holder != null) {
      Instant fromLock = instant(holder.path("expires_at").asText(null));
      JsonNode lease = lockId == null ? null : read(fs, marker(path, lockId, "lease"));
      if (lease == null) return fromLock;
      Instant fromLease = instant(lease.path("expires_at").asText(null));
      return fromLease.isAfter(fromLock) ? fromLease : fromLock;
    }
    long modified = modificationTime(fs, path);
    if (modified < 0) return null;
    // Unreadable (a holder died while writing it, is writing it now, or its block cannot be read at
    // the moment): a lifetime from its last change, or later while any lease is younger, since a
    // live holder that cannot read its lock either keeps renewing its lease (see whyLost).
    Instant expires = Instant.ofEpochMilli(modified).plus(ttl);
    if (Instant.now().isBefore(expires)) return expires; // refused on its age alone: no need to read leases
    for (FileStatus lease : fs.listStatus(path.getParent(),
        p -> p.getName().startsWith(path.getName() + ".") && p.getName().endsWith(".lease"))) {
      JsonNode body = read(fs, lease.getPath());
      Instant until = body != null ? instant(body.path("expires_at").asText(null))
          : Instant.ofEpochMilli(lease.getModificationTime()).plus(ttl);
      if (until.isAfter(expires)) expires = until;
    }
    return expires;
  }

  private static Instant instant(String text) {
    try {
      return text == null ? Instant.EPOCH : Instant.parse(text);
    } catch (java.time.format.DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }

  private static long modificationTime(FileSystem fs, Path path) throws IOException {
    try {
      return fs.getFileStatus(path).getModificationTime();
    } catch (java.io.FileNotFoundException e) {
      return -1;
    }
  }

  static Path marker(Path lock, String lockId, String kind) {
    return new Path(lock.getParent(), lock.getName() + "." + lockId + "." + kind);
  }

  private static byte[] body(String runId, String lockId, Duration ttl) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run_id", runId);
    body.put("lock_id", lockId);
    body.put("host", hostName());
    body.put("process", ManagementFactory.getRuntimeMXBean().getName());
    body.put("started_at", Instant.now().toString());
    body.put("expires_at", Instant.now().plus(ttl).toString());
    return JSON.writeValueAsBytes(body);
  }

  /**
   * Creates {@code path} holding {@code bytes} only if it does not exist, in one atomic step;
   * false if it exists.
   */
  static boolean createExclusive(FileSystem fs, Path path, byte[] bytes) throws IOException {
    if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
      java.nio.file.Path local = java.nio.file.Path.of(fs.makeQualified(path).toUri());
      try {
        Files.write(local, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return true;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        return false;
      }
    }
    try (OutputStream out = fs.create(path, false)) {
      out.write(bytes);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (org.apache.hadoop.ipc.RemoteException e) {
      // HDFS: it exists, or another client of this process is creating it right now.
      String kind = e.getClassName();
      if (kind.endsWith(".FileAlreadyExistsException") || kind.endsWith(".AlreadyBeingCreatedException")) return false;
      throw e;
    } catch (IOException e) {
      if (e.getClass().getName().endsWith(".AlreadyBeingCreatedException")) return false;
      throw e;
    }
  }

  /** How often the holder reads its lock back before it takes a changed, unreadable file for a lost lock. */
  static final int READ_BACK_TRIES = 10;

  /** The wait before the second read back; it doubles up to {@link #READ_BACK_MAX_WAIT_MS} (18.5 s over all tries). */
  static final long READ_BACK_FIRST_WAIT_MS = 500;

  static final long READ_BACK_MAX_WAIT_MS = 2500;

  /**
   * Why this run no longer holds the lock, or null while it does: its holder reads {@code _lock}
   * back (after taking it, at each renewal and check, before releasing it). A file that names this
   * run's lock id is held; one that names another, or is gone, is lost.
   *
   * <p>A file that exists but cannot be read is judged by its status: while it is still the very
   * file this run's exclusive create left (the same HDFS inode, modification time and length: the
   * lock file is never appended to or rewritten, and a takeover deletes it and creates a new one, a
   * lifetime later at the earliest) and that lifetime has not passed since, the lock is held; the
   * holder keeps renewing its lease, which contenders honour while the lock cannot be read ({@link
   * #expiry}). On HDFS a DataNode can answer "replica not found", or the NameNode give no location,
   * for a block closed a moment ago, and the lock's client gives up on a missing block quickly (see
   * {@link #lockConf}); four times (HdfsIT 2026-11-30 and 2026-12-01, CI the same day, after reads
   * retried for 18 s) the one contender that had taken the lock took that for a lost lock, and a
   * round of three ended with no holder. Any other unreadable file is read again, half a second
   * later and then at doubling waits of up to 2.5 s, {@value #READ_BACK_TRIES} times (about 18 s),
   * before the lock counts as lost. A contender reading another's lock stays quick: an unreadable
   * lock is judged by its age and its leases.
   */
  private String whyLost() throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        JsonNode holder = parse(fs, path);
        return lockId.equals(holder.path("lock_id").asText()) ? null : "run " + holder.path("run_id").asText("?") + " took it over";
      } catch (java.io.FileNotFoundException e) {
        return "the lock file is gone";
      } catch (IOException e) {
        if (stillTheFileWritten()) {
          LOG.info("Reading the lock {} back failed ({}); it is the file this run wrote", RunSummary.redact(path.toString()), e.toString());
          return null;
        }
        if (attempt >= READ_BACK_TRIES) return "the lock file cannot be read: " + e.getMessage();
        LOG.info("Reading the lock {} back failed ({}); trying again", RunSummary.redact(path.toString()), e.toString());
        Thread.sleep(Math.min(READ_BACK_FIRST_WAIT_MS << Math.min(attempt - 1, 10), READ_BACK_MAX_WAIT_MS));
      }
    }
  }

  /**
   * Whether {@code _lock} is still the file this run's create left (its HDFS inode where there is
   * one, its modification time and length), within a lifetime of that create.
   */
  private boolean stillTheFileWritten() {
    FileStatus now = statusOrNull(fs, path);
    return written != null && now != null
        && fileId(now) == fileId(written)
        && now.getModificationTime() == written.getModificationTime() && now.getLen() == written.getLen()
        && Instant.now().isBefore(Instant.ofEpochMilli(written.getModificationTime()).plus(ttl));
  }

  /** The HDFS inode id of a file (never reused by the NameNode), or -1 elsewhere. */
  private static long fileId(FileStatus status) {
    return status instanceof HdfsFileStatus hdfs ? hdfs.getFileId() : -1;
  }

  private static FileStatus statusOrNull(FileSystem fs, Path path) {
    try {
      return fs.getFileStatus(path);
    } catch (IOException e) {
      return null;
    }
  }

  private static JsonNode read(FileSystem fs, Path path) {
    try {
      return parse(fs, path);
    } catch (IOException e) {
      return null; // missing, unreadable or half-written
    }
  }

  /** The lock file's JSON object; FileNotFoundException where it is gone, IOException where unreadable or not one. */
  private static JsonNode parse(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      JsonNode node = JSON.readTree(in);
      if (node == null || node.isMissingNode() || !node.isObject()) throw new IOException(path + " does not hold a JSON object");
      return node;
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Throws {@link Failure#LOCK_HELD} if this run no longer holds the lock (taken over, deleted). */
  public void verify() {
    if (lost == null) {
      String why;
      try {
        why = whyLost();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PosterGenresException(Failure.LOCK_HELD, "run " + runId + " was interrupted while checking its lock "
            + RunSummary.redact(path.toString()) + "; stopping before it changes the output");
      }
      if (why != null) lost = why; // never clears a loss the renewer found meanwhile
    }
    if (lost != null) {
      throw new PosterGenresException(Failure.LOCK_HELD, "run " + runId + " lost the lock " + RunSummary.redact(path.toString())
          + " (" + lost + "); stopping before it changes the output");
    }
  }

  /** Whether the lock was found lost (by a renewal or {@link #verify}). */
  public boolean lost() {
    return lost != null;
  }

  private void renewLease() throws IOException {
    Path lease = marker(path, lockId, "lease");
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run_id", runId);
    body.put("lock_id", lockId);
    body.put("expires_at", Instant.now().plus(ttl).toString());
    try (OutputStream out = fs.create(lease, true)) {
      out.write(JSON.writeValueAsBytes(body));
    }
  }

  private void renew() {
    if (lost != null || closed) return;
    try {
      String why = whyLost();
      if (closed) return; // close() stopped the renewer meanwhile: not a lost lock, and no lease after it
      if (why != null) {
        lost = why;
        LOG.error("Run {} lost the lock {}: {}", runId, RunSummary.redact(path.toString()), lost);
        return;
      }
      renewLease(); // only this run's own lease file: never the lock another run may hold
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // close() stops the renewer: not a lost lock
    } catch (IOException | RuntimeException e) {
      // A failed renewal is tried again at the next one; an exception here would end them all.
      LOG.warn("Could not renew lock {}: {}", RunSummary.redact(path.toString()), e.toString());
    }
  }

  private void removeOldMarkers() {
    try {
      long before = System.currentTimeMillis() - MARKER_LIFETIMES * ttl.toMillis();
      Path ownLease = marker(path, lockId, "lease");
      for (FileStatus st : fs.listStatus(path.getParent(), p -> p.getName().startsWith(path.getName() + ".")
          && (p.getName().endsWith(".takeover") || p.getName().endsWith(".lease")) && !p.getName().equals(ownLease.getName()))) {
        if (st.getModificationTime() < before) fs.delete(st.getPath(), false);
      }
    } catch (IOException e) {
      LOG.debug("Could not tidy takeover markers: {}", e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    renewer.shutdownNow();
    // The release must reach the file system even on an interrupted thread (a cancelled job):
    // Hadoop's client fails at once while the interrupt flag is set, which would leave _lock
    // blocking the next runs for a lifetime. The flag is set again afterwards.
    boolean interrupted = Thread.interrupted();
    try {
      renewer.awaitTermination(10, TimeUnit.SECONDS); // a renewal under way finishes before the client closes
    } catch (InterruptedException e) {
      interrupted = true;
    }
    try {
      if (whyLost() == null) fs.delete(path, false);
    } catch (IOException | InterruptedException e) {
      if (e instanceof InterruptedException) interrupted = true;
      LOG.warn("Could not release lock {}: {}", RunSummary.redact(path.toString()), e.toString());
    }
    try {
      fs.delete(marker(path, lockId, "lease"), false);
    } catch (IOException e) {
      LOG.warn("Could not remove the lease of lock {}: {}", RunSummary.redact(path.toString()), e.toString());
    } finally {
      closeQuietly(fs);
      if (interrupted) Thread.currentThread().interrupt();
    }
  }
}
