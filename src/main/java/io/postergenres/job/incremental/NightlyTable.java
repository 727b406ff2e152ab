package io.postergenres.job.incremental;

import java.io.IOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Where a nightly run keeps its history (one row per labelling, by run date) and its current labels
 * (one row per existing poster). {@link IncrementalJob} decides and labels; a table stores. The
 * Parquet directory layout ({@link ParquetNightlyTable}) and an Iceberg table (package
 * {@code io.postergenres.job.iceberg}) are the two kinds. Every method runs on the driver while the
 * run holds its lock.
 */
public interface NightlyTable {
  /** Opens the table of a run's output (nothing is created before {@link #recover}). */
  interface Factory {
    NightlyTable open(SparkSession spark, String output, Configuration hadoop);
  }

  /** Puts right what a run that died left behind (the lock says no other run works now). */
  void recover() throws IOException;

  /** The latest row per path among the runs of dates before {@code date} (OutputSchema columns). */
  Dataset<Row> ledgerBefore(String date) throws IOException;

  /** Whether {@code date} was run before (this run then replaces that date's rows). */
  boolean hasDate(String date) throws IOException;

  /**
   * Computes the run's rows ({@code rows} labels posters as it is evaluated) once, where this table
   * keeps work in progress, and returns them for counting before anything is published.
   */
  Dataset<Row> stage(String runId, String date, Dataset<Row> rows) throws IOException;

  /**
   * Whether {@link #stage} computed the rows in one write, as that write's last stage: a {@code
   * RowCounts} the labeller filled then equals the staged rows (Spark applies a result task's
   * accumulator updates once, from the attempt that committed), and the job need not count them
   * again. False for a table that stages lazily (cached), where the first count is what labels.
   */
  boolean stagesInOneWrite();

  /**
   * Publishes the staged rows as {@code date}'s history (replacing what that date had) and makes the
   * current labels one row per path of {@code listing}. {@code properties} describe the run (run id,
   * model, counts) for tables that record them.
   *
   * @return this run's rows as published, for the run report
   */
  Dataset<Row> publish(String runId, String date, Dataset<Row> staged, Dataset<Row> listing, RunLock lock,
      Map<String, String> properties) throws IOException;
}
