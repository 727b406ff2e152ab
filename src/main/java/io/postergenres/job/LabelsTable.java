package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A label output read back for a person ({@code poster-genres show}): genre counts, failures, a
 * few rows, or one poster's row, as plain text. For an incremental output it reads {@code
 * current/}, the one-row-per-poster table. Driver-only; reads, never writes.
 */
public final class LabelsTable {
  private final Dataset<Row> rows;
  private final String table;

  private LabelsTable(Dataset<Row> rows, String table) {
    this.rows = rows;
    this.table = table;
  }

  /** The labels under {@code output}: its {@code current/} table if it has one, else the output itself. */
  public static LabelsTable open(SparkSession spark, String output, Configuration conf) {
    Path out = new Path(output);
    try {
      FileSystem fs = out.getFileSystem(conf);
      if (!fs.exists(out)) {
        throw new PosterGenresException(Failure.INPUT, "there is no output at " + RunSummary.redact(output)
            + "; give the --output of a label run");
      }
      Path current = new Path(out, "current");
      String table = fs.exists(current) ? current.toString() : output;
      if (!hasParquet(fs, new Path(table))) {
        throw new PosterGenresException(Failure.INPUT, RunSummary.redact(output)
            + " holds no label rows (no Parquet file there); give the --output of a label run");
      }
      return new LabelsTable(spark.read().parquet(table), table);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot read " + RunSummary.redact(output) + ": " + e.getMessage(), e);
    } catch (PosterGenresException e) {
      throw e;
    } catch (Exception e) { // Spark's AnalysisException or SparkException (checked in Java's eyes): no Parquet there, or not Parquet
      if (!(e instanceof AnalysisException) && !(e instanceof org.apache.spark.SparkException)) throw e;
      throw new PosterGenresException(Failure.INPUT, RunSummary.redact(output) + " holds no label rows (Parquet): "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + "; give the --output of a label run", e);
    }
  }

  private static boolean hasParquet(FileSystem fs, Path dir) throws IOException {
    RemoteIterator<LocatedFileStatus> files = fs.listFiles(dir, true);
    while (files.hasNext()) {
      if (files.next().getPath().getName().endsWith(".parquet")) return true;
    }
    return false;
  }

  /** The table read: the output, or its {@code current/}. */
  public String table() {
    return RunSummary.redact(table);
  }

  /** One line: posters, labelled, failed. */
  public String overview() {
    Row r = rows.agg(count(lit(1)), count(col(OutputSchema.ERROR_KIND))).first();
    long all = r.getLong(0);
    long failed = r.getLong(1);
    return String.format(Locale.ROOT, "%s: %d posters, %d labelled, %d failed%n", table(), all, all - failed, failed);
  }

  /** Posters per genre, most first. */
  public String genreCounts() {
    List<Row> counts = rows.where(col(OutputSchema.ERROR_KIND).isNull())
        .select(explode(col(OutputSchema.GENRES)).as("genre")).groupBy("genre").count()
        .orderBy(col("count").desc(), col("genre")).collectAsList();
    StringBuilder b = new StringBuilder("Posters per genre:\n");
    if (counts.isEmpty()) b.append("  (no poster was labelled)\n");
    for (Row c : counts) b.append(String.format(Locale.ROOT, "  %-16s %d%n", c.getString(0), c.getLong(1)));
    return b.toString();
  }

  /** Failures per kind with one reason each, then the first {@code limit} failed paths. */
  public String failures(int limit) {
    Dataset<Row> failed = rows.where(col(OutputSchema.ERROR_KIND).isNotNull());
    List<Row> kinds = failed.groupBy(OutputSchema.ERROR_KIND)
        .agg(count(lit(1)).as("n"), first(col(OutputSchema.ERROR)).as("example"))
        .orderBy(col("n").desc(), col(OutputSchema.ERROR_KIND)).collectAsList();
    StringBuilder b = new StringBuilder("Failures:\n");
    if (kinds.isEmpty()) return b.append("  none\n").toString();
    for (Row k : kinds) {
      b.append(String.format(Locale.ROOT, "  %-20s %d  e.g. %s%n", k.getString(0), k.getLong(1), k.isNullAt(2) ? "" : k.getString(2)));
    }
    for (Row f : failed.select(OutputSchema.PATH, OutputSchema.ERROR_KIND).orderBy(OutputSchema.PATH).limit(limit).collectAsList()) {
      b.append(String.format(Locale.ROOT, "  %s  %s%n", f.getString(0), f.getString(1)));
    }
    return b.toString();
  }

  /** The first {@code n} rows by path: path, then genres or the error. */
  public String sample(int n) {
    StringBuilder b = new StringBuilder("First " + n + " posters by path:\n");
    for (Row r : rows.select(OutputSchema.PATH, OutputSchema.GENRES, OutputSchema.ERROR_KIND).orderBy(OutputSchema.PATH)
        .limit(n).collectAsList()) {
      b.append("  ").append(r.getString(0)).append("  ")
          .append(r.isNullAt(2) ? String.join(", ", r.<String>getList(1)) : "failed: " + r.getString(2)).append('\n');
    }
    return b.toString();
  }

  /**
   * The row of one poster, found by its full path or URI, or by the end of its path (a file name,
   * {@code 2004/x.jpg}): genres, every score highest first, model, run, error. Fails with exit code
   * 3 when no row matches.
   */
  public String poster(String path) {
    String suffix = path.startsWith("/") ? path : "/" + path;
    List<Row> found = rows.where(col(OutputSchema.PATH).equalTo(lit(path)).or(col(OutputSchema.PATH).endsWith(suffix)))
        .orderBy(OutputSchema.PATH).limit(11).collectAsList();
    if (found.isEmpty()) {
      throw new PosterGenresException(Failure.INPUT, "no poster in " + table() + " has a path ending in " + suffix);
    }
    StringBuilder b = new StringBuilder();
    for (Row r : found.subList(0, Math.min(10, found.size()))) {
      b.append(r.<String>getAs(OutputSchema.PATH)).append('\n');
      if (r.isNullAt(r.fieldIndex(OutputSchema.ERROR_KIND))) {
        b.append("  genres  ").append(String.join(", ", r.<String>getList(r.fieldIndex(OutputSchema.GENRES)))).append('\n');
        List<Map.Entry<String, Float>> scores = new ArrayList<>(
            CollectionConverters.asJava(r.<String, Float>getMap(r.fieldIndex(OutputSchema.SCORES))).entrySet());
        scores.sort(Map.Entry.<String, Float>comparingByValue().reversed());
        b.append("  scores ");
        for (Map.Entry<String, Float> s : scores) b.append(String.format(Locale.ROOT, " %s %.3f", s.getKey(), s.getValue()));
        b.append('\n');
      } else {
        b.append("  failed  ").append(r.<String>getAs(OutputSchema.ERROR_KIND)).append(": ").append(r.<String>getAs(OutputSchema.ERROR)).append('\n');
      }
      b.append("  model   ").append(r.<String>getAs(OutputSchema.MODEL_NAME)).append(' ').append(r.<String>getAs(OutputSchema.MODEL_VERSION))
          .append(", run ").append(r.<String>getAs(OutputSchema.RUN_ID)).append('\n');
    }
    if (found.size() > 10) b.append("(more posters match; give more of the path)\n");
    return b.toString();
  }
}
