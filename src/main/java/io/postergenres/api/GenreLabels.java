package io.postergenres.api;

import io.postergenres.job.DatasetColumns;
import io.postergenres.job.HadoopConf;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.PosterLabeller;
import io.postergenres.job.RunSetup;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Genres as one step of a Spark pipeline: labels the posters of a Dataset and returns it with the
 * job's output columns added ({@code sha256, genres, scores, model_name, model_version, run_id,
 * labelled_at, error_kind, error}), one output row per input row, in the input's order and
 * partitions. The poster is the binary column {@code content} (e.g. Spark's {@code binaryFile}
 * source), or, without one, the file at the string column {@code path} on any Hadoop file system.
 *
 * <p>It is the job's own code path: the model directory is read and checked on the driver and
 * broadcast once per call; each executor JVM loads it once (shared by its tasks and by later calls
 * with the same model) and labels each partition in batches with {@link PosterLabeller}. A poster
 * that cannot be read or decoded gets {@code error_kind} and {@code error} instead of genres; it
 * never fails the task.
 *
 * <pre>{@code
 * Dataset<Row> labelled = GenreLabels.withModel("hdfs:///models/mobilenet-poster")
 *     .batchSize(32).threshold("Horror", 0.4).label(posters);
 * }</pre>
 *
 * <p>Lazy like any transformation: nothing is labelled until an action runs; each action labels
 * again (cache or write the result to label once). Immutable: each setter returns a new instance.
 * From PySpark: {@code DataFrame(spark._jvm.io.postergenres.api.GenreLabels.withModel(m).label(df._jdf), spark)}.
 */
public final class GenreLabels implements Serializable {
  private static final long serialVersionUID = 1L;
  /** The label command's defaults (conf/poster-genres.properties). */
  public static final int DEFAULT_BATCH_SIZE = 32;
  public static final long DEFAULT_MAX_PIXELS = 50_000_000L;
  public static final long DEFAULT_MAX_FILE_BYTES = 104_857_600L;

  private final String model;
  private final String contentCol;
  private final String pathCol;
  private final String outputPrefix;
  private final int batchSize;
  private final long maxPixels;
  private final long maxFileBytes;
  private final Map<String, Double> thresholds;

  private GenreLabels(String model, String contentCol, String pathCol, String outputPrefix, int batchSize, long maxPixels,
      long maxFileBytes, Map<String, Double> thresholds) {
    this.model = model;
    this.contentCol = contentCol;
    this.pathCol = pathCol;
    this.outputPrefix = outputPrefix;
    this.batchSize = batchSize;
    this.maxPixels = maxPixels;
    this.maxFileBytes = maxFileBytes;
    this.thresholds = Map.copyOf(thresholds);
  }

  /** Labels with the model directory at {@code model} (any Hadoop file system), with the job's defaults. */
  public static GenreLabels withModel(String model) {
    if (model == null || model.isBlank()) throw new IllegalArgumentException("the model directory is required");
    return new GenreLabels(model, "content", "path", "", DEFAULT_BATCH_SIZE, DEFAULT_MAX_PIXELS, DEFAULT_MAX_FILE_BYTES, Map.of());
  }

  /** Shorthand for {@code withModel(model).label(posters)}. */
  public static Dataset<Row> label(Dataset<Row> posters, String model) {
    return withModel(model).label(posters);
  }

  /** The binary column holding each poster's bytes (default {@code content}). */
  public GenreLabels contentCol(String name) {
    return new GenreLabels(model, name, pathCol, outputPrefix, batchSize, maxPixels, maxFileBytes, thresholds);
  }

  /** The string column of each poster's path, read when there is no content column (default {@code path}). */
  public GenreLabels pathCol(String name) {
    return new GenreLabels(model, contentCol, name, outputPrefix, batchSize, maxPixels, maxFileBytes, thresholds);
  }

  /** Prefix of the added columns' names, e.g. {@code poster_} for {@code poster_genres} (default none). */
  public GenreLabels outputPrefix(String prefix) {
    return new GenreLabels(model, contentCol, pathCol, prefix == null ? "" : prefix, batchSize, maxPixels, maxFileBytes, thresholds);
  }

  /** Posters per TensorFlow run (default 32, as {@code label --batch-size}). */
  public GenreLabels batchSize(int n) {
    if (n < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + n);
    return new GenreLabels(model, contentCol, pathCol, outputPrefix, n, maxPixels, maxFileBytes, thresholds);
  }

