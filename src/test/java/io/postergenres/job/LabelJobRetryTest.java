package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.it.FlakyLocalFileSystem;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run's counts come from the labeller as it writes (RowCounts), not from reading the output:
 * a task that fails and is retried must still be counted once. In local[2,2] (two tries per task)
 * the first task to read three posters fails after its first batch, whose rows the labeller had
 * counted: a test-only file system ({@link FlakyLocalFileSystem#FAIL_THIRD_READ}) fails that read.
 */
class LabelJobRetryTest {
  @TempDir Path tmp;

  @Test
  void aRetriedTaskIsCountedOnce() throws Exception {
    Path model = TestModels.write(tmp.resolve("model"), 32, 24, 7);
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("posters"), 12);
    Path out = tmp.resolve("labels");
    SparkSession spark = SparkSession.builder().master("local[2,2]").appName("poster-genres-retry-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.hadoop.fs.file.impl", FlakyLocalFileSystem.class.getName())
        .config("spark.hadoop.fs.file.impl.disable.cache", "true")
        .config("spark.hadoop." + FlakyLocalFileSystem.FAIL_THIRD_READ, "true").getOrCreate();
    int faultsBefore = FlakyLocalFileSystem.faultsThrown();
    try {
      RunSummary summary = new LabelJob(spark).run(new LabelRequest(List.of(fx.root.toString()), out.toString(), model.toString(),
          "*.{jpg,jpeg,png,gif,bmp}", WriteMode.ERROR, 3, 1.0, Map.of(), null, null,
          new LabelOptions(2, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0))));
      Map<String, Long> written = new HashMap<>();
      for (Row r : spark.read().parquet(out.toString()).groupBy(col(OutputSchema.ERROR_KIND)).count().collectAsList()) {
        written.put(r.isNullAt(0) ? "" : r.getString(0), r.getLong(1));
      }
      assertEquals(faultsBefore + 1, FlakyLocalFileSystem.faultsThrown(), "one task attempt failed on its third read");
      long rows = written.values().stream().mapToLong(Long::longValue).sum();
      assertEquals(fx.expected.size(), rows, "one row per listed file despite the retry");
      assertEquals(rows, summary.rowsWritten(), "counted once: " + summary.toText());
      assertEquals(written.getOrDefault("", 0L), summary.labelled());
      written.remove("");
      assertEquals(written, summary.failedByKind());
      assertTrue(summary.labelled() > 2, "partition 0 had labelled posters to count twice: " + summary.labelled());
    } finally {
      spark.stop();
      ModelCache.closeAll();
    }
  }
}
