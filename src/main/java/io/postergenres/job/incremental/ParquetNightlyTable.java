package io.postergenres.job.incremental;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.job.OutputSchema;
import io.postergenres.job.RunSummary;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nightly table as a Parquet directory layout written by hand:
 *
 * <ul>
 *   <li>{@code labels/run_date=YYYY-MM-DD/}: the rows each run wrote (labelled, reused, failed);
 *       unchanged posters are not repeated. Re-running a date replaces that partition only.
 *   <li>{@code current/}: one row per poster that still exists, with its latest labels.
 *   <li>{@code _staging/<run>/}: work in progress, never read.
 * </ul>
 *
 * Partitions and the current table are written to {@code _staging} and moved into place only when
 * complete, so a run that dies leaves the previous state readable.
 */
final class ParquetNightlyTable implements NightlyTable {
  private static final Logger LOG = LoggerFactory.getLogger(ParquetNightlyTable.class);

  private final SparkSession spark;
  private final String out;
  private final Configuration hadoop;

  ParquetNightlyTable(SparkSession spark, String out, Configuration hadoop) {
    this.spark = spark;
    this.out = out;
    this.hadoop = hadoop;
  }

  @Override
  public void recover() throws IOException {
    cleanStaging(out, hadoop);
  }

  /** The latest row per path over the partitions before {@code date}; empty when there are none. */
  @Override
  public Dataset<Row> ledgerBefore(String date) throws IOException {
    Path labels = new Path(out, IncrementalJob.LABELS);
    FileSystem fs = labels.getFileSystem(hadoop);
    if (!fs.exists(labels) || fs.listStatus(labels, p -> p.getName().startsWith(IncrementalJob.RUN_DATE + "=")).length == 0) {
      return spark.createDataFrame(List.of(), OutputSchema.SCHEMA);
    }
    return IncrementalJob.latest(allRows().where(col(IncrementalJob.RUN_DATE).lt(lit(date)))).drop(IncrementalJob.RUN_DATE);
  }

  @Override
  public boolean hasDate(String date) throws IOException {
    Path partition = partition(date);
    return partition.getFileSystem(hadoop).exists(partition);
  }

  @Override
  public Dataset<Row> stage(String runId, String date, Dataset<Row> rows) {
    String staged = stagedPartition(runId, date).toString();
    rows.write().mode(SaveMode.ErrorIfExists).parquet(staged);
    return spark.read().parquet(staged);
  }

  /** The staged partition is written by one Parquet write, in whose last stage the labeller runs. */
  @Override
  public boolean stagesInOneWrite() {
    return true;
  }

  /** The partition, then the current table, each moved into place whole. */
  @Override
  public Dataset<Row> publish(String runId, String date, Dataset<Row> staged, Dataset<Row> listing, RunLock lock,
      Map<String, String> properties) throws IOException {
    Path staging = staging(runId);
    Path partition = partition(date);
    lock.verify(); // a run that lost its lock publishes nothing
    swapInto(stagedPartition(runId, date), partition,
        new Path(staging, IncrementalJob.REPLACED + IncrementalJob.RUN_DATE + "=" + date), hadoop);
    Path stagedCurrent = new Path(staging, IncrementalJob.CURRENT);
    IncrementalJob.latest(allRows())
        .join(listing.select(col("path").as("_p")), col(OutputSchema.PATH).equalTo(col("_p")), "left_semi")
        .write().mode(SaveMode.ErrorIfExists).parquet(stagedCurrent.toString());
    lock.verify();
    swapInto(stagedCurrent, new Path(out, IncrementalJob.CURRENT), new Path(staging, IncrementalJob.REPLACED + IncrementalJob.CURRENT), hadoop);
    staging.getFileSystem(hadoop).delete(staging, true);
    return spark.read().parquet(partition.toString()).where(col(OutputSchema.RUN_ID).equalTo(lit(runId)));
  }

  private Dataset<Row> allRows() {
    String labels = new Path(out, IncrementalJob.LABELS).toString();
    return spark.read().option("basePath", labels).parquet(labels)
        .withColumn(IncrementalJob.RUN_DATE, col(IncrementalJob.RUN_DATE).cast("string"));
  }

  private Path partition(String date) {
    return new Path(new Path(out, IncrementalJob.LABELS), IncrementalJob.RUN_DATE + "=" + date);
  }

  private Path staging(String runId) {
    return new Path(new Path(out, IncrementalJob.STAGING), runId);
  }

  private Path stagedPartition(String runId, String date) {
    return new Path(staging(runId), IncrementalJob.RUN_DATE + "=" + date);
  }

  /**
   * Moves {@code staged} to {@code target}, first moving an existing target aside to {@code
   * aside}: readers see the old or the new directory, each complete (renames are atomic on HDFS
   * and local disks; on S3 a rename is a copy, see the README).
   */
  private static void swapInto(Path staged, Path target, Path aside, Configuration conf) throws IOException {
    FileSystem fs = target.getFileSystem(conf);
    fs.mkdirs(target.getParent());
    if (fs.exists(target) && !fs.rename(target, aside)) throw new IOException("cannot move " + target + " aside");
    if (!fs.rename(staged, target)) throw new IOException("cannot move " + staged + " to " + target);
  }

  /**
   * Removes what runs that died left in _staging (the lock says no one else is running). A run that
   * died between the two renames of a swap left the old copy moved aside and nothing in its place:
   * that copy is first put back, so a crash never loses {@code current/} or a partition.
   */
  static void cleanStaging(String out, Configuration conf) throws IOException {
    Path staging = new Path(out, IncrementalJob.STAGING);
    FileSystem fs = staging.getFileSystem(conf);
    if (!fs.exists(staging)) return;
    for (FileStatus run : fs.listStatus(staging)) {
      if (!run.isDirectory()) continue;
      for (FileStatus aside : fs.listStatus(run.getPath())) {
        String name = aside.getPath().getName();
        if (!name.startsWith(IncrementalJob.REPLACED)) continue;
        String target = name.substring(IncrementalJob.REPLACED.length());
        Path back = target.equals(IncrementalJob.CURRENT) ? new Path(out, IncrementalJob.CURRENT)
            : target.startsWith(IncrementalJob.RUN_DATE + "=") ? new Path(new Path(out, IncrementalJob.LABELS), target) : null;
        if (back != null && !fs.exists(back)) {
          LOG.warn("Restoring {} from {}: the run that replaced it died mid-swap", RunSummary.redact(back.toString()),
              RunSummary.redact(aside.getPath().toString()));
          fs.mkdirs(back.getParent());
          if (!fs.rename(aside.getPath(), back)) throw new IOException("cannot restore " + back + " from " + aside.getPath());
        }
      }
    }
    for (FileStatus st : fs.listStatus(staging)) {
      LOG.warn("Removing {} left by a run that did not finish", st.getPath());
      fs.delete(st.getPath(), true);
    }
  }
}
