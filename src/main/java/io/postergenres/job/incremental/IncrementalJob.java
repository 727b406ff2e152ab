package io.postergenres.job.incremental;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.HadoopConf;
import io.postergenres.job.Inventory;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.Listing;
import io.postergenres.job.OutputRows;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.PosterLabeller;
import io.postergenres.job.RowCounts;
import io.postergenres.job.RunReport;
import io.postergenres.job.RunSetup;
import io.postergenres.job.RunSummary;
import io.postergenres.job.StepClock;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code label --incremental}: the nightly run over a growing catalogue. Labels only what is new
 * or changed since the runs before {@code runDate}, reuses the labels of renamed files, retries
 * failures up to a limit, and relabels when the model version changes. Driver-only.
 *
 * <p>Where the rows go is a {@link NightlyTable}: the Parquet directory layout ({@link
 * ParquetNightlyTable}) by default. What a run of date D decides depends only on the rows of the
 * dates before D and the listing, so a re-run of D reproduces D; the table publishes a run whole or
 * not at all, so a run that dies leaves the previous state readable.
 */
public final class IncrementalJob {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalJob.class);

  /** What a new model version relabels. */
  public enum NewModelScope { ALL, FAILED, NONE }

  /** Incremental settings on top of a {@link LabelRequest}. */
  public record Settings(LocalDate runDate, int maxAttempts, NewModelScope newModelScope, Duration lockTtl) {
    public Settings {
      if (maxAttempts < 1) throw new PosterGenresException(Failure.USAGE, "--max-attempts must be at least 1, got " + maxAttempts);
      if (lockTtl.isNegative() || lockTtl.isZero()) throw new PosterGenresException(Failure.USAGE, "--lock-ttl must be positive");
    }
  }

  /** The decision for a poster whose stored scores are this model's: only its genres are decided again. */
  public static final String NEW_THRESHOLDS = "new_thresholds";

  static final String LABELS = "labels";
  static final String CURRENT = "current";
  static final String STAGING = "_staging";
  static final String RUN_DATE = "run_date";
  /** Prefix of what a swap moved aside under _staging/<run>/: the target's name follows. */
  static final String REPLACED = "replaced-";

  private final SparkSession spark;
  private final NightlyTable.Factory tables;

  /** Nightly runs into the Parquet directory layout ({@link ParquetNightlyTable}). */
  public IncrementalJob(SparkSession spark) {
    this(spark, ParquetNightlyTable::new);
  }

  /** Nightly runs into the tables {@code tables} opens for an output. */
  public IncrementalJob(SparkSession spark, NightlyTable.Factory tables) {
    this.spark = spark;
    this.tables = tables;
  }

  public RunSummary run(LabelRequest request, Settings settings) {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    StepClock clock = new StepClock();
    String runId = RunSetup.newRunId(started);
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    if (!request.fromInventory()) RunSetup.checkInputsExist(request.inputs(), hadoop);
    clock.lap("checks");
    ModelPackage pkg = RunSetup.readModel(request.model(), hadoop, request.options().readText());
    ModelSpec spec = RunSetup.applyOverrides(pkg.spec(), request);
    clock.lap("model_read");
    String out = request.output();
    RunSetup.refusePlainOutput(out, hadoop);
    try (RunLock lock = RunLock.acquire(out, runId, settings.lockTtl(), hadoop)) {
      lock.verify();
      NightlyTable table = tables.open(spark, out, hadoop);
      table.recover();
      clock.lap("lock_and_recover");
      return runLocked(request, settings, runId, pkg, spec, hadoop, started, t0, lock, table, clock);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot write under " + RunSummary.redact(out) + ": " + e.getMessage(), e);
    }
  }

  private RunSummary runLocked(LabelRequest request, Settings settings, String runId, ModelPackage pkg, ModelSpec spec,
      Configuration hadoop, Instant started, long t0, RunLock lock, NightlyTable table, StepClock clock) throws IOException {
    String out = request.output();
    String date = settings.runDate().toString();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<HadoopConf> conf = jsc.broadcast(new HadoopConf(hadoop));

    // 1. What exists now: the scan, plus files it skips (empty ones, ones deleted since listing);
    //    or the inventory's rows, which decide by their size and time exactly as listed ones do.
    long tList = System.nanoTime();
    Dataset<Row> listing;
    long listedCount;
    if (request.fromInventory()) {
      listing = Inventory.read(spark, request.inputLists(), request.glob()).dropDuplicates("path").persist();
      spark.sparkContext().setJobDescription("poster-genres: count the inventory");
      listedCount = listing.count();
      Inventory.requireRows(listedCount, request.inputLists(), request.glob());
    } else {
      Dataset<Row> scan = Listing.list(spark, request.inputs(), request.glob());
      String[] listed = Listing.asScanPaths(scan.inputFiles());
      listedCount = listed.length;
      RunSetup.requireListed(listed.length, request.inputs(), request.glob(), hadoop);
      Dataset<Row> leftovers = spark.createDataset(Arrays.asList(listed), Encoders.STRING())
          .except(scan.select(col("path")).as(Encoders.STRING()))
          .map(new Listing.StatFile(conf), Encoders.row(Listing.SCHEMA));
      listing = scan.unionByName(leftovers).persist();
    }
    double listSeconds = (System.nanoTime() - tList) / 1e9;
    clock.lap("listing");

    // 2. What the runs before this date knew: the latest row per path.
    Dataset<Row> ledger = table.ledgerBefore(date);

    // 3. Decide per listed file.
    // Rows of an earlier version with this model's scores (thresholds chosen again) need only their
    // genres decided again; not with the text stage, whose blended scores are another model's.
    List<String> sameScores = pkg.readsText() ? List.of() : spec.sameScoresAs();
    Dataset<Row> plan = plan(listing, ledger, spec.name(), spec.version(), sameScores, spec.genres().size(), settings).persist();
    Map<String, Long> decisions = new LinkedHashMap<>();
    for (String d : List.of("new", "changed", "new_model", NEW_THRESHOLDS, "retry", "unchanged", "given_up")) decisions.put(d, 0L);
    for (Row r : plan.groupBy("decision").count().collectAsList()) decisions.put(r.getString(0), r.getLong(1));

    Dataset<Row> todo = plan.where(col("decision").isin("new", "changed", "new_model", "retry"))
        .select("path", "modificationTime", "length", "prior_attempts");
    long todoCount = decisions.get("new") + decisions.get("changed") + decisions.get("new_model") + decisions.get("retry");
    clock.lap("plan");

    // 4. Posters with the content of a labelled poster whose path is gone (a rename) take its labels.
    Dataset<Row> vanished = ledger.join(listing, ledger.col(OutputSchema.PATH).equalTo(listing.col("path")), "left_anti");
    long deleted = vanished.count();
    Dataset<Row> reusing = deleted == 0 ? null : ContentReuse.reusedRows(todo, vanished, spec,
        new OutputRows(spec.name(), spec.version(), runId), conf, request.options().maxFileBytes()).persist();
    Dataset<Row> toLabel = todo;
    long reused = 0;
    if (reusing != null) {
      spark.sparkContext().setJobDescription("poster-genres: find renamed posters by content");
      reused = reusing.count();
      if (reused > 0) LOG.info("{} posters have the content of a labelled poster that is gone; they reuse its labels", reused);
      toLabel = todo.join(reusing.select(col(OutputSchema.PATH).as("_reused")), col("path").equalTo(col("_reused")), "left_anti");
    }
    clock.lap("reuse");

    // 4b. Posters labelled by an earlier version with the same scores: genres decided again, nothing read.
    long redecided = decisions.get(NEW_THRESHOLDS);
    Dataset<Row> redeciding = redecided == 0 ? null
        : ScoreReuse.redecidedRows(plan, ledger, spec, new OutputRows(spec.name(), spec.version(), runId));
    if (redecided > 0) LOG.info("{} posters were labelled by {} with this model's scores; their genres are decided again from them", redecided,
        String.join(" or ", sameScores));

    // 5. Label what needs it, into the table's staging.
    int partitions = RunSetup.partitions(spark, request.partitions(), todoCount);
    Broadcast<ModelPackage> model = jsc.broadcast(pkg); // executors fetch it only if they load
    LongAccumulator loads = spark.sparkContext().longAccumulator("poster-genres.model.loads");
    RowCounts counts = RowCounts.register(spark.sparkContext());
    LabelOptions options = RunSetup.withExecutorThreads(spark, request.options());
    PosterLabeller labeller = new PosterLabeller(model, pkg.fingerprint(), spec, conf, options, runId, loads, counts);
    spark.sparkContext().setJobDescription("poster-genres: label " + todoCount + " new or changed posters");
    long tLabel = System.nanoTime();
    Dataset<Row> byModel = toLabel.repartition(partitions, col("path"))
        .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA));
    Dataset<Row> fromOthers = reusing == null ? redeciding : redeciding == null ? reusing : reusing.union(redeciding);
    Dataset<Row> staged = table.stage(runId, date, fromOthers == null ? byModel : byModel.union(fromOthers));
    clock.lap("label_and_write");

    Map<String, Long> byKind;
    Map<String, Long> byGenre = null; // null: the report counts them from the published rows
    if (table.stagesInOneWrite()) {
      // Counted by the labeller as the write committed its rows (RowCounts), plus the reused rows
      // (labelled, counted above from the same cached rows the write took), not by reading them again.
      byKind = counts.byKind().value();
      byKind.merge("", reused + redecided, Long::sum);
      if (fromOthers == null) byGenre = counts.byGenre().value();
    } else {
      // The table staged lazily (cached): this count is the action that labels, before the commit needs the figures.
      spark.sparkContext().setJobDescription("poster-genres: count the labelled rows");
      byKind = new HashMap<>();
      long reusedRows = 0;
      for (Row r : staged.groupBy(col(OutputSchema.ERROR_KIND), col(OutputSchema.REUSED_FROM).isNotNull()).count().collectAsList()) {
        byKind.merge(r.isNullAt(0) ? "" : r.getString(0), r.getLong(2), Long::sum);
        if (r.isNullAt(0) && r.getBoolean(1)) reusedRows += r.getLong(2);
      }
      reused = reusedRows;
      clock.lap("count");
    }
    double labelSeconds = (System.nanoTime() - tLabel) / 1e9;
    if (reusing != null) reusing.unpersist();

    long rows = byKind.values().stream().mapToLong(Long::longValue).sum();
    long labelled = byKind.getOrDefault("", 0L);
    byKind.remove("");
    long failedCount = rows - labelled;
    Map<String, Object> incremental = new LinkedHashMap<>(decisions);
    incremental.put("run_date", date);
    boolean rerun = table.hasDate(date);
    if (rerun) LOG.info("{} was run before: this run replaces its rows", date);
    incremental.put(RunSummary.RERUN, rerun);
    incremental.put("deleted", deleted);
    incremental.put("reused_by_content", reused);
    incremental.put("labelled_by_model", labelled - reused - redecided);
    incremental.put("listing_seconds", Math.round(listSeconds * 10) / 10.0);
    incremental.put("max_attempts", settings.maxAttempts());

    // 6. Publish: history and current labels, each replaced whole.
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("poster-genres.run-id", runId);
    properties.put("poster-genres.run-date", date);
    properties.put("poster-genres.model", spec.name() + " " + spec.version());
    properties.put("poster-genres.rows", Long.toString(rows));
    properties.put("poster-genres.labelled", Long.toString(labelled));
    properties.put("poster-genres.failed", Long.toString(failedCount));
    decisions.forEach((d, n) -> properties.put("poster-genres." + d.replace('_', '-'), Long.toString(n)));
    Dataset<Row> published = table.publish(runId, date, staged, listing, lock, properties);
    listing.unpersist();
    plan.unpersist();
    clock.lap("publish");
    double seconds = (System.nanoTime() - t0) / 1e9;
    boolean exceeded = todoCount > 0 && (double) failedCount / todoCount > request.maxFailureRatio();
    RunSummary summary = new RunSummary(runId, started.toString(), Instant.now().toString(), seconds,
        request.sources().stream().map(RunSummary::redact).toList(), RunSummary.redact(out), spec.name(), spec.version(),
        pkg.fingerprint(), listedCount, rows, labelled, failedCount, byKind, 0,
        labelSeconds > 0 ? (todoCount + redecided) / labelSeconds : 0, loads.value(), partitions, request.options().batchSize(),
        request.maxFailureRatio(), exceeded, incremental)
        .withDecodeAhead(RunSetup.decodeAheadText(request.options(), options));
    // The report first, so that the summary can say what the report cost; the summary is written
    // whatever becomes of the report.
    try {
      RunSummary previous = RunReport.previous(out, summary.startedAt(), hadoop);
      Path report = byGenre == null ? RunReport.write(out, summary, previous, published, hadoop)
          : RunReport.write(out, summary, previous, byGenre, () -> published, hadoop);
      LOG.info("Run report: {}", RunSummary.redact(report.toString()));
    } finally {
      clock.lap("report");
      summary = summary.withSteps(clock.seconds());
      summary.write(out, hadoop);
    }
    model.destroy();
    conf.destroy();
    return summary;
  }

  /**
   * Joins the listing ({@code path, modificationTime, length}) with the ledger (latest output row
   * per path) and decides per file: {@code new}, {@code changed} (other modification time or
   * length), {@code new_model}, {@code retry} (failed, tries left), {@code given_up} or {@code
   * unchanged}. Adds {@code prior_attempts} for retries.
   */
  public static Dataset<Row> plan(Dataset<Row> listing, Dataset<Row> ledger, String modelName, String modelVersion,
      Settings settings) {
    return plan(listing, ledger, modelName, modelVersion, List.of(), 0, settings);
  }

  /**
   * As {@link #plan(Dataset, Dataset, String, String, Settings)}; a poster labelled by one of {@code
   * sameScores} (earlier versions of this model with its scores: thresholds chosen again) is {@value
   * #NEW_THRESHOLDS}: its genres are decided again from its scores (all {@code genres} of them, or
   * it is relabelled), without reading it. Not with {@code --new-model none}, which leaves other
   * versions' rows as they are.
   */
  public static Dataset<Row> plan(Dataset<Row> listing, Dataset<Row> ledger, String modelName, String modelVersion,
      List<String> sameScores, int genres, Settings settings) {
    Column known = col("l." + OutputSchema.PATH).isNotNull();
    Column sameFile = col("l." + OutputSchema.MODIFICATION_TIME).eqNullSafe(col("f.modificationTime"))
        .and(col("l." + OutputSchema.LENGTH).eqNullSafe(col("f.length")));
    Column otherModel = col("l." + OutputSchema.MODEL_VERSION).notEqual(lit(modelVersion))
        .or(col("l." + OutputSchema.MODEL_NAME).notEqual(lit(modelName)));
    Column failed = col("l." + OutputSchema.ERROR_KIND).isNotNull();
    Column newModel = switch (settings.newModelScope()) {
      case ALL -> otherModel;
      case FAILED -> otherModel.and(failed);
      case NONE -> lit(false);
    };
    boolean redecide = !sameScores.isEmpty() && settings.newModelScope() != NewModelScope.NONE;
    Column scoresKept = !redecide ? lit(false)
        : otherModel.and(col("l." + OutputSchema.MODEL_NAME).equalTo(lit(modelName)))
            .and(col("l." + OutputSchema.MODEL_VERSION).isin(sameScores.toArray()))
            .and(not(failed))
            .and(org.apache.spark.sql.functions.size(col("l." + OutputSchema.SCORES)).equalTo(lit(genres)));
    Column decision =
        when(not(known), lit("new"))
            .when(not(sameFile), lit("changed"))
            .when(scoresKept, lit(NEW_THRESHOLDS))
            .when(newModel, lit("new_model"))
            .when(failed.and(col("l." + OutputSchema.ATTEMPTS).lt(settings.maxAttempts())), lit("retry"))
            .when(failed, lit("given_up"))
            .otherwise(lit("unchanged"));
    return listing.as("f")
        .join(ledger.selectExpr(redecide ? LEDGER_COLUMNS_WITH_SCORES : LEDGER_COLUMNS).as("l"),
            col("f.path").equalTo(col("l." + OutputSchema.PATH)), "left_outer")
        .select(col("f.path").as("path"), col("f.modificationTime").as("modificationTime"), col("f.length").as("length"),
            when(decision.equalTo("retry"), col("l." + OutputSchema.ATTEMPTS)).otherwise(lit(0)).as("prior_attempts"),
            decision.as("decision"));
  }

  /** What {@link #plan} reads of the ledger (its scores only when it may decide {@value #NEW_THRESHOLDS}). */
  private static final String[] LEDGER_COLUMNS = {OutputSchema.PATH, OutputSchema.MODIFICATION_TIME, OutputSchema.LENGTH,
      OutputSchema.MODEL_NAME, OutputSchema.MODEL_VERSION, OutputSchema.ERROR_KIND, OutputSchema.ATTEMPTS};
  private static final String[] LEDGER_COLUMNS_WITH_SCORES = java.util.stream.Stream.concat(java.util.Arrays.stream(LEDGER_COLUMNS),
      java.util.stream.Stream.of(OutputSchema.SCORES)).toArray(String[]::new);

  /** The latest row per path of {@code rows}, which have a {@code run_date} column (later dates win, then later labelling). */
  public static Dataset<Row> latest(Dataset<Row> rows) {
    return rows.withColumn("_rank", row_number().over(Window.partitionBy(OutputSchema.PATH)
            .orderBy(col(RUN_DATE).desc(), col(OutputSchema.LABELLED_AT).desc())))
        .where(col("_rank").equalTo(1)).drop("_rank");
  }
}
