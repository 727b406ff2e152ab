package io.postergenres.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The human-readable report of one run, {@code _runs/<run_id>.html}: the genre distribution as a
 * bar chart, failures with their reasons, throughput, and the same figures of the previous run
 * beside them. Self-contained HTML with inline SVG: it opens from any file browser or object store
 * console, with no network. Driver-only.
 */
public final class RunReport {
  private static final int MAX_FAILURES_LISTED = 200;

  private RunReport() {}

  /**
   * Writes the report of {@code summary}, whose rows are {@code rows}, next to its JSON summary.
   *
   * @return the report's path
   */
  public static Path write(String outputDir, RunSummary summary, Dataset<Row> rows, Configuration conf) throws IOException {
    return write(outputDir, summary, previous(outputDir, summary.startedAt(), conf), rows, conf);
  }

  /**
   * As {@link #write(String, RunSummary, Dataset, Configuration)}, comparing with {@code previous}
   * (may be null), read by the caller before the run: {@code --mode overwrite} deletes {@code _runs}
   * with the rest of the output.
   */
  public static Path write(String outputDir, RunSummary summary, RunSummary previous, Dataset<Row> rows, Configuration conf)
      throws IOException {
    Map<String, Long> genres = new LinkedHashMap<>();
    for (Row r : rows.where(col(OutputSchema.ERROR_KIND).isNull()).select(explode(col(OutputSchema.GENRES)).as("g"))
        .groupBy("g").count().collectAsList()) {
      genres.put(r.getString(0), r.getLong(1));
    }
    return write(outputDir, summary, previous, genres, () -> rows, conf);
  }

  /**
   * As {@link #write(String, RunSummary, RunSummary, Dataset, Configuration)}, with the labelled
   * posters per genre counted by the caller: {@code rows} is then read only to list failures, and
   * only when the run had any.
   */
  public static Path write(String outputDir, RunSummary summary, RunSummary previous, Map<String, Long> labelledByGenre,
      Supplier<Dataset<Row>> rows, Configuration conf) throws IOException {
    Path runs = new Path(outputDir, "_runs");
    FileSystem fs = runs.getFileSystem(conf);
    Map<String, Long> genres = new LinkedHashMap<>();
    labelledByGenre.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .forEach(e -> genres.put(e.getKey(), e.getValue()));
    List<Row> failures = summary.failed() == 0 ? List.of() : rows.get().where(col(OutputSchema.ERROR_KIND).isNotNull())
        .select(OutputSchema.PATH, OutputSchema.ERROR_KIND, OutputSchema.ERROR).orderBy(OutputSchema.ERROR_KIND, OutputSchema.PATH)
        .limit(MAX_FAILURES_LISTED).collectAsList();
    Path path = new Path(runs, summary.runId() + ".html");
    try (OutputStream out = fs.create(path, true)) {
      out.write(html(summary, previous, genres, failures).getBytes(StandardCharsets.UTF_8));
    }
    return path;
  }

