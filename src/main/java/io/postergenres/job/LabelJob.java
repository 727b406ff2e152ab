package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of {@code label}: lists the posters with Spark's {@code binaryFile} source (or reads
 * them from inventories, {@link Inventory}, keeping nothing per file on the driver), broadcasts
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
    StepClock clock = new StepClock();
    String runId = RunSetup.newRunId(started);
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();

    if (!request.fromInventory()) RunSetup.checkInputsExist(request.inputs(), hadoop);
    RunSetup.checkOutput(request.output(), java.util.stream.Stream.concat(request.inputs().stream(), request.inputLists().stream()).toList(),
        request.mode(), hadoop);
    // read before the write: --mode overwrite deletes _runs with the rest of the output
    RunSummary previous = RunReport.previous(request.output(), started.toString(), hadoop);
    clock.lap("checks");
    ModelPackage pkg = RunSetup.readModel(request.model(), hadoop, request.options().readText());
    ModelSpec spec = RunSetup.applyOverrides(pkg.spec(), request);
    LOG.info("Model {} {} from {} ({} bytes, {} genres, input {}x{})", spec.name(), spec.version(),
        RunSummary.redact(request.model()), pkg.sizeBytes(), spec.genres().size(), spec.inputHeight(), spec.inputWidth());

    clock.lap("model_read");
    Dataset<Row> listing;
    String[] listed = null; // a listing's paths, kept on the driver to find files the scan skips; none for an inventory
    long listedCount;
    long tList = System.nanoTime();
    if (request.fromInventory()) {
      listing = Inventory.read(spark, request.inputLists(), request.glob());
      spark.sparkContext().setJobDescription("poster-genres: count the inventory");
      listedCount = listing.count();
      LOG.info("Inventory names {} poster files matching {} (counted in {} ms)", listedCount, request.glob(), (System.nanoTime() - tList) / 1_000_000);
      Inventory.requireRows(listedCount, request.inputLists(), request.glob());
    } else {
      listing = Listing.list(spark, request.inputs(), request.glob());
      listed = Listing.asScanPaths(listing.inputFiles());
      List<String> broken = LocalLinks.brokenLinks(request.inputs(), request.glob());
      if (!broken.isEmpty()) { // listed too, so that each gets its not_found row (labelLeftovers)
        LOG.warn("{} symbolic links under the inputs point to nothing; each gets a not_found row", broken.size());
        listed = java.util.stream.Stream.concat(Arrays.stream(listed), broken.stream()).distinct().toArray(String[]::new);
      }
      listedCount = listed.length;
      LOG.info("Listed {} poster files matching {} in {} ms", listedCount, request.glob(), (System.nanoTime() - tList) / 1_000_000);
      RunSetup.requireListed(listedCount, request.inputs(), request.glob(), hadoop);
    }
    clock.lap("listing");
    afterListing.run();
    clock.skip();
    int partitions = RunSetup.partitions(spark, request.partitions(), listedCount);

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ModelPackage> model = jsc.broadcast(pkg);
    Broadcast<HadoopConf> conf = jsc.broadcast(new HadoopConf(hadoop));
    LongAccumulator loads = spark.sparkContext().longAccumulator("poster-genres.model.loads");
    RowCounts counts = RowCounts.register(spark.sparkContext());
    LabelOptions options = RunSetup.withExecutorThreads(spark, request.options());
    PosterLabeller labeller = new PosterLabeller(model, pkg.fingerprint(), spec, conf, options, runId, loads, counts);

    Dataset<Row> labels =
        listing
            .repartition(partitions, col("path"))
            .dropDuplicates("path")
            .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA));
    spark.sparkContext().setJobDescription("poster-genres: label " + listedCount + " posters");
    clock.lap("broadcast");
    long tLabel = System.nanoTime();
    labels.write().mode(request.mode().saveMode()).parquet(request.output());
    double labelSeconds = (System.nanoTime() - tLabel) / 1e9;
    clock.lap("label_and_write");

    // Counted by the labeller as it wrote (RowCounts), not by reading the output again.
    Map<String, Long> byKind = counts.byKind().value();
    long scanned = byKind.values().stream().mapToLong(Long::longValue).sum();
    long vanished = 0;
    clock.lap("count");
    if (scanned < listedCount && listed != null) {
      vanished = labelLeftovers(listed, scanned, request.output(), runId, labeller, conf);
      byKind = counts.byKind().value();
      clock.lap("leftovers");
    } else if (scanned < listedCount) {
      // the labeller writes a row for every inventory row, missing files included: the rest repeated a path
      LOG.info("{} inventory rows repeat a path named before; each path has one row", listedCount - scanned);
      listedCount = scanned;
    }
    long rows = byKind.values().stream().mapToLong(Long::longValue).sum();
    long labelled = byKind.getOrDefault("", 0L);
    byKind.remove("");
    long failed = rows - labelled;
    Instant finished = Instant.now();
    double seconds = (System.nanoTime() - t0) / 1e9;
    boolean exceeded = listedCount > 0 && (double) failed / listedCount > request.maxFailureRatio();
    RunSummary summary = new RunSummary(runId, started.toString(), finished.toString(), seconds,
        request.sources().stream().map(RunSummary::redact).toList(), RunSummary.redact(request.output()),
        spec.name(), spec.version(), pkg.fingerprint(), listedCount, rows, labelled, failed, byKind, vanished,
        labelSeconds > 0 ? listedCount / labelSeconds : 0, loads.value(), partitions,
        request.options().batchSize(), request.maxFailureRatio(), exceeded, null)
        .withDecodeAhead(RunSetup.decodeAheadText(request.options(), options));
    if (rows != listedCount) {
      LOG.error("Wrote {} rows for {} listed files; the output does not match the listing", rows, listedCount);
    }
    // The report first, so that the summary can say what the report cost; the summary is written
    // whatever becomes of the report.
    try {
      Path report = RunReport.write(request.output(), summary, previous, counts.byGenre().value(),
          () -> spark.read().parquet(request.output()).where(col(OutputSchema.RUN_ID).equalTo(lit(runId))), hadoop);
      LOG.info("Run report written to {}", RunSummary.redact(report.toString()));
    } catch (IOException e) {
      LOG.error("Could not write the run report under {}: {}", RunSummary.redact(request.output()), e.toString());
    } finally {
      clock.lap("report");
      summary = summary.withSteps(clock.seconds());
      try {
        Path written = summary.write(request.output(), hadoop);
        LOG.info("Run summary written to {}", RunSummary.redact(written.toString()));
      } catch (IOException e) {
        LOG.error("Could not write the run summary under {}: {}", RunSummary.redact(request.output()), e.toString());
      }
    }
    model.destroy();
    conf.destroy();
    return summary;
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
        .map(new Listing.StatFile(conf), Encoders.row(Listing.SCHEMA))
        .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA))
        .write().mode(SaveMode.Append).parquet(output);
    long n = listed.length - rows;
    LOG.info("{} listed files were skipped by the scan (empty, or deleted after listing) and labelled separately", n);
    return n;
  }
}
