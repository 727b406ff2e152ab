package io.postergenres.bench;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import io.postergenres.job.OutputSchema;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;

/**
 * Decides between a materialised "current labels" table and a query over the date partitions by
 * measuring both: N posters labelled on day 1 and 1% new or changed on each of the next 29 days.
 * Prints the cost a run pays to rebuild the table and what a reader's query costs each way.
 *
 * <p>Run by {@code CurrentTableBenchTest} on a small catalogue; {@code -Dbench.current-table.posters=1000000}
 * measures the size the README quotes (on the test's local[2] session).
 */
public final class CurrentTableBench {
  private CurrentTableBench() {}

  /** Measures a catalogue of {@code n} posters, writing under {@code dir} and the figures to {@code out}. */
  public static void run(SparkSession spark, long n, Path dir, PrintStream out) {
    String labels = dir.resolve("labels").toString();
    String[] genres = {"Drama", "Comedy", "Action", "Romance", "Crime", "Thriller", "Horror", "Family"};
    for (int day = 1; day <= 30; day++) {
      long rows = day == 1 ? n : n / 100;
      long offset = day == 1 ? 0 : (day % 2 == 0 ? n + day * n / 100 : (day * 7919L) % n); // new or changed paths
      spark.range(offset, offset + rows).select(
              format_string("s3a://catalogue/posters/%08d.jpg", col("id")).as(OutputSchema.PATH),
              array(element_at(lit(genres), col("id").mod(8).plus(1).cast("int")),
                  element_at(lit(genres), col("id").plus(3).mod(8).plus(1).cast("int"))).as(OutputSchema.GENRES),
              lit(Timestamp.valueOf(String.format(Locale.ROOT, "2026-11-%02d 02:00:00", Math.min(day, 28)))).as(OutputSchema.LABELLED_AT),
              lit(String.format(Locale.ROOT, "2026-%02d-%02d", 10 + (day > 28 ? 1 : 0), day > 28 ? day - 28 : day)).as("run_date"))
          .write().mode(SaveMode.Append).partitionBy("run_date").parquet(labels);
    }
    Dataset<Row> all = spark.read().parquet(labels);
    Dataset<Row> latest = all.withColumn("_r", row_number().over(Window.partitionBy(OutputSchema.PATH)
        .orderBy(col("run_date").desc(), col(OutputSchema.LABELLED_AT).desc()))).where(col("_r").equalTo(1)).drop("_r");

    long t0 = System.nanoTime();
    String current = dir.resolve("current").toString();
    latest.write().mode(SaveMode.Overwrite).parquet(current);
    double rebuild = (System.nanoTime() - t0) / 1e9;

    double viaTable = time(() -> spark.read().parquet(current).select(explode(col(OutputSchema.GENRES)).as("g")).groupBy("g").count().collectAsList());
    double viaPartitions = time(() -> latest.select(explode(col(OutputSchema.GENRES)).as("g")).groupBy("g").count().collectAsList());
    double lookupTable = time(() -> spark.read().parquet(current).where(col(OutputSchema.PATH).equalTo("s3a://catalogue/posters/00004242.jpg")).collectAsList());
    double lookupPartitions = time(() -> latest.where(col(OutputSchema.PATH).equalTo("s3a://catalogue/posters/00004242.jpg")).collectAsList());
    out.printf(Locale.ROOT, "posters=%d rows_in_partitions=%d rebuild_current_s=%.1f%n", n, all.count(), rebuild);
    out.printf(Locale.ROOT, "genre counts: current table %.2f s, query over partitions %.2f s%n", viaTable, viaPartitions);
    out.printf(Locale.ROOT, "one poster's labels: current table %.2f s, query over partitions %.2f s%n", lookupTable, lookupPartitions);
  }

  /** Seconds of a second run of {@code r} (the first warms up). */
  static double time(Runnable r) {
    r.run(); // warm
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}
