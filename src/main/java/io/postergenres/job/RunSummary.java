package io.postergenres.job;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What one run did, written as {@code <output>/_runs/<run_id>.json} and printed at the end. Paths
 * are stored without any user-info part, so credentials in a URI never reach the summary. {@code
 * steps_seconds} is where the run's time went, step by step (absent in summaries of older versions
 * and of runs that do not record it). {@code decode_ahead} says whether tasks decoded the next batch
 * while the model scored one, and why ({@code off (2 cores)}); absent in older summaries.
 */
public record RunSummary(
    @JsonProperty("run_id") String runId,
    @JsonProperty("started_at") String startedAt,
    @JsonProperty("finished_at") String finishedAt,
    @JsonProperty("duration_seconds") double durationSeconds,
    @JsonProperty("inputs") List<String> inputs,
    @JsonProperty("output") String output,
    @JsonProperty("model_name") String modelName,
    @JsonProperty("model_version") String modelVersion,
    @JsonProperty("model_fingerprint") String modelFingerprint,
    @JsonProperty("files_listed") long filesListed,
    @JsonProperty("rows_written") long rowsWritten,
    @JsonProperty("labelled") long labelled,
    @JsonProperty("failed") long failed,
    @JsonProperty("failed_by_kind") Map<String, Long> failedByKind,
    @JsonProperty("skipped_by_scan") long skippedByScan,
    @JsonProperty("posters_per_second") double postersPerSecond,
    @JsonProperty("model_loads") long modelLoads,
    @JsonProperty("partitions") int partitions,
    @JsonProperty("batch_size") int batchSize,
    @JsonProperty("max_failure_ratio") double maxFailureRatio,
    @JsonProperty("failure_ratio_exceeded") boolean failureRatioExceeded,
    @JsonProperty("incremental") @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Object> incremental,
    @JsonProperty("steps_seconds") @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Double> stepsSeconds,
    @JsonProperty("decode_ahead") @JsonInclude(JsonInclude.Include.NON_NULL) String decodeAhead) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @JsonCreator
  public RunSummary {
    failedByKind = new TreeMap<>(failedByKind);
    stepsSeconds = stepsSeconds == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(stepsSeconds));
  }

  /** A summary without step timings. */
  public RunSummary(String runId, String startedAt, String finishedAt, double durationSeconds, List<String> inputs, String output,
      String modelName, String modelVersion, String modelFingerprint, long filesListed, long rowsWritten, long labelled, long failed,
      Map<String, Long> failedByKind, long skippedByScan, double postersPerSecond, long modelLoads, int partitions, int batchSize,
      double maxFailureRatio, boolean failureRatioExceeded, Map<String, Object> incremental) {
    this(runId, startedAt, finishedAt, durationSeconds, inputs, output, modelName, modelVersion, modelFingerprint, filesListed,
        rowsWritten, labelled, failed, failedByKind, skippedByScan, postersPerSecond, modelLoads, partitions, batchSize,
        maxFailureRatio, failureRatioExceeded, incremental, null, null);
  }

  /** This summary with {@code steps} as its step timings. */
  public RunSummary withSteps(Map<String, Double> steps) {
    return new RunSummary(runId, startedAt, finishedAt, durationSeconds, inputs, output, modelName, modelVersion, modelFingerprint,
        filesListed, rowsWritten, labelled, failed, failedByKind, skippedByScan, postersPerSecond, modelLoads, partitions, batchSize,
        maxFailureRatio, failureRatioExceeded, incremental, steps, decodeAhead);
  }

  /** This summary with {@code decision} as what became of decode-ahead ({@code off (2 cores)}). */
  public RunSummary withDecodeAhead(String decision) {
    return new RunSummary(runId, startedAt, finishedAt, durationSeconds, inputs, output, modelName, modelVersion, modelFingerprint,
        filesListed, rowsWritten, labelled, failed, failedByKind, skippedByScan, postersPerSecond, modelLoads, partitions, batchSize,
        maxFailureRatio, failureRatioExceeded, incremental, stepsSeconds, decision);
  }

  public double failureRatio() {
    return filesListed == 0 ? 0 : (double) failed / filesListed;
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static RunSummary fromJson(byte[] json) throws IOException {
    return JSON.readValue(json, RunSummary.class);
  }

  /** Writes this summary to {@code <output>/_runs/<run_id>.json} and returns that path. */
  public Path write(String outputDir, Configuration conf) throws IOException {
    Path path = new Path(new Path(outputDir, "_runs"), runId + ".json");
    FileSystem fs = path.getFileSystem(conf);
    try (OutputStream out = fs.create(path, true)) {
      out.write(toJson());
    }
    return path;
  }

  /** The summary as a few lines for the terminal. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Run %s: %d files listed, %d labelled, %d failed (%.1f%%) in %.1f s, %.1f posters/s%n",
        runId, filesListed, labelled, failed, 100 * failureRatio(), durationSeconds, postersPerSecond));
    failedByKind.forEach((k, v) -> b.append(String.format(Locale.ROOT, "  failed %-20s %d%n", k, v)));
    if (incremental != null) {
      b.append("  incremental: ");
      b.append(String.join(", ", incremental.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
      b.append(System.lineSeparator());
    }
    if (incremental != null && Boolean.TRUE.equals(incremental.get(RERUN))) {
      b.append(String.format(Locale.ROOT, "  a re-run of %s: that date's partition was replaced%n", incremental.get("run_date")));
    }
    b.append(String.format(Locale.ROOT, "  model %s %s, loaded %d time(s) on executors; output %s%n",
        modelName, modelVersion, modelLoads, output));
    if (decodeAhead != null) b.append(String.format(Locale.ROOT, "  decode-ahead: %s%n", decodeAhead));
    if (stepsSeconds != null && !stepsSeconds.isEmpty()) {
      b.append("  time:");
      String sep = " ";
      for (Map.Entry<String, Double> e : stepsSeconds.entrySet()) {
        b.append(String.format(Locale.ROOT, "%s%s %.2f s", sep, e.getKey().replace('_', ' '), e.getValue()));
        sep = ", ";
      }
      b.append(System.lineSeparator());
    }
    b.append(String.format(Locale.ROOT, "  report %s%n", reportPath()));
    return b.toString();
  }

  /** Key of {@link #incremental()} that is true when the run replaced a date's existing partition. */
  public static final String RERUN = "rerun_of_date";

  /** Where the run's HTML report is written: {@code <output>/_runs/<run_id>.html}. */
  public String reportPath() {
    return new Path(new Path(output, "_runs"), runId + ".html").toString();
  }

  /** {@code s3a://key:secret@bucket/x} becomes {@code s3a://bucket/x}. */
  public static String redact(String uri) {
    return io.postergenres.errors.Redaction.redact(uri);
  }
}
