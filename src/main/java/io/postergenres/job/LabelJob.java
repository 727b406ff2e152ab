package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of {@code label}: lists the posters with Spark's {@code binaryFile} source, broadcasts
 * the model bytes, labels each partition in batches on the executors, writes one Parquet row per
 * file and a run summary. Driver-only; the executor work is {@link PosterLabeller}.
 *
 * <p>The {@code binaryFile} source lists and stats the files; the content is read by the labeller
 * itself through Hadoop's file systems, so that a file deleted or grown after listing becomes an
 * error row instead of a failed task, and an oversized file is refused before it is read. Files
 * that vanish between the listing and the scan are found by comparing the listing with what was
 * written, and get {@code not_found} rows too.
 */
public final class LabelJob {
  private static final Logger LOG = LoggerFactory.getLogger(LabelJob.class);
  /** Posters per partition when --partitions is 0. */
  static final int POSTERS_PER_PARTITION = 500;

  private final SparkSession spark;

  public LabelJob(SparkSession spark) {
    this.spark = spark;
  }

  /** Runs the whole job: list, label, write, summarise. */
  public RunSummary run(LabelRequest request) {
    return run(request, () -> {});
  }

  /** As {@link #run(LabelRequest)}, calling {@code afterListing} once the driver has listed the files (for tests). */
  RunSummary run(LabelRequest request, Runnable afterListing) {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    String runId = newRunId(started);
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();

    checkInputsExist(request.inputs(), hadoop);
    checkOutput(request.output(), request.mode(), hadoop);
    ModelPackage pkg = readModel(request.model(), hadoop);
    ModelSpec spec = applyOverrides(pkg.spec(), request);
    LOG.info("Model {} {} from {} ({} bytes, {} genres, input {}x{})", spec.name(), spec.version(),
        RunSummary.redact(request.model()), pkg.sizeBytes(), spec.genres().size(), spec.inputHeight(), spec.inputWidth());

    Dataset<Row> listing = list(request.inputs(), request.glob());
    long tList = System.nanoTime();
    String[] listed = asScanPaths(listing.inputFiles());
    LOG.info("Listed {} poster files matching {} in {} ms", listed.length, request.glob(), (System.nanoTime() - tList) / 1_000_000);
    if (listed.length == 0) {
      LOG.warn("No file under {} matches {}; writing an empty output", request.inputs(), request.glob());
    }
    afterListing.run();
    int partitions = request.partitions() > 0 ? request.partitions() : autoPartitionsAtLeastCores(listed.length);

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ModelPackage> model = jsc.broadcast(pkg);
    Broadcast<HadoopConf> conf = jsc.broadcast(new HadoopConf(hadoop));
    LongAccumulator loads = spark.sparkContext().longAccumulator("poster-genres.model.loads");
    LabelOptions options = withExecutorThreads(request.options());
    PosterLabeller labeller = new PosterLabeller(model, pkg.fingerprint(), spec, conf, options, runId, loads);

    Dataset<Row> labels =
        listing
            .repartition(partitions, col("path"))
            .dropDuplicates("path")
            .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA));
    spark.sparkContext().setJobDescription("poster-genres: label " + listed.length + " posters");
    long tLabel = System.nanoTime();
    labels.write().mode(saveMode(request.mode())).parquet(request.output());
    double labelSeconds = (System.nanoTime() - tLabel) / 1e9;

    Map<String, Long> byKind = countByKind(request.output(), runId);
    long scanned = byKind.values().stream().mapToLong(Long::longValue).sum();
    long vanished = 0;
    if (scanned < listed.length) {
      vanished = labelLeftovers(listed, scanned, request.output(), runId, labeller, conf);
      byKind = countByKind(request.output(), runId);
    }
    long rows = byKind.values().stream().mapToLong(Long::longValue).sum();
    long labelled = byKind.getOrDefault("", 0L);
    byKind.remove("");
    long failed = rows - labelled;
    Instant finished = Instant.now();
    double seconds = (System.nanoTime() - t0) / 1e9;
    boolean exceeded = listed.length > 0 && (double) failed / listed.length > request.maxFailureRatio();
    RunSummary summary = new RunSummary(runId, started.toString(), finished.toString(), seconds,
        request.inputs().stream().map(RunSummary::redact).toList(), RunSummary.redact(request.output()),
        spec.name(), spec.version(), pkg.fingerprint(), listed.length, rows, labelled, failed, byKind, vanished,
        labelSeconds > 0 ? listed.length / labelSeconds : 0, loads.value(), partitions,
        request.options().batchSize(), request.maxFailureRatio(), exceeded, null);
    if (rows != listed.length) {
      LOG.error("Wrote {} rows for {} listed files; the output does not match the listing", rows, listed.length);
    }
    try {
      Path written = summary.write(request.output(), hadoop);
      Path report = io.postergenres.nightly.RunReport.write(request.output(), summary,
          spark.read().parquet(request.output()).where(col(OutputSchema.RUN_ID).equalTo(lit(runId))), hadoop);
      LOG.info("Run summary written to {}, report to {}", RunSummary.redact(written.toString()), RunSummary.redact(report.toString()));
    } catch (IOException e) {
      LOG.error("Could not write the run summary under {}: {}", RunSummary.redact(request.output()), e.toString());
    }
    model.destroy();
    conf.destroy();
    return summary;
  }

  /** The listing: {@code path, modificationTime, length} of each file matching the glob. */
  public Dataset<Row> list(List<String> inputs, String glob) {
    return spark.read()
        .format("binaryFile")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", caseInsensitiveGlob(glob))
        // a file deleted between listing and scan is skipped here and given its row by labelLeftovers()
        .option("ignoreMissingFiles", "true")
        .load(inputs.toArray(new String[0]))
        .select("path", "modificationTime", "length");
  }

  /**
   * Turns each letter of a glob into a bracket of both cases ({@code *.jpg} becomes {@code
   * *.[jJ][pP][gG]}), leaving existing brackets alone: Hadoop's globs have no case-insensitive flag,
   * and camera exports write {@code .JPG}.
   */
  public static String caseInsensitiveGlob(String glob) {
    StringBuilder b = new StringBuilder();
    boolean inBracket = false;
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '\\' && i + 1 < glob.length()) {
        b.append(c).append(glob.charAt(++i));
      } else if (c == '[') {
        inBracket = true;
        b.append(c);
      } else if (c == ']') {
        inBracket = false;
        b.append(c);
      } else if (!inBracket && Character.isLetter(c) && Character.toLowerCase(c) != Character.toUpperCase(c)) {
        b.append('[').append(Character.toLowerCase(c)).append(Character.toUpperCase(c)).append(']');
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * Fills in automatic thread counts where the driver knows an executor's cores (local[N], or
   * spark.executor.cores), so that an executor given 4 cores of a 64-core node does not start
   * 64 TensorFlow threads. Otherwise executors use their own processor count.
   */
  LabelOptions withExecutorThreads(LabelOptions options) {
    ModelCache.Settings t = options.threads();
    if (t.intraOp() > 0) return options;
    int cores = executorCores(spark.sparkContext().master(), spark.conf().getOption("spark.executor.cores"));
    if (cores <= 0) return options;
    LOG.info("TensorFlow intra-op threads per executor: {} (its cores)", cores);
    return new LabelOptions(options.batchSize(), options.maxPixels(), options.maxFileBytes(),
        new ModelCache.Settings(cores, t.interOp(), t.bf16()), options.decodeAhead());
  }

  /** Cores of one executor from the master URL and spark.executor.cores, or 0 when unknown. */
  static int executorCores(String master, scala.Option<String> executorCores) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("local(?:-cluster)?\\[([0-9*]+)(?:,.*)?\\]").matcher(master);
    if (master.equals("local")) return 1;
    if (m.matches() && master.startsWith("local[")) {
      return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }
    if (executorCores.isDefined()) {
      try {
        return Integer.parseInt(executorCores.get().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return 0;
  }

  static int autoPartitions(long files) {
    return (int) Math.max(1, Math.min(100_000, (files + POSTERS_PER_PARTITION - 1) / POSTERS_PER_PARTITION));
  }

  int autoPartitionsAtLeastCores(long files) {
    return Math.max(autoPartitions(files), 2 * spark.sparkContext().defaultParallelism());
  }

  static String newRunId(Instant started) {
    String time = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC).format(started);
    return time + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static void checkInputsExist(List<String> inputs, Configuration conf) {
    if (inputs.isEmpty()) {
      throw new PosterGenresException(Failure.USAGE, "no input given; pass --input with a file, directory or glob");
    }
    for (String input : inputs) {
      Path p = new Path(input);
      try {
        FileSystem fs = p.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(p);
        if (matches == null || matches.length == 0) {
          throw new PosterGenresException(Failure.INPUT,
              "input " + RunSummary.redact(input) + " does not exist (nor does anything match it as a glob); check --input");
        }
      } catch (IOException e) {
        throw new PosterGenresException(Failure.INPUT, "cannot list input " + RunSummary.redact(input) + ": " + e.getMessage(), e);
      }
    }
  }

  private static void checkOutput(String output, String mode, Configuration conf) {
    saveMode(mode);
    if (!mode.equals("error")) return;
    Path p = new Path(output);
    try {
      if (p.getFileSystem(conf).exists(p)) {
        throw new PosterGenresException(Failure.INPUT, "output " + RunSummary.redact(output)
            + " already exists; choose a new --output, or pass --mode overwrite (replace it) or --mode append (add to it)");
      }
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot check output " + RunSummary.redact(output) + ": " + e.getMessage(), e);
    }
  }

  private static SaveMode saveMode(String mode) {
    return switch (mode) {
      case "error" -> SaveMode.ErrorIfExists;
      case "overwrite" -> SaveMode.Overwrite;
      case "append" -> SaveMode.Append;
      default -> throw new PosterGenresException(Failure.USAGE, "--mode must be error, overwrite or append, not '" + mode + "'");
    };
  }

  static ModelPackage readModel(String dir, Configuration conf) {
    try {
      return ModelPackage.read(dir, conf);
    } catch (ModelException e) {
      throw new PosterGenresException(Failure.MODEL, e.getMessage(), e);
    }
  }

  static ModelSpec applyOverrides(ModelSpec spec, LabelRequest request) {
    ModelSpec out = spec;
    if (!request.thresholds().isEmpty()) {
      Map<String, Double> t = new LinkedHashMap<>(spec.thresholds());
      for (Map.Entry<String, Double> e : request.thresholds().entrySet()) {
        if (!t.containsKey(e.getKey())) {
          throw new PosterGenresException(Failure.USAGE, "--threshold names genre '" + e.getKey()
              + "', which model " + spec.name() + " does not know; its genres are " + spec.genres());
        }
        t.put(e.getKey(), e.getValue());
      }
      out = out.withThresholds(t);
    }
    if (request.minGenres() != null || request.maxGenres() != null) {
      out = out.withGenreBounds(
          request.minGenres() != null ? request.minGenres() : spec.minGenres(),
          request.maxGenres() != null ? request.maxGenres() : spec.maxGenres());
    }
    List<String> problems = out.problems();
    if (!problems.isEmpty()) {
      throw new PosterGenresException(Failure.USAGE, "the threshold or genre-count options are invalid: " + String.join("; ", problems));
    }
    return out;
  }

  /**
   * Labels the listed files that the scan did not produce a row for, so that no file is lost:
   * Spark's file scan skips empty files, and with {@code ignoreMissingFiles} also files deleted
   * after the driver listed them. They are stat-ed again and go through the same labeller, which
   * gives them {@code empty} or {@code not_found} rows (or labels them, if they are fine after all).
   * Runs only when the rows written fall short of the listing (the caller counts them anyway).
   */
  private long labelLeftovers(String[] listed, long rows, String output, String runId, PosterLabeller labeller,
      Broadcast<HadoopConf> conf) {
    Dataset<Row> written = spark.read().parquet(output).where(col(OutputSchema.RUN_ID).equalTo(lit(runId)));
    Dataset<String> leftovers =
        spark.createDataset(Arrays.asList(listed), Encoders.STRING())
            .except(written.select(col(OutputSchema.PATH)).as(Encoders.STRING()));
    spark.sparkContext().setJobDescription("poster-genres: label files the scan skipped");
    leftovers
        .map(new StatFile(conf), Encoders.row(LISTING_SCHEMA))
        .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA))
        .write().mode(SaveMode.Append).parquet(output);
    long n = listed.length - rows;
    LOG.info("{} listed files were skipped by the scan (empty, or deleted after listing) and labelled separately", n);
    return n;
  }

  /** Schema of the listing the labeller takes. */
  static final StructType LISTING_SCHEMA = new StructType()
      .add("path", DataTypes.StringType, false)
      .add("modificationTime", DataTypes.TimestampType, true)
      .add("length", DataTypes.LongType, true);

  /** Stats one path again on an executor: (path, modificationTime, length), nulls if it is gone. */
  record StatFile(Broadcast<HadoopConf> conf) implements MapFunction<String, Row> {
    @Override
    public Row call(String path) throws IOException {
      Path p = new Path(path);
      try {
        FileStatus st = p.getFileSystem(conf.value().get()).getFileStatus(p);
        return RowFactory.create(path, new Timestamp(st.getModificationTime()), st.getLen());
      } catch (java.io.FileNotFoundException e) {
        return RowFactory.create(path, null, null);
      }
    }
  }

  /** Paths as the binaryFile source writes them ({@code file:/x}), from the index's URIs ({@code file:///x}). */
  static String[] asScanPaths(String[] uris) {
    String[] out = new String[uris.length];
    for (int i = 0; i < uris.length; i++) out[i] = new Path(java.net.URI.create(uris[i])).toString();
    return out;
  }

  Map<String, Long> countByKind(String output, String runId) {
    Map<String, Long> counts = new HashMap<>();
    for (Row r : spark.read().parquet(output).where(col(OutputSchema.RUN_ID).equalTo(lit(runId)))
        .groupBy(OutputSchema.ERROR_KIND).count().collectAsList()) {
      counts.put(r.isNullAt(0) ? "" : r.getString(0), r.getLong(1));
    }
    return counts;
  }
}
