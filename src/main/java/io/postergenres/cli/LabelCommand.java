package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.job.iceberg.IcebergCatalog;
import io.postergenres.job.iceberg.IcebergMaintenance;
import io.postergenres.job.iceberg.IcebergNightlyTable;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.model.ModelCache;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code poster-genres label}: poster files in, one Parquet row per poster out. */
@Command(
    name = "label",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Labels every poster file under the inputs with its genres and writes one Parquet row per file.",
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0  done; failures within --max-failure-ratio",
      "  1  unexpected error (stack trace printed)",
      "  2  bad option or config value",
      "  3  an input matches nothing, or the output exists and --mode is error",
      "  4  model missing, unreadable or invalid",
      "  5  every row written, but more than --max-failure-ratio of the posters failed",
      "  6  another --incremental run holds the output's lock, or committed to its Iceberg tables first"
    })
public final class LabelCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @Option(names = "--input", arity = "1..*", paramLabel = "PATH",
      description = "Poster files, directories (read recursively) or globs; local paths, hdfs:// or s3a://.")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--input-list", paramLabel = "PATH",
      description = "Instead of --input: an inventory of the poster files (repeatable): an S3 Inventory manifest.json, "
          + "or a CSV with a header row or Parquet of path[,length,modification_time]; read by the executors, never listed.")
  List<String> inputLists = new ArrayList<>();

  @Option(names = "--output", required = true, paramLabel = "PATH", description = "Where the Parquet labels go.")
  String output;

  @Mixin ModelOption model;

  @Option(names = "--glob", paramLabel = "GLOB", defaultValue = "*.{jpg,jpeg,png,gif,bmp,webp}",
      description = "Keep files whose name matches, case-insensitively. Default: ${DEFAULT-VALUE}.")
  String glob;

  @Option(names = "--mode", paramLabel = "MODE", defaultValue = "error", converter = LowerCaseEnums.WriteModes.class,
      description = "If the output exists: error, overwrite or append. Overwrite replaces only a folder of Parquet labels: a file, a folder that also holds anything else, or one that holds the input is refused; append refuses a file or a folder that holds the input. Default: ${DEFAULT-VALUE}.")
  WriteMode mode;

  @Mixin SharedOptions.BatchSize batchSize;

  @Option(names = "--threshold", paramLabel = "GENRE=SCORE",
      description = "Override one genre's threshold from model.json (repeatable), e.g. --threshold Drama=0.6.")
  Map<String, Double> thresholds = new LinkedHashMap<>();

  @Option(names = "--min-genres", paramLabel = "N", description = "Override model.json's least genres per poster.")
  Integer minGenres;

  @Option(names = "--max-genres", paramLabel = "N", description = "Override model.json's most genres per poster.")
  Integer maxGenres;

  @Mixin SharedOptions.MaxPixels maxPixels;

  @Option(names = "--max-file-bytes", paramLabel = "N", defaultValue = "104857600",
      description = "Largest file read, in bytes; bigger files are error rows. Default: ${DEFAULT-VALUE}.")
  long maxFileBytes;

  @Option(names = "--max-failure-ratio", paramLabel = "R", defaultValue = "0.1",
      description = "Exit with code 5 when more than this fraction of posters failed. Default: ${DEFAULT-VALUE}.")
  double maxFailureRatio;

  @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
      description = "Spark partitions to label in; 0: one per 500 posters, at least twice the cores. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Mixin SharedOptions.TensorFlowThreads threads;

  @Mixin SharedOptions.Bf16 bf16;

  @Option(names = "--read-text",
      description = "Also read the words on each poster with the model's text stage (text/ in the model directory, made by "
          + "'train-text') and label by the image and text scores blended, with the thresholds calibrated for them: better genres "
          + "(model card: docs/models.md), about 10 times slower. The model version in the rows gains '+text-' and the stage's version.")
  boolean readText;

  @Option(names = "--decode-ahead", arity = "0..1", paramLabel = "auto|on|off", defaultValue = "auto", fallbackValue = "on",
      converter = LowerCaseEnums.DecodeAheads.class,
      description = "Decode the next batch on a helper thread while the model scores this one: on (--decode-ahead alone), "
          + "off (one after the other; --no-decode-ahead too), or auto: off when TensorFlow has 2 cores or fewer (the "
          + "helper then slows it), on above. Default: ${DEFAULT-VALUE}.")
  LabelOptions.DecodeAhead decodeAhead;

  @Option(names = "--no-decode-ahead", hidden = true, description = "The same as --decode-ahead off.")
  boolean noDecodeAhead;

  @Option(names = "--incremental",
      description = "Nightly mode: label only new or changed posters into the history of <output> (by run date) and keep its current labels.")
  boolean incremental;

  @Option(names = "--run-date", paramLabel = "YYYY-MM-DD",
      description = "With --incremental: the date this run stands for (re-running a date replaces it). Default: today (UTC).")
  String runDate;

  @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "3",
      description = "With --incremental: tries for a failing poster before it is given up. Default: ${DEFAULT-VALUE}.")
  int maxAttempts;

  @Option(names = "--new-model-scope", paramLabel = "SCOPE", defaultValue = "all", converter = LowerCaseEnums.NewModelScopes.class,
      description = "With --incremental: what a new model version relabels: all, failed or none. Default: ${DEFAULT-VALUE}.")
  IncrementalJob.NewModelScope newModelScope;

  @Option(names = "--lock-ttl-seconds", paramLabel = "S", defaultValue = "600",
      description = "With --incremental: a run's lock expires this long after its holder stops renewing it. Default: ${DEFAULT-VALUE}.")
  long lockTtlSeconds;

  /** How {@code --incremental} keeps its table. */
  enum TableFormat { PARQUET, ICEBERG }

  @Option(names = "--table-format", paramLabel = "FORMAT", defaultValue = "parquet", converter = LowerCaseEnums.TableFormats.class,
      description = "With --incremental: parquet (labels/ and current/ as Parquet directories) or iceberg (one Apache Iceberg "
          + "table, labels, whose rows with replaced_on NULL are the current labels: one atomic commit per run, time travel, rollback). Default: ${DEFAULT-VALUE}.")
  TableFormat tableFormat;

  @Option(names = "--catalog", paramLabel = "URI",
      description = "With --table-format iceberg: the Iceberg catalog, jdbc:postgresql://HOST:PORT/DB (needed for s3a:// output) "
          + "or a REST catalog's http(s):// URL. Default: a Hadoop catalog in --output (local disk, HDFS).")
  String catalog;

  @Option(names = "--namespace", paramLabel = "NAME", defaultValue = "poster_genres",
      description = "With --table-format iceberg: the namespace of the labels table. Default: ${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--expire-snapshots-days", paramLabel = "D", defaultValue = "0",
      description = "With --table-format iceberg: after the run, expire snapshots older than D days (0: keep all). Default: ${DEFAULT-VALUE}.")
  int expireSnapshotsDays;

  @Option(names = "--compact",
      description = "With --table-format iceberg: after the run, rewrite small data files into larger ones.")
  boolean compact;

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master when not run by spark-submit. Default: local[*].")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark setting (repeatable).")
  Map<String, String> sparkConf = new LinkedHashMap<>();

  @Override
  public Integer call() {
    verbosity.apply();
    LabelRequest request = request();
    IncrementalJob.Settings nightly = incremental ? incrementalSettings() : null;
    IcebergCatalog iceberg = icebergCatalog();
    SparkSession spark = session();
    try {
      RunSummary summary = nightly == null ? new LabelJob(spark).run(request)
          : iceberg == null ? new IncrementalJob(spark).run(request, nightly)
          : new IncrementalJob(spark, IcebergNightlyTable.factory(catalog, namespace)).run(request, nightly);
      commandSpec.commandLine().getOut().print(summary.toText());
      if (iceberg != null && (compact || expireSnapshotsDays > 0)) {
        for (String line : IcebergMaintenance.run(spark, iceberg,
            expireSnapshotsDays > 0 ? Duration.ofDays(expireSnapshotsDays) : null, compact)) {
          commandSpec.commandLine().getOut().println("  " + line);
        }
      }
      commandSpec.commandLine().getOut().flush();
      if (summary.failureRatioExceeded()) {
        commandSpec.commandLine().getErr().printf(
            "poster-genres: %d of %d posters failed (%.1f%%), over --max-failure-ratio %.3f; every row was written, see the error column%n",
            summary.failed(), summary.filesListed(), 100 * summary.failureRatio(), request.maxFailureRatio());
        return ExitCode.TOO_MANY_FAILURES.code();
      }
      return ExitCode.OK.code();
    } finally {
      spark.stop();
    }
  }

  /** Iceberg's SQL extensions (its CALL procedures; MERGE INTO on its tables). */
  static final String ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions";

  /** The Spark master URL forms {@code --master} takes (what SparkContext accepts). */
  private static final Pattern MASTER = Pattern.compile(
      "local|local\\[(\\*|[1-9][0-9]*)(,[0-9]+)?\\]|local-cluster\\[[1-9][0-9]*, *[1-9][0-9]*, *[1-9][0-9]*\\]"
          + "|spark://[^/\\s]+(:[0-9]+)?(,[^/\\s]+(:[0-9]+)?)*|yarn|k8s://\\S+");

  /** Checks {@code --master} before Spark starts, which would otherwise fail with a stack trace. */
  static void checkMaster(String master) {
    if (master != null && !MASTER.matcher(master).matches()) {
      throw usage("--master '" + master + "' is not a Spark master URL; use local, local[N], local[*], "
          + "spark://HOST:PORT, yarn or k8s://https://HOST:PORT");
    }
  }

  LabelRequest request() {
    checkMaster(master);
    if (inputs.isEmpty() && inputLists.isEmpty()) {
      throw usage("no input given; pass --input with poster files, directories or globs, or --input-list with an inventory");
    }
    if (!inputs.isEmpty() && !inputLists.isEmpty()) {
      throw usage("pass either --input (list the files) or --input-list (read an inventory of them), not both");
    }
    if (!(maxFailureRatio >= 0 && maxFailureRatio <= 1)) {
      throw usage("--max-failure-ratio must be between 0 and 1, got " + maxFailureRatio);
    }
    if (partitions < 0) throw usage("--partitions must be 0 (automatic) or more, got " + partitions);
    if (threads.intraOp < 0 || threads.interOp < 0) throw usage("thread counts must be 0 (automatic) or more");
    if (glob.isBlank()) throw usage("--glob must not be empty; use * to keep every file");
    if (!incremental && runDate != null) {
      throw usage("--run-date applies to --incremental runs only; add --incremental, or leave --run-date out");
    }
    try {
      org.apache.hadoop.fs.GlobPattern.compile(io.postergenres.job.Listing.caseInsensitiveGlob(glob));
    } catch (RuntimeException e) { // re2j's PatternSyntaxException (shaded inside Hadoop's client)
      throw usage("--glob '" + glob + "' is not a valid file pattern (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("").replaceFirst(" at pos .*", "").replaceFirst("^error parsing regexp: ", "")
          + "); for example *.jpg or *.{jpg,png}");
    }
    for (String in : inputs) {
      if (in.isBlank()) throw usage("--input must not be empty; name poster files, directories or globs");
    }
    for (String list : inputLists) {
      if (list.isBlank()) throw usage("--input-list must not be empty; name an inventory file");
    }
    if (output == null || output.isBlank()) throw usage("--output must not be empty; name the directory to write");
    for (Map.Entry<String, Double> t : thresholds.entrySet()) {
      if (!(t.getValue() >= 0 && t.getValue() <= 1)) {
        throw usage("--threshold " + t.getKey() + "=" + t.getValue() + " must be between 0 and 1");
      }
    }
    LabelOptions options;
    LabelOptions.DecodeAhead ahead = decodeAhead;
    if (noDecodeAhead) {
      boolean both = commandSpec != null && commandSpec.commandLine() != null && commandSpec.commandLine().getParseResult() != null
          && commandSpec.commandLine().getParseResult().hasMatchedOption("--decode-ahead");
      if (both && ahead != LabelOptions.DecodeAhead.OFF) {
        throw usage("--no-decode-ahead and --decode-ahead " + ahead.spelling() + " contradict each other; pass one of them");
      }
      ahead = LabelOptions.DecodeAhead.OFF;
    }
    try {
      options = new LabelOptions(batchSize.batchSize, maxPixels.maxPixels, maxFileBytes,
          new ModelCache.Settings(threads.intraOp, threads.interOp, bf16.bf16), ahead, readText);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    return new LabelRequest(inputs, output, model.resolved(), glob, mode, partitions, maxFailureRatio,
        thresholds, minGenres, maxGenres, options, inputLists);
  }

  /** The Iceberg catalog of {@code --table-format iceberg}, checked before Spark starts; null for Parquet. */
  IcebergCatalog icebergCatalog() {
    if (tableFormat != TableFormat.ICEBERG) {
      if (catalog != null || compact || expireSnapshotsDays != 0) {
        throw usage("--catalog, --compact and --expire-snapshots-days apply to --table-format iceberg only");
      }
      return null;
    }
    if (!incremental) {
      throw usage("--table-format iceberg keeps the tables of --incremental runs; add --incremental "
          + "(plain label writes Parquet files)");
    }
    if (expireSnapshotsDays < 0) throw usage("--expire-snapshots-days must be 0 (keep all) or more, got " + expireSnapshotsDays);
    return new IcebergCatalog(catalog, output, namespace);
  }

  IncrementalJob.Settings incrementalSettings() {
    LocalDate date;
    try {
      date = runDate == null ? LocalDate.now(ZoneOffset.UTC) : LocalDate.parse(runDate);
    } catch (DateTimeParseException e) {
      throw usage("--run-date must be a date like 2026-11-26, not '" + runDate + "'");
    }
    return new IncrementalJob.Settings(date, maxAttempts, newModelScope, Duration.ofSeconds(lockTtlSeconds));
  }

  private SparkSession session() {
    SparkSession spark;
    try {
      spark = SparkSession.builder().config(sparkConf(new SparkConf(true))).getOrCreate();
    } catch (RuntimeException e) { // a Spark setting Spark refuses as it starts (INVALID_CONF_VALUE and the like)
      for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
        if (c instanceof IllegalArgumentException) {
          throw usage("Spark refused a setting: " + String.valueOf(c.getMessage()).lines().findFirst().orElse("")
              + "; check --conf (and spark-defaults.conf)");
        }
      }
      throw e;
    }
    if (verbosity.level() == 0) {
      spark.sparkContext().setLogLevel("WARN");
    }
    return spark;
  }

  /**
   * The Spark settings of a run ({@code conf} holds spark-submit's spark.* system properties). In
   * local mode Spark's UI is off unless asked for with {@code --conf spark.ui.enabled=true}: Spark
   * binds it to every interface (only SPARK_LOCAL_IP changes that), and a laptop's label run should
   * not serve its job details to the network.
   */
  SparkConf sparkConf(SparkConf conf) {
    if (!conf.contains("spark.master")) {
      conf.setMaster(master != null ? master : "local[*]");
    } else if (master != null) {
      conf.setMaster(master);
    }
    conf.setIfMissing("spark.app.name", "poster-genres label");
    conf.setIfMissing("spark.ui.showConsoleProgress", "true");
    conf.setIfMissing("spark.sql.parquet.compression.codec", "zstd");
    // Executors on a cluster run TensorFlow's oneDNN kernels on every x86 CPU, not only on those with
    // AVX-512 (where TensorFlow turns them on by itself): 1.8 to 2.4 times the speed on AVX2-only CPUs.
    conf.setIfMissing("spark.executorEnv." + ONEDNN, "1");
    sparkConf.forEach(conf::set);
    if (conf.get("spark.master").startsWith("local")) conf.setIfMissing("spark.ui.enabled", "false");
    if (tableFormat == TableFormat.ICEBERG) conf.setIfMissing("spark.sql.extensions", ICEBERG_EXTENSIONS);
    return conf;
  }

  /** The environment variable that turns TensorFlow's oneDNN kernels on (1) or off (0). */
  static final String ONEDNN = "TF_ENABLE_ONEDNN_OPTS";

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
