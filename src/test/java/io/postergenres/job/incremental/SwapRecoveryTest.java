package io.postergenres.job.incremental;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue #13 item 12: a run that died between a swap's two renames loses nothing. */
class SwapRecoveryTest {
  @Test
  void theCopyMovedAsideIsPutBackBeforeStagingIsCleaned(@TempDir Path out) throws Exception {
    // A run died after moving current/ and the 2026-11-26 partition aside, before moving the new ones in.
    Path dead = Files.createDirectories(out.resolve("_staging/20261126T010000Z-dead"));
    Files.createDirectories(dead.resolve("replaced-current"));
    Files.writeString(dead.resolve("replaced-current/part-0.parquet"), "old current");
    Files.createDirectories(dead.resolve("replaced-run_date=2026-11-26"));
    Files.writeString(dead.resolve("replaced-run_date=2026-11-26/part-0.parquet"), "old partition");
    Files.createDirectories(dead.resolve("run_date=2026-11-26")); // its half-made new partition
    // A partition that was swapped completely: the copy aside is stale and must not come back.
    Files.createDirectories(out.resolve("labels/run_date=2026-11-25"));
    Files.writeString(out.resolve("labels/run_date=2026-11-25/part-0.parquet"), "new");
    Files.createDirectories(dead.resolve("replaced-run_date=2026-11-25"));
    Files.writeString(dead.resolve("replaced-run_date=2026-11-25/part-0.parquet"), "stale");

    ParquetNightlyTable.cleanStaging(out.toString(), new Configuration());

    assertEquals("old current", Files.readString(out.resolve("current/part-0.parquet")));
    assertEquals("old partition", Files.readString(out.resolve("labels/run_date=2026-11-26/part-0.parquet")));
    assertEquals("new", Files.readString(out.resolve("labels/run_date=2026-11-25/part-0.parquet")));
    assertFalse(Files.exists(dead), "the dead run's staging is gone");
  }
}
