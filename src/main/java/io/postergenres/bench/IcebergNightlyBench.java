package io.postergenres.bench;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.when;

import io.postergenres.job.OutputSchema;
import io.postergenres.job.iceberg.IcebergCatalog;
import io.postergenres.job.iceberg.IcebergNightlyTable;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.job.incremental.RunLock;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;

/**
 * What the nightly run's bookkeeping costs on Iceberg tables: N known posters labelled on day 1,
 * then day 2's listing with 1% changed and 1% new posters (0.5% deleted), decided by the job's
 * {@link IncrementalJob#plan} over the Iceberg table and published by {@link
 * IcebergNightlyTable#publish} (one {@code MERGE INTO labels}, one commit); the labels of day 2 are
 * synthetic (no model runs). Then a reader's genre count and one-poster lookup on the current rows
 * ({@code WHERE replaced_on IS NULL}).
 *
 * <p>Run by {@code NightlyBenchmarksTest} on a small catalogue; {@code -Dbench.iceberg.posters=1000000}
 * measures the size docs/nightly.md quotes (on the test's local[2] session).
 */
public final class IcebergNightlyBench {
  private IcebergNightlyBench() {}

  private static final String[] GENRES = {"Drama", "Comedy", "Action", "Romance", "Crime", "Thriller", "Horror", "Family"};

  public static void run(SparkSession spark, long n, Path dir, PrintStream out) {
    String output = dir.resolve("iceberg-" + n).toString();
    IcebergCatalog catalog = new IcebergCatalog(null, output, "poster_genres");
    IncrementalJob.Settings settings = new IncrementalJob.Settings(LocalDate.of(2026, 11, 2), 3, IncrementalJob.NewModelScope.ALL,
        Duration.ofMinutes(5));
    Dataset<Row> ids = spark.range(n).toDF("id");
    Timestamp day1 = Timestamp.valueOf("2026-11-01 02:00:00");

    // Day 1, written straight into the table (setup, not measured).
    long t0 = System.nanoTime();
    IcebergNightlyTable table = new IcebergNightlyTable(spark, catalog);
    table.recover();
    Dataset<Row> known = rows(ids, path(col("id")), lit(day1), col("id").mod(70_000).plus(3_000), "day1");
    try {
      known.withColumn("run_date", lit("2026-11-01").cast("date")).withColumn(IcebergNightlyTable.REPLACED_ON, lit(null).cast("date"))
          .writeTo(catalog.table(IcebergNightlyTable.LABELS)).append();
    } catch (NoSuchTableException e) {
      throw new IllegalStateException(e);
    }
    double setup = (System.nanoTime() - t0) / 1e9;

    // Day 2: 0.5% deleted, 1% changed (new length), 1% new.
    Dataset<Row> listing = ids.where(col("id").mod(200).notEqual(7))
        .select(path(col("id")).as("path"), lit(day1).as("modificationTime"),
            when(col("id").mod(100).equalTo(3), lit(1L)).otherwise(col("id").mod(70_000).plus(3_000)).as("length"))
        .unionByName(spark.range(n, n + n / 100).select(path(col("id")).as("path"),
            lit(Timestamp.valueOf("2026-11-02 00:00:00")).as("modificationTime"), lit(5_000L).as("length")))
        .persist();
    listing.count();

    long t1 = System.nanoTime();
    IcebergNightlyTable day2 = new IcebergNightlyTable(spark, catalog);
    day2.recover();
    Dataset<Row> plan = IncrementalJob.plan(listing, day2.ledgerBefore("2026-11-02"), "postercnn", "1.0.0", settings).persist();
    long todo = plan.where(col("decision").isin("new", "changed")).count();
    double planSeconds = (System.nanoTime() - t1) / 1e9;

    Dataset<Row> labelled = rows(plan.where(col("decision").isin("new", "changed")).withColumn("id", lit(0L)),
        col("path"), col("modificationTime"), col("length"), "day2");
    long t2 = System.nanoTime();
    Dataset<Row> staged = day2.stage("day2", "2026-11-02", labelled);
    staged.count();
    try (RunLock lock = RunLock.acquire(output, "bench-day2", Duration.ofMinutes(5), spark.sparkContext().hadoopConfiguration())) {
      day2.publish("day2", "2026-11-02", staged, listing, lock, Map.of("poster-genres.run-id", "day2"));
    }
    double commitSeconds = (System.nanoTime() - t2) / 1e9;
    plan.unpersist();
    listing.unpersist();

    String labels = catalog.table(IcebergNightlyTable.LABELS);
    long rows = current(spark, labels).count();
    double genres = CurrentTableBench.time(() -> current(spark, labels).select(explode(col(OutputSchema.GENRES)).as("g")).groupBy("g").count().collectAsList());
    double lookup = CurrentTableBench.time(() -> current(spark, labels).where(col(OutputSchema.PATH).equalTo(path(lit(4242L)))).collectAsList());
    out.printf(Locale.ROOT, "posters=%d day1_write_s=%.1f new_or_changed=%d current_rows=%d%n", n, setup, todo, rows);
    out.printf(Locale.ROOT, "plan (ledger from the Iceberg table + decisions): %.1f s; commit (one MERGE INTO labels): %.1f s%n",
        planSeconds, commitSeconds);
    out.printf(Locale.ROOT, "reader on current rows: genre counts %.2f s, one poster's labels %.2f s%n", genres, lookup);
  }

  private static Dataset<Row> current(SparkSession spark, String labels) {
    return spark.table(labels).where(col(IcebergNightlyTable.REPLACED_ON).isNull());
  }

  private static Column path(Column id) {
    return format_string("s3a://catalogue/posters/%08d.jpg", id);
  }

  /** Labelled rows in the output schema, labels made up from the id. */
  private static Dataset<Row> rows(Dataset<Row> from, Column path, Column modified, Column length, String runId) {
    Column id = col("id");
    return from.select(
        path.as(OutputSchema.PATH),
        modified.as(OutputSchema.MODIFICATION_TIME),
        length.cast("long").as(OutputSchema.LENGTH),
        sha2(path.cast("binary"), 256).as(OutputSchema.SHA256),
        array(element_at(lit(GENRES), id.mod(8).plus(1).cast("int")), element_at(lit(GENRES), id.plus(3).mod(8).plus(1).cast("int")))
            .as(OutputSchema.GENRES),
        map(lit("Drama"), lit(0.7f), lit("Comedy"), lit(0.2f)).as(OutputSchema.SCORES),
        lit("postercnn").as(OutputSchema.MODEL_NAME), lit("1.0.0").as(OutputSchema.MODEL_VERSION),
        lit(runId).as(OutputSchema.RUN_ID), lit(Timestamp.valueOf("2026-11-02 02:00:00")).as(OutputSchema.LABELLED_AT),
        lit(null).cast("string").as(OutputSchema.ERROR_KIND), lit(null).cast("string").as(OutputSchema.ERROR),
        lit(1).as(OutputSchema.ATTEMPTS), lit(null).cast("string").as(OutputSchema.REUSED_FROM));
  }
}
