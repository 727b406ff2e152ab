package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.job.incremental.RunLock;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/nightly.sh as a scheduler runs it: a run killed with SIGKILL part way leaves the previous
 * day readable, the lock it left expires, and the next run completes the day.
 */
class NightlyScriptIT {
  @TempDir Path tmp;

  Process nightly(Path posters, Path labels, Path model, String date, String extra) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("scripts/nightly.sh").redirectErrorStream(true)
        .redirectOutput(tmp.resolve("nightly-" + date + "-" + System.nanoTime() + ".log").toFile());
    pb.environment().put("POSTERS", posters.toString());
    pb.environment().put("LABELS", labels.toString());
    pb.environment().put("MODEL", model.toString());
    pb.environment().put("RUN_DATE", date);
    pb.environment().put("EXTRA_ARGS", "--master local[2] --lock-ttl-seconds 6 --batch-size 4 " + extra);
    pb.environment().put("POSTER_GENRES_MEMORY", "1g");
    return pb.start();
  }

  @Test
  void killedRunLeavesThePreviousStateAndTheNextRunCompletesIt() throws Exception {
    Path model = TestModels.write(tmp.resolve("model"), 64, 48, 3);
    Path posters = tmp.resolve("posters");
    Files.createDirectories(posters);
    for (int i = 0; i < 20; i++) {
      Files.write(posters.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(300, 444, new Color(10 * i, 100, 200)), false));
    }
    Path labels = tmp.resolve("labels");
    Process day1 = nightly(posters, labels, model, "2026-11-01", "");
    assertTrue(day1.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, day1.exitValue());

    // Day 2 has 400 new posters; kill it once it is labelling (its staging directory exists).
    for (int i = 0; i < 400; i++) {
      Files.write(posters.resolve("n" + i + ".jpg"), TestImages.jpeg(TestImages.solid(300, 444, new Color(i % 256, 50, 90)), false));
    }
    Process day2 = nightly(posters, labels, model, "2026-11-02", "--partitions 40");
    Path staging = labels.resolve("_staging");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!(Files.isDirectory(staging) && Files.list(staging).findAny().isPresent()) && System.nanoTime() < deadline && day2.isAlive()) {
      Thread.sleep(50);
    }
    assertTrue(day2.isAlive(), "run finished before it could be killed; the test needs a slower run");
    day2.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    day2.destroyForcibly();
    day2.waitFor();
    assertTrue(Files.exists(labels.resolve("_lock")), "a killed run leaves its lock behind");

    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      assertEquals(20, spark.read().parquet(labels.resolve("current").toString()).count(), "previous state readable");
      assertFalse(Files.exists(labels.resolve("labels/run_date=2026-11-02")), "no partial partition visible");

      // The dead run's lock expires (6 s after its last renewal); this test then takes it over itself,
      // with a long lifetime, so that the next run is refused for certain rather than by a race.
      RunLock held = null;
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (held == null) {
        try {
          held = RunLock.acquire(labels.toString(), "test-holder", Duration.ofMinutes(10), new Configuration());
        } catch (PosterGenresException e) {
          assertEquals(Failure.LOCK_HELD, e.failure(), e.getMessage());
          assertTrue(System.nanoTime() < until, "the killed run's lock never expired: " + e.getMessage());
          Thread.sleep(250);
        }
      }
      try {
        Process refused = nightly(posters, labels, model, "2026-11-02", "");
        assertTrue(refused.waitFor(3, TimeUnit.MINUTES));
        assertEquals(6, refused.exitValue(), "a run while another holds the lock is refused with exit 6");
        assertFalse(Files.exists(labels.resolve("labels/run_date=2026-11-02")), "the refused run wrote nothing");
      } finally {
        held.close();
      }
      Process again = nightly(posters, labels, model, "2026-11-02", "");
      assertTrue(again.waitFor(5, TimeUnit.MINUTES));
      assertEquals(0, again.exitValue());
      assertEquals(420, spark.read().parquet(labels.resolve("current").toString()).count());
      assertEquals(420, spark.read().parquet(labels.resolve("labels").toString()).count(), "no duplicates");
    } finally {
      spark.stop();
    }
  }
}