  /** The latest run summary under {@code <outputDir>/_runs} started before {@code startedAt}, or null (never fails a run). */
  public static RunSummary previous(String outputDir, String startedAt, Configuration conf) {
    Path runs = new Path(outputDir, "_runs");
    try {
      return previous(runs.getFileSystem(conf), runs, startedAt);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The latest run summary started before {@code startedAt}, or null. A summary is named by its run
   * id, which begins with its start time to the second ({@link RunSetup#newRunId}): summaries are
   * read newest name first, and reading stops at names a whole second older than the best found so
   * far, which cannot have started later. A nightly output's hundreds of summaries then cost one
   * listing and a read or two, not a read each (on an object store, a request each). Names of
   * another form are all read.
   */
  static RunSummary previous(FileSystem fs, Path runs, String startedAt) throws IOException {
    if (!fs.exists(runs)) return null;
    String before = secondOf(startedAt);
    List<FileStatus> named = new ArrayList<>();
    List<FileStatus> others = new ArrayList<>();
    for (FileStatus st : fs.listStatus(runs, p -> p.getName().endsWith(".json"))) {
      String second = nameSecond(st.getPath().getName());
      if (second == null || before == null) {
        others.add(st);
      } else if (second.compareTo(before) <= 0) {
        named.add(st); // a name of a later second started after startedAt
      }
    }
    named.sort(Comparator.comparing((FileStatus st) -> st.getPath().getName()).reversed());
    RunSummary best = null;
    for (FileStatus st : others) best = later(best, read(fs, st), startedAt);
    for (FileStatus st : named) {
      if (best != null && secondOf(best.startedAt()) != null
          && nameSecond(st.getPath().getName()).compareTo(secondOf(best.startedAt())) < 0) {
        break;
      }
      best = later(best, read(fs, st), startedAt);
    }
    return best;
  }

  private static final java.util.regex.Pattern RUN_ID_NAME = java.util.regex.Pattern.compile("([0-9]{8}T[0-9]{6}Z)-.*\\.json");
  private static final DateTimeFormatter RUN_ID_SECOND =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** {@code 20261130T022939Z} of a summary named {@code 20261130T022939Z-1a2b3c4d.json}, or null. */
  private static String nameSecond(String name) {
    java.util.regex.Matcher m = RUN_ID_NAME.matcher(name);
    return m.matches() ? m.group(1) : null;
  }

  /** An instant's second as run ids spell it, or null when {@code instant} is not one. */
  private static String secondOf(String instant) {
    try {
      return RUN_ID_SECOND.format(Instant.parse(instant));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static RunSummary read(FileSystem fs, FileStatus st) {
    try (InputStream in = fs.open(st.getPath())) {
      return RunSummary.fromJson(in.readAllBytes());
    } catch (IOException e) {
      return null;
    }
  }

  /** {@code candidate} if it started before {@code startedAt} and after {@code best}, else {@code best}. */
  private static RunSummary later(RunSummary best, RunSummary candidate, String startedAt) {
    if (candidate == null || candidate.startedAt().compareTo(startedAt) >= 0) return best;
    return best == null || candidate.startedAt().compareTo(best.startedAt()) > 0 ? candidate : best;
  }

  static String html(RunSummary s, RunSummary prev, Map<String, Long> genres, List<Row> failures) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>poster-genres run ")
        .append(esc(s.runId())).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1d1d1f}")
        .append("table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}")
        .append("td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.good{color:#1a7f37}.bad{color:#b00020}.change{color:#555}")
        .append("</style></head><body>");
    b.append("<h1>Run ").append(esc(s.runId())).append("</h1>");
    b.append("<p>Model <b>").append(esc(s.modelName())).append(' ').append(esc(s.modelVersion())).append("</b> &middot; output ")
        .append(esc(s.output())).append(" &middot; started ").append(esc(readableTime(s.startedAt()))).append("</p>");

    b.append("<h2>Summary</h2><table><tr><th></th><th class=n>this run</th><th class=n>previous run</th></tr>");
    row(b, "files listed", s.filesListed(), prev == null ? null : (double) prev.filesListed(), "%.0f", Better.NEITHER);
    row(b, "rows written", s.rowsWritten(), prev == null ? null : (double) prev.rowsWritten(), "%.0f", Better.NEITHER);
    row(b, "labelled", s.labelled(), prev == null ? null : (double) prev.labelled(), "%.0f", Better.NEITHER);
    row(b, "failed", s.failed(), prev == null ? null : (double) prev.failed(), "%.0f", Better.LOWER);
    row(b, "posters per second", s.postersPerSecond(), prev == null ? null : prev.postersPerSecond(), "%.1f", Better.HIGHER);
    row(b, "duration (s)", s.durationSeconds(), prev == null ? null : prev.durationSeconds(), "%.1f", Better.LOWER);
    b.append("</table>");
    if (s.incremental() != null) {
      b.append("<h2>What changed since the previous runs</h2><table>");
      s.incremental().forEach((k, v) -> b.append("<tr><td>").append(esc(k.replace('_', ' '))).append("</td><td class=n>")
          .append(esc(String.valueOf(v))).append("</td></tr>"));
      b.append("</table>");
    }

    b.append("<h2>Genres assigned in this run</h2>");
    b.append(genres.isEmpty() ? "<p>No poster was labelled in this run.</p>" : bars(genres, "#2f6fde"));
    if (!s.failedByKind().isEmpty()) {
      b.append("<h2>Failures by kind</h2>").append(bars(s.failedByKind(), "#b00020"));
      b.append("<h2>Failed posters</h2><table><tr><th>path</th><th>kind</th><th>reason</th></tr>");
      for (Row f : failures) {
        b.append("<tr><td>").append(esc(f.getString(0))).append("</td><td>").append(esc(f.getString(1)))
            .append("</td><td>").append(esc(f.isNullAt(2) ? "" : f.getString(2))).append("</td></tr>");
      }
      b.append("</table>");
      if (s.failed() > failures.size()) {
        b.append("<p>").append(s.failed() - failures.size()).append(" more; query the error_kind column for all of them.</p>");
      }
    }
    return b.append("</body></html>\n").toString();
  }

  /** Which way a figure should move: its change is green that way, red the other, plain for counts. */
  enum Better { HIGHER, LOWER, NEITHER }

  /** One figure: this run's value with its change since the previous run beside it, then the previous value. */
  static void row(StringBuilder b, String name, double now, Double before, String fmt, Better better) {
    b.append("<tr><td>").append(name).append("</td><td class=n>").append(String.format(Locale.ROOT, fmt, now));
    if (before != null && before != 0 && now != before) {
      double pct = 100 * (now - before) / before;
      String cls = better == Better.NEITHER ? "change" : (pct > 0) == (better == Better.HIGHER) ? "good" : "bad";
      b.append(String.format(Locale.ROOT, " <span class=%s>(%+.0f%%)</span>", cls, pct));
    }
    b.append("</td><td class=n>").append(before == null ? "&ndash;" : String.format(Locale.ROOT, fmt, before)).append("</td></tr>");
  }

  /** {@code 2026-11-26T11:55:37.123456789Z} as {@code 2026-11-26 11:55:37 UTC}; anything else unchanged. */
  static String readableTime(String instant) {
    try {
      return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC)
          .format(Instant.parse(instant));
    } catch (DateTimeParseException e) {
      return instant;
    }
  }

  /** A horizontal bar chart as inline SVG. */
  static String bars(Map<String, Long> values, String colour) {
    long max = values.values().stream().mapToLong(Long::longValue).max().orElse(1);
    int rowHeight = 22;
    int labelWidth = 160;
    int width = 640;
    List<Map.Entry<String, Long>> entries = new ArrayList<>(values.entrySet());
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "<svg role=\"img\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">",
        width, entries.size() * rowHeight + 4));
    for (int i = 0; i < entries.size(); i++) {
      Map.Entry<String, Long> e = entries.get(i);
      int y = i * rowHeight + 2;
      int w = (int) Math.max(1, Math.round((width - labelWidth - 60) * (double) e.getValue() / Math.max(1, max)));
      b.append(String.format(Locale.ROOT,
          "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"13\">%s</text>"
              + "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s: %d</title></rect>"
              + "<text x=\"%d\" y=\"%d\" font-size=\"12\">%d</text>",
          labelWidth - 8, y + 15, esc(e.getKey()), labelWidth, y + 3, w, rowHeight - 6, colour, esc(e.getKey()), e.getValue(),
          labelWidth + w + 6, y + 15, e.getValue()));
    }
    return b.append("</svg>").toString();
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
