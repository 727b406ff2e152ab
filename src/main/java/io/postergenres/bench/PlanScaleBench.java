package io.postergenres.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.postergenres.job.OutputSchema;
import io.postergenres.job.incremental.IncrementalJob;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Measures what deciding "what is new" costs as the catalogue grows: a synthetic ledger of N known
 * posters (written as Parquet, as a real one is) joined with a synthetic listing of the same
 * catalogue a day later (1% changed, 1% new, 0.5% deleted), through the job's own {@link
 * IncrementalJob#plan}. Prints one line per size with seconds and the driver's heap in use.
 *
 * <p>Run by {@code PlanScaleBenchTest} on a small catalogue; {@code -Dbench.plan-scale.sizes=100000,1000000}
 * measures the sizes the README quotes (on the test's local[2] session).
 */
public final class PlanScaleBench {
  private PlanScaleBench() {}

  /** Measures each catalogue size in {@code sizes}, writing under {@code dir}, one CSV line each to {@code out}. */
  public static void run(SparkSession spark, long[] sizes, Path dir, PrintStream out) {
    IncrementalJob.Settings settings = new IncrementalJob.Settings(LocalDate.now(), 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5));
    out.println("known_posters,write_ledger_s,plan_s,decisions,driver_heap_used_mb");
    for (long n : sizes) {
      long t0 = System.nanoTime();
      Dataset<Row> ids = spark.range(n).toDF("id");
      String ledgerPath = dir.resolve("ledger-" + n).toString();
      ids.select(
              format_string("s3a://catalogue/posters/%04d/%08d.jpg", col("id").mod(40).plus(1980), col("id")).as(OutputSchema.PATH),
              lit(Timestamp.valueOf("2026-11-01 00:00:00")).as(OutputSchema.MODIFICATION_TIME),
              col("id").mod(70_000).plus(3_000).as(OutputSchema.LENGTH),
              lit("postercnn").as(OutputSchema.MODEL_NAME), lit("1.0.0").as(OutputSchema.MODEL_VERSION),
              when(col("id").mod(500).equalTo(0), lit("corrupt")).as(OutputSchema.ERROR_KIND),
              lit(1).as(OutputSchema.ATTEMPTS))
          .write().mode(SaveMode.Overwrite).parquet(ledgerPath);
      double writeSeconds = (System.nanoTime() - t0) / 1e9;

      long t1 = System.nanoTime();
      Dataset<Row> ledger = spark.read().parquet(ledgerPath);
      // The next day's listing: 0.5% deleted, 1% changed (new length), 1% new paths.
      Dataset<Row> listing = ids.where(col("id").mod(200).notEqual(7))
          .select(format_string("s3a://catalogue/posters/%04d/%08d.jpg", col("id").mod(40).plus(1980), col("id")).as("path"),
              lit(Timestamp.valueOf("2026-11-01 00:00:00")).as("modificationTime"),
              when(col("id").mod(100).equalTo(3), lit(1L)).otherwise(col("id").mod(70_000).plus(3_000)).as("length"))
          .unionByName(spark.range(n / 100).select(
              concat(lit("s3a://catalogue/posters/new/"), col("id").cast("string"), lit(".jpg")).as("path"),
              lit(Timestamp.valueOf("2026-11-02 00:00:00")).as("modificationTime"), lit(5_000L).as("length")));
      StringBuilder decisions = new StringBuilder();
      for (Row r : IncrementalJob.plan(listing, ledger, "postercnn", "1.0.0", settings).groupBy("decision").count()
          .orderBy("decision").collectAsList()) {
        decisions.append(r.getString(0)).append('=').append(r.getLong(1)).append(' ');
      }
      double planSeconds = (System.nanoTime() - t1) / 1e9;
      Runtime rt = Runtime.getRuntime();
      out.printf(Locale.ROOT, "%d,%.1f,%.1f,%s,%d%n", n, writeSeconds, planSeconds, decisions.toString().trim(),
          (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024));
    }
  }
}
