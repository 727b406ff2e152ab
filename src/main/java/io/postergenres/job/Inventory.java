package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.timestamp_millis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The files a run labels, read from inventories ({@code --input-list}) instead of listed: a
 * distributed Dataset of {@link Listing#SCHEMA} rows that is never collected to the driver, so
 * nothing on the driver grows with the catalogue. Driver-side planning; the per-row work
 * ({@link Rows}) runs on the executors.
 *
 * <p>Accepted, on any Hadoop file system:
 *
 * <ul>
 *   <li>an S3 Inventory report as AWS writes it: its {@code manifest.json}, naming CSV (gzip, no
 *       header, URL-encoded keys, columns as in {@code fileSchema}), ORC or Parquet data files by
 *       their key in the destination bucket; rows become {@code s3a://bucket/key};
 *   <li>a CSV with a header row ({@code .csv}, {@code .csv.gz}), or a Parquet file or directory
 *       (anything else), of {@code path[,length,modification_time]}.
 * </ul>
 *
 * Rows keep only file names matching the run's glob, as the listing does (case-insensitively);
 * paths are qualified as the listing writes them ({@code file:/x}, {@code hdfs://nn:8020/x}).
 */
public final class Inventory {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Inventory() {}

  /** The rows ({@code path, modificationTime, length}) of every inventory, glob applied; a lazy, distributed Dataset. */
  public static Dataset<Row> read(SparkSession spark, List<String> lists, String glob) {
    if (lists.isEmpty()) throw new IllegalArgumentException("no inventory given");
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Dataset<Row> all = null;
    for (String list : lists) {
      Dataset<Row> rows = readOne(spark, list, glob, conf);
      all = all == null ? rows : all.union(rows);
    }
    return all;
  }

  private static Dataset<Row> readOne(SparkSession spark, String list, String glob, Configuration conf) {
    Path p = new Path(list);
    String name = p.getName().toLowerCase(Locale.ROOT);
    FileSystem fs;
    URI defaultFs;
    String workingDir;
    try {
      fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw input(list, "does not exist; check --input-list");
      }
      FileSystem defaultFileSystem = FileSystem.get(conf);
      defaultFs = defaultFileSystem.getUri();
      workingDir = defaultFileSystem.getWorkingDirectory().toString();
    } catch (IOException e) {
      throw input(list, "cannot be read: " + e.getMessage());
    }
    Dataset<Row> raw;
    boolean decodeKeys = false;
    try {
      if (name.endsWith("manifest.json")) {
        S3Report report = S3Report.read(p, fs, list);
        raw = report.rows(spark);
        decodeKeys = report.format.equals("csv");
      } else if (name.endsWith(".csv") || name.endsWith(".csv.gz")) {
        raw = plain(spark.read().option("header", "true").csv(p.toString()), list);
      } else {
        raw = plain(spark.read().parquet(p.toString()), list);
      }
    } catch (PosterGenresException e) {
      throw e;
    } catch (Exception e) { // Spark's AnalysisException, SparkException (a footer that is not Parquet)...
      throw input(list, "cannot be read as an inventory (" + firstLine(e) + "); pass an S3 Inventory manifest.json, "
          + "a CSV with a header row (.csv, .csv.gz) or Parquet, with columns path[,length,modification_time]");
    }
    return raw.mapPartitions(new Rows(Listing.caseInsensitiveGlob(glob), decodeKeys, defaultFs.toString(), workingDir),
        Encoders.row(Listing.SCHEMA));
  }

  /**
   * Fails with exit code 3 when the inventories name no poster: a scheduler pointed at the wrong
   * report must not report success. Costs the count the job makes anyway, nothing per file.
   */
  public static void requireRows(long rows, List<String> lists, String glob) {
    if (rows > 0) return;
    throw new PosterGenresException(Failure.INPUT, "no row of --input-list "
        + String.join(", ", lists.stream().map(RunSummary::redact).toList()) + " names a file matching --glob " + glob
        + "; check that the inventory is the catalogue's, or widen --glob");
  }

  /** A plain inventory's columns, by name (case-insensitive): path, and length and modification_time if present. */
  static Dataset<Row> plain(Dataset<Row> table, String list) {
    Map<String, String> cols = byNormalName(table);
    String path = cols.get("path");
    if (path == null) {
      throw input(list, "has no path column (its columns: " + String.join(", ", table.columns())
          + "); an inventory needs path, and optionally length and modification_time");
    }
    String time = cols.getOrDefault("modificationtime", null);
    return standard(table, col(path).cast(DataTypes.StringType), time == null ? null : timestamp(table, time),
        cols.containsKey("length") ? col(cols.get("length")).try_cast(DataTypes.LongType) : null);
  }

  private static Dataset<Row> standard(Dataset<Row> table, Column path, Column time, Column length) {
    return table.select(path.as("path"),
        (time == null ? lit(null).cast(DataTypes.TimestampType) : time).as("modificationTime"),
        (length == null ? lit(null).cast(DataTypes.LongType) : length).as("length"));
  }

  /** A time column as a timestamp: numbers are epoch milliseconds (S3 Inventory Parquet without the logical type). */
  private static Column timestamp(Dataset<Row> table, String name) {
    var type = table.schema().apply(name).dataType();
    if (type.equals(DataTypes.LongType) || type.equals(DataTypes.IntegerType)) return timestamp_millis(col(name));
    return col(name).try_cast(DataTypes.TimestampType);
  }

  /** Column names by their normal form: lower case, without '_' ({@code last_modified_date}, {@code LastModifiedDate}: lastmodifieddate). */
  private static Map<String, String> byNormalName(Dataset<Row> table) {
    return java.util.Arrays.stream(table.columns())
        .collect(Collectors.toMap(Inventory::normal, Function.identity(), (a, b) -> a));
  }

  static String normal(String column) {
    return column.trim().toLowerCase(Locale.ROOT).replace("_", "");
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static PosterGenresException input(String list, String what) {
    return new PosterGenresException(Failure.INPUT, "--input-list " + RunSummary.redact(list) + " " + what);
  }

  /**
   * An S3 Inventory report: the manifest (read on the driver: a few KB whatever the bucket holds)
   * and its data files. AWS names the data files by their key in the destination bucket, which
   * also holds the manifest at {@code prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json};
   * the bucket's root is the manifest's ancestor under which the first data file exists, so a
   * report copied elsewhere (HDFS, local disk) is read the same way.
   */
  record S3Report(String format, List<String> schema, List<Path> files) {
    static S3Report read(Path manifest, FileSystem fs, String list) {
      JsonNode m;
      try (InputStream in = fs.open(manifest)) {
        m = JSON.readTree(in);
      } catch (IOException e) {
        throw input(list, "is not a readable S3 Inventory manifest: " + e.getMessage());
      }
      String format = m.path("fileFormat").asText("").toLowerCase(Locale.ROOT);
      if (!List.of("csv", "orc", "parquet").contains(format)) {
        throw input(list, "has fileFormat '" + m.path("fileFormat").asText("") + "'; an S3 Inventory manifest names CSV, ORC or Parquet");
      }
      List<String> keys = new ArrayList<>();
      m.path("files").forEach(f -> keys.add(f.path("key").asText("")));
      if (keys.isEmpty() || keys.stream().anyMatch(String::isEmpty)) {
        throw input(list, "names no data files (its \"files\" list is empty or has entries without a key)");
      }
      Path root = bucketRoot(manifest, keys.get(0), fs, list);
      List<Path> files = keys.stream().map(k -> new Path(root, k)).toList();
      List<String> schema = java.util.Arrays.stream(m.path("fileSchema").asText("").split(",")).map(Inventory::normal).toList();
      return new S3Report(format, schema, files);
    }

    static Path bucketRoot(Path manifest, String firstKey, FileSystem fs, String list) {
      try {
        for (Path dir = manifest.getParent(); dir != null; dir = dir.getParent()) {
          if (fs.exists(new Path(dir, firstKey))) return dir;
        }
      } catch (IOException e) {
        throw input(list, "names data files that cannot be checked: " + e.getMessage());
      }
      throw input(list, "names data file " + firstKey + ", found under none of the manifest's parent folders; "
          + "keep the report as AWS wrote it (data files under the destination bucket's root, or a copy of it)");
    }

    /** Rows of {@code path} (still URL-encoded for CSV), {@code modificationTime}, {@code length}; versions not current dropped. */
    Dataset<Row> rows(SparkSession spark) {
      String[] paths = files.stream().map(Path::toString).toArray(String[]::new);
      Dataset<Row> table;
      if (format.equals("csv")) {
        StructType s = new StructType();
        for (String c : schema) s = s.add(c, DataTypes.StringType, true);
        table = spark.read().schema(s).option("header", "false").csv(paths);
      } else {
        table = spark.read().format(format).load(paths);
        for (String c : table.columns()) table = table.withColumnRenamed(c, normal(c));
      }
      java.util.Set<String> cols = java.util.Set.of(table.columns());
      if (!cols.contains("bucket") || !cols.contains("key")) {
        throw new PosterGenresException(Failure.INPUT, "the S3 Inventory's data files have no bucket and key columns (columns: "
            + String.join(", ", table.columns()) + ")");
      }
      if (cols.contains("islatest")) table = table.where(lower(col("islatest").cast("string")).equalTo("true"));
      if (cols.contains("isdeletemarker")) {
        table = table.where(col("isdeletemarker").isNull().or(lower(col("isdeletemarker").cast("string")).notEqual("true")));
      }
      return standard(table, concat(lit("s3a://"), col("bucket"), lit("/"), col("key")),
          cols.contains("lastmodifieddate") ? timestamp(table, "lastmodifieddate") : null,
          cols.contains("size") ? col("size").try_cast(DataTypes.LongType) : null);
    }
  }

  /**
   * Executor side: decodes S3 Inventory CSV keys, drops folder markers and names the glob does not
   * match, and qualifies each path the way the listing writes it. A path Hadoop cannot parse is
   * kept as it is: the labeller gives it an error row rather than dropping it silently.
   */
  record Rows(String glob, boolean decodeKeys, String defaultFs, String workingDir)
      implements MapPartitionsFunction<Row, Row>, Serializable {
    @Override
    public Iterator<Row> call(Iterator<Row> in) throws IOException {
      GlobFilter filter = new GlobFilter(glob);
      URI fs = URI.create(defaultFs);
      Path cwd = new Path(workingDir);
      return new Iterator<>() {
        Row next = advance();

        private Row advance() {
          while (in.hasNext()) {
            Row r = in.next();
            String path = r.isNullAt(0) ? null : r.getString(0);
            if (path == null || path.isBlank()) continue;
            if (decodeKeys) path = decode(path);
            if (path.endsWith("/")) continue; // a folder marker, not a file
            String qualified;
            try {
              Path p = new Path(path);
              if (!filter.accept(p)) continue;
              qualified = p.makeQualified(fs, cwd).toString();
            } catch (IllegalArgumentException e) {
              qualified = path;
            }
            return RowFactory.create(qualified, r.get(1), r.get(2));
          }
          return null;
        }

        @Override
        public boolean hasNext() {
          return next != null;
        }

        @Override
        public Row next() {
          if (next == null) throw new java.util.NoSuchElementException();
          Row r = next;
          next = advance();
          return r;
        }
      };
    }

    /** S3 Inventory CSV keys are URL-encoded (form encoding: a space is '+'); a malformed one is kept as written. */
    static String decode(String key) {
      try {
        return URLDecoder.decode(key, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return key;
      }
    }
  }
}