  /** Overrides one genre's threshold from model.json (as {@code label --threshold GENRE=SCORE}). */
  public GenreLabels threshold(String genre, double score) {
    if (!(score >= 0 && score <= 1)) {
      throw new IllegalArgumentException("threshold " + genre + "=" + score + " must be between 0 and 1");
    }
    Map<String, Double> t = new LinkedHashMap<>(thresholds);
    t.put(genre, score);
    return new GenreLabels(model, contentCol, pathCol, outputPrefix, batchSize, maxPixels, maxFileBytes, t);
  }

  /** Largest width x height decoded (default 50,000,000, as {@code label --max-pixels}). */
  public GenreLabels maxPixels(long n) {
    return new GenreLabels(model, contentCol, pathCol, outputPrefix, batchSize, n, maxFileBytes, thresholds);
  }

  /** Largest poster in bytes (default 100 MiB, as {@code label --max-file-bytes}). */
  public GenreLabels maxFileBytes(long n) {
    return new GenreLabels(model, contentCol, pathCol, outputPrefix, batchSize, maxPixels, n, thresholds);
  }

  /** The schema {@link #label} returns for input {@code schema}; fails with what to change if it cannot label it. */
  public StructType outputSchema(StructType schema) {
    return outputSchema(schema, columnsOf(schema));
  }

  /**
   * Labels the posters of {@code posters}: reads and checks the model on the driver now, and
   * returns the Dataset with the output columns added, labelled when an action runs.
   */
  public Dataset<Row> label(Dataset<Row> posters) {
    DatasetColumns columns = columnsOf(posters.schema());
    StructType out = outputSchema(posters.schema(), columns);
    SparkSession spark = posters.sparkSession();
    ModelPackage pkg = RunSetup.readModel(model, spark.sparkContext().hadoopConfiguration());
    ModelSpec spec = RunSetup.applyOverrides(pkg.spec(), thresholds, null, null);
    LabelOptions options = RunSetup.withExecutorThreads(spark,
        new LabelOptions(batchSize, maxPixels, maxFileBytes, new ModelCache.Settings(0, 0)));
    // Not destroyed here: the result is lazy. Spark's ContextCleaner drops them with the Dataset.
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ModelPackage> modelBytes = jsc.broadcast(pkg);
    Broadcast<HadoopConf> conf = jsc.broadcast(new HadoopConf(spark.sparkContext().hadoopConfiguration()));
    LongAccumulator loads = spark.sparkContext().longAccumulator("poster-genres.model.loads");
    PosterLabeller labeller = new PosterLabeller(modelBytes, pkg.fingerprint(), spec, conf, options,
        RunSetup.newRunId(Instant.now()), loads, columns);
    return posters.mapPartitions(labeller, Encoders.row(out));
  }

  private DatasetColumns columnsOf(StructType schema) {
    List<String> names = Arrays.asList(schema.fieldNames());
    int content = names.indexOf(contentCol);
    int path = names.indexOf(pathCol);
    if (content >= 0 && !(schema.fields()[content].dataType() instanceof BinaryType)) {
      throw new IllegalArgumentException("column '" + contentCol + "' must be binary (the poster's bytes), not "
          + schema.fields()[content].dataType().simpleString() + "; pass the bytes, or name another column with contentCol");
    }
    if (path >= 0 && !(schema.fields()[path].dataType() instanceof StringType)) {
      throw new IllegalArgumentException("column '" + pathCol + "' must be a string (the poster's path), not "
          + schema.fields()[path].dataType().simpleString() + "; cast it, or name another column with pathCol");
    }
    if (content < 0 && path < 0) {
      throw new IllegalArgumentException("the Dataset has neither a binary column '" + contentCol + "' nor a string column '"
          + pathCol + "' (its columns: " + String.join(", ", names) + "); name yours with contentCol or pathCol");
    }
    return new DatasetColumns(path, content, DatasetColumns.ADDED);
  }

  private StructType outputSchema(StructType schema, DatasetColumns columns) {
    List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
    for (String name : columns.added()) {
      StructField f = OutputSchema.SCHEMA.apply(name);
      String as = outputPrefix + name;
      if (Arrays.asList(schema.fieldNames()).contains(as)) {
        throw new IllegalArgumentException("the Dataset already has a column '" + as
            + "'; drop or rename it, or set an outputPrefix for the added columns");
      }
      fields.add(new StructField(as, f.dataType(), f.nullable(), f.metadata()));
    }
    return new StructType(fields.toArray(new StructField[0]));
  }
}
