package io.postergenres.job.incremental;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.SparkTestBase;
import io.postergenres.job.WriteMode;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nightly runs over a catalogue that changes between them. */
class IncrementalJobTest extends SparkTestBase {
  @TempDir static Path tmp;
  static Path model;
  static final LocalDate DAY1 = LocalDate.of(2026, 11, 1);
  static final LocalDate DAY2 = LocalDate.of(2026, 11, 2);
  static final LocalDate DAY3 = LocalDate.of(2026, 11, 3);

  @BeforeAll
  static void model() throws Exception {
    model = TestModels.write(tmp.resolve("model"), 32, 24, 13);
  }

  static void poster(Path file, int shade) throws Exception {
    Files.createDirectories(file.getParent());
    Files.write(file, TestImages.jpeg(TestImages.solid(60, 90, new Color(shade, 255 - shade, (shade * 7) % 256)), false));
  }

  static RunSummary run(Path in, Path out, LocalDate date, int maxAttempts) {
    LabelRequest request = new LabelRequest(List.of(in.toString()), out.toString(), model.toString(),
        "*.{jpg,jpeg,png,gif,bmp}", WriteMode.ERROR, 3, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    return new IncrementalJob(spark).run(request, new IncrementalJob.Settings(date, maxAttempts, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
  }

  static Map<String, Row> byName(List<Row> rows) {
    return rows.stream().collect(Collectors.toMap(r -> Path.of(URI.create(r.<String>getAs("path")).getPath()).getFileName().toString(), r -> r));
  }

  static List<Row> partition(Path out, LocalDate date) {
    return spark.read().parquet(out.resolve("labels").resolve("run_date=" + date).toString()).collectAsList();
  }

  /**
   * The summary's counts are the rows the run wrote, read back: rows, labelled, failed by kind,
   * reused by content, and the report's genre chart (the job counts them as it writes, RowCounts).
   */
  static void assertCountsAreTheOutput(RunSummary s, Path out, LocalDate date) throws Exception {
    Path part = out.resolve("labels").resolve("run_date=" + date);
    boolean anyFile;
    try (var files = Files.list(part)) {
      anyFile = files.anyMatch(f -> f.getFileName().toString().endsWith(".parquet"));
    }
    List<Row> rows = !anyFile ? List.of() : spark.read().parquet(part.toString())
        .where(org.apache.spark.sql.functions.col("run_id").equalTo(s.runId())).collectAsList();
    assertEquals(rows.size(), s.rowsWritten(), "rows written");
    assertEquals(rows.stream().filter(r -> r.isNullAt(r.fieldIndex("error_kind"))).count(), s.labelled(), "labelled");
    Map<String, Long> kinds = new HashMap<>();
    Map<String, Long> genres = new HashMap<>();
    long reused = 0;
    for (Row r : rows) {
      if (!r.isNullAt(r.fieldIndex("error_kind"))) {
        kinds.merge(r.getAs("error_kind"), 1L, Long::sum);
        continue;
      }
      if (!r.isNullAt(r.fieldIndex("reused_from"))) reused++;
      for (Object g : r.getList(r.fieldIndex("genres"))) genres.merge((String) g, 1L, Long::sum);
    }
    assertEquals(kinds, s.failedByKind(), "failed by kind");
    assertEquals(rows.size() - s.labelled(), s.failed());
    assertEquals(reused, s.incremental().get("reused_by_content"), "reused by content");
    long redecided = ((Number) s.incremental().getOrDefault(IncrementalJob.NEW_THRESHOLDS, 0L)).longValue();
    assertEquals(s.labelled() - reused - redecided, s.incremental().get("labelled_by_model"));
    String report = Files.readString(out.resolve("_runs").resolve(s.runId() + ".html"));
    genres.forEach((g, n) -> assertTrue(report.contains("<title>" + g + ": " + n + "</title>"), g + ": " + n + " in " + report));
    assertEquals(genres.size() + kinds.size(), report.split("<title>", -1).length - 2,
        "one bar per genre and per failure kind (plus the page's title): " + report);
  }

  static List<Row> current(Path out) {
    return spark.read().parquet(out.resolve("current").toString()).collectAsList();
  }

  @Test
  void dayTwoLabelsOnlyWhatIsNewOrChangedAndReRunsAreIdempotent() throws Exception {
    Path in = tmp.resolve("catalogue");
    Path out = tmp.resolve("nightly");
    for (int i = 0; i < 6; i++) poster(in.resolve("a" + i + ".jpg"), 20 * i);
    RunSummary day1 = run(in, out, DAY1, 3);
    assertEquals(6, day1.labelled());
    assertEquals(6L, day1.incremental().get("new"));
    assertEquals(6, partition(out, DAY1).size());
    assertCountsAreTheOutput(day1, out, DAY1);

    // Day 2: k = 3 new, a1 changed, a2 renamed to moved.jpg, a3 deleted.
    for (int i = 0; i < 3; i++) poster(in.resolve("new" + i + ".jpg"), 200 + i);
    poster(in.resolve("a1.jpg"), 99);
    Files.setLastModifiedTime(in.resolve("a1.jpg"), FileTime.from(Instant.now().plusSeconds(60)));
    Files.move(in.resolve("a2.jpg"), in.resolve("moved.jpg"));
    Files.delete(in.resolve("a3.jpg"));
    RunSummary day2 = run(in, out, DAY2, 3);
    Map<String, Object> inc = day2.incremental();
    assertEquals(4L, inc.get("new"), "3 new files and the renamed one are new paths");
    assertEquals(1L, inc.get("changed"));
    assertEquals(3L, inc.get("unchanged"));
    assertEquals(2L, inc.get("deleted"), "a2 (renamed away) and a3");
    assertEquals(List.of("new", "changed", "new_model", IncrementalJob.NEW_THRESHOLDS, "retry", "unchanged", "given_up", "run_date", RunSummary.RERUN, "deleted",
        "reused_by_content", "labelled_by_model", "listing_seconds", "max_attempts"), List.copyOf(inc.keySet()));
    assertEquals(4L, inc.get("labelled_by_model"), "k + 1 posters went through the model");
    assertEquals(1L, inc.get("reused_by_content"), "the renamed poster reused its labels");
    Map<String, Row> d2 = byName(partition(out, DAY2));
    assertEquals(5, d2.size());
    Row moved = d2.get("moved.jpg");
    assertTrue(moved.<String>getAs("reused_from").endsWith("/a2.jpg"));
    Map<String, Row> d1 = byName(partition(out, DAY1));
    assertEquals(d1.get("a2.jpg").<Object>getAs("scores"), moved.<Object>getAs("scores"));
    assertCountsAreTheOutput(day2, out, DAY2);
    // the steps of a day-2 run, timed, in the order they ran; decode-ahead decided for local[2]
    assertEquals(List.of("checks", "model_read", "lock_and_recover", "listing", "plan", "reuse", "label_and_write", "publish", "report"),
        List.copyOf(day2.stepsSeconds().keySet()));
    RunSummary stored = RunSummary.fromJson(Files.readAllBytes(out.resolve("_runs").resolve(day2.runId() + ".json")));
    assertEquals(day2.stepsSeconds(), stored.stepsSeconds());
    assertEquals("off (2 cores)", stored.decodeAhead());

    String report = Files.readString(out.resolve("_runs").resolve(day2.runId() + ".html"));
    assertTrue(report.contains("<svg") && report.contains("Genres assigned in this run"), "genre chart");
    assertTrue(report.contains("labelled by model"), "what changed");
    assertTrue(report.contains("<td class=n>8 <span class=change>(+33%)</span></td><td class=n>6</td>"),
        "the change beside day 2's figure, day 1's after it: " + report);
    assertFalse(report.matches("(?s).*started [^<]*\\.[0-9]{4,}.*"), "start time to the second: " + report);
    assertEquals(Boolean.FALSE, day2.incremental().get(RunSummary.RERUN));
    assertFalse(day2.toText().contains("a re-run"), day2.toText());

    Map<String, Row> now = byName(current(out));
    assertEquals(Set.of("a0.jpg", "a1.jpg", "a4.jpg", "a5.jpg", "moved.jpg", "new0.jpg", "new1.jpg", "new2.jpg"), now.keySet());
    assertEquals(d2.get("a1.jpg").<Object>getAs("sha256"), now.get("a1.jpg").<Object>getAs("sha256"), "current has the changed file's new labels");

    // Re-running day 2 reproduces it: same posters, same labels, no duplicates.
    RunSummary again = run(in, out, DAY2, 3);
    assertEquals(Boolean.TRUE, again.incremental().get(RunSummary.RERUN));
    assertTrue(again.toText().contains("a re-run of " + DAY2 + ": that date's partition was replaced"), again.toText());
    assertEquals(day2.incremental().get("labelled_by_model"), again.incremental().get("labelled_by_model"));
    assertCountsAreTheOutput(again, out, DAY2);
    Map<String, Row> d2again = byName(partition(out, DAY2));
    assertEquals(d2.keySet(), d2again.keySet());
    for (String k : d2.keySet()) {
      assertEquals(d2.get(k).<Object>getAs("scores"), d2again.get(k).<Object>getAs("scores"), k);
      assertEquals(d2.get(k).<Object>getAs("sha256"), d2again.get(k).<Object>getAs("sha256"), k);
    }
    assertEquals(8, current(out).size());
    assertEquals(11, spark.read().parquet(out.resolve("labels").toString()).count(), "6 on day 1 + 5 on day 2, nothing twice");

    // Day 3 with nothing new labels nothing and keeps the state.
    RunSummary day3 = run(in, out, DAY3, 3);
    assertEquals(0, day3.rowsWritten());
    assertCountsAreTheOutput(day3, out, DAY3);
    assertEquals(8L, day3.incremental().get("unchanged"));
    assertEquals(2L, day3.incremental().get("deleted"), "the ledger's paths not listed: a2 and a3, gone since day 2");
    assertEquals(8, current(out).size());
  }

  /** The same catalogue as an inventory (CSV of path, length, modification_time) instead of a listing. */
  static RunSummary runFromInventory(Path list, Path out, LocalDate date) {
    LabelRequest request = new LabelRequest(List.of(), out.toString(), model.toString(),
        "*.{jpg,jpeg,png,gif,bmp}", WriteMode.ERROR, 3, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)), List.of(list.toString()));
    return new IncrementalJob(spark).run(request, new IncrementalJob.Settings(date, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
  }

  static Path inventory(Path in, Path list, String... extraRows) throws Exception {
    StringBuilder csv = new StringBuilder("path,length,modification_time\n");
    try (var files = Files.list(in)) {
      for (Path f : files.sorted().toList()) {
        csv.append(f).append(',').append(Files.size(f)).append(',')
            .append(Instant.ofEpochMilli(Files.getLastModifiedTime(f).toMillis())).append('\n');
      }
    }
    for (String row : extraRows) csv.append(row).append('\n');
    Files.writeString(list, csv);
    return list;
  }

  @Test
  void anInventoryDecidesByItsSizeAndTimeExactlyAsTheListingDoes() throws Exception {
    Path in = tmp.resolve("inv-catalogue");
    Path out = tmp.resolve("inv-nightly");
    for (int i = 0; i < 4; i++) poster(in.resolve("i" + i + ".jpg"), 40 * i);
    assertEquals(4L, run(in, out, DAY1, 3).incremental().get("new"));

    // Day 2 from an inventory of the same files: nothing to do, and no listing of the input.
    RunSummary day2 = runFromInventory(inventory(in, tmp.resolve("day2.csv")), out, DAY2);
    assertEquals(4L, day2.incremental().get("unchanged"), "the inventory's size and time match the listing's");
    assertEquals(0, day2.rowsWritten());
    assertEquals(4, day2.filesListed());

    // Day 3: one file changed (its inventory length), one new, one gone from the inventory, one row twice.
    Path list = inventory(in, tmp.resolve("day3.csv"), in.resolve("i0.jpg") + ",1," + Instant.parse("2026-11-02T00:00:00Z"),
        in.resolve("later.jpg") + ",999," + Instant.parse("2026-11-02T00:00:00Z"));
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(list));
    lines.removeIf(l -> l.startsWith(in.resolve("i0.jpg") + ",") && !l.contains(",1,"));
    lines.removeIf(l -> l.startsWith(in.resolve("i3.jpg").toString()));
    lines.add(lines.get(2));
    Files.write(list, lines);
    RunSummary day3 = runFromInventory(list, out, DAY3);
    Map<String, Object> inc = day3.incremental();
    assertEquals(1L, inc.get("changed"));
    assertEquals(1L, inc.get("new"));
    assertEquals(2L, inc.get("unchanged"));
    assertEquals(1L, inc.get("deleted"));
    assertEquals(4, day3.filesListed(), "the repeated row counts once");
    Map<String, Row> d3 = byName(partition(out, DAY3));
    assertEquals("not_found", d3.get("later.jpg").getAs("error_kind"), "a row whose file is missing gets a not_found row");
    assertNull(d3.get("i0.jpg").getAs("error_kind"), "the changed file is labelled again");
    assertCountsAreTheOutput(day3, out, DAY3);
    assertEquals(Set.of("i0.jpg", "i1.jpg", "i2.jpg", "later.jpg"), byName(current(out)).keySet());
  }

  @Test
  void aFailedPosterIsRetriedThenGivenUp() throws Exception {
    Path in = tmp.resolve("retry-in");
    Path out = tmp.resolve("retry-out");
    poster(in.resolve("ok.jpg"), 10);
    Files.writeString(in.resolve("bad.jpg"), "not an image");
    RunSummary d1 = run(in, out, DAY1, 2);
    assertEquals(1, d1.failed());
    RunSummary d2 = run(in, out, DAY2, 2);
    assertEquals(1L, d2.incremental().get("retry"));
    assertCountsAreTheOutput(d2, out, DAY2);
    Row retried = byName(partition(out, DAY2)).get("bad.jpg");
    assertEquals(2, retried.<Integer>getAs("attempts"));
    assertEquals("unsupported_format", retried.getAs("error_kind"));
    String report = Files.readString(out.resolve("_runs").resolve(d2.runId() + ".html"));
    assertTrue(report.contains("bad.jpg") && report.contains("not a supported poster format"), "failures listed with reasons");
    RunSummary d3 = run(in, out, DAY3, 2);
    assertEquals(1L, d3.incremental().get("given_up"));
    assertEquals(0, d3.rowsWritten());
    assertEquals("unsupported_format", byName(current(out)).get("bad.jpg").getAs("error_kind"));
  }

  @Test
  void lockRefusesAConcurrentRunAndExpiresAStaleOne() throws Exception {
    Path in = tmp.resolve("lock-in");
    Path out = tmp.resolve("lock-out");
    poster(in.resolve("p.jpg"), 50);
    try (RunLock held = RunLock.acquire(out.toString(), "other-run", Duration.ofMinutes(5), new Configuration())) {
      PosterGenresException e = assertThrows(PosterGenresException.class, () -> run(in, out, DAY1, 3));
      assertEquals(Failure.LOCK_HELD, e.failure());
      assertTrue(e.getMessage().contains("other-run"), e.getMessage());
    }
    // A run that died: its lock expired long ago, and it left half-written staging files.
    Files.writeString(out.resolve("_lock"),
        "{\"run_id\":\"dead-run\",\"host\":\"h\",\"started_at\":\"2026-01-01T00:00:00Z\",\"expires_at\":\"2026-01-01T00:10:00Z\"}");
    Path junk = out.resolve("_staging/dead-run/run_date=2026-11-01/part-00000.parquet");
    Files.createDirectories(junk.getParent());
    Files.writeString(junk, "half a file");
    RunSummary s = run(in, out, DAY1, 3);
    assertEquals(1, s.labelled());
    assertFalse(Files.exists(out.resolve("_staging/dead-run")), "leftovers of the dead run are cleaned");
    assertFalse(Files.exists(out.resolve("_lock")), "lock released");
    assertEquals(1, partition(out, DAY1).size());
  }

  @Test
  void thresholdsChosenAgainDecideTheGenresFromTheStoredScoresWithoutTheModel() throws Exception {
    Path in = tmp.resolve("rule-in");
    Path out = tmp.resolve("rule-out");
    for (int i = 0; i < 4; i++) poster(in.resolve("r" + i + ".jpg"), 40 * i);
    Files.write(in.resolve("r-broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3});
    run(in, out, DAY1, 3);
    Map<String, Row> before = byName(current(out));

    // The same network with other thresholds and rules, as 'calibrate' writes it.
    Path recalibrated = tmp.resolve("model-recalibrated");
    io.postergenres.model.ModelSpec spec = TestModels.recalibrated(model, recalibrated, 0.05, 4);
    LabelRequest request = new LabelRequest(List.of(in.toString()), out.toString(), recalibrated.toString(), "*.jpg", WriteMode.ERROR, 2, 1.0,
        Map.of(), null, null, new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary s = new IncrementalJob(spark).run(request,
        new IncrementalJob.Settings(DAY2, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
    assertEquals(4L, s.incremental().get(IncrementalJob.NEW_THRESHOLDS), s.incremental().toString());
    assertEquals(1L, s.incremental().get("new_model"), "the poster that failed is tried again by the model");
    assertEquals(0L, s.incremental().get("labelled_by_model"));
    assertCountsAreTheOutput(s, out, DAY2);
    Map<String, Row> after = byName(current(out));
    io.postergenres.model.GenreRules rules = io.postergenres.model.GenreRules.of(spec);
    for (int i = 0; i < 4; i++) {
      Row was = before.get("r" + i + ".jpg");
      Row now = after.get("r" + i + ".jpg");
      assertEquals(spec.version(), now.getAs("model_version"));
      assertEquals(was.getMap(was.fieldIndex("scores")), now.getMap(now.fieldIndex("scores")), "the scores are kept");
      Map<String, Float> scores = scala.jdk.javaapi.CollectionConverters.asJava(now.<scala.collection.Map<String, Float>>getAs("scores"));
      float[] v = new float[spec.genres().size()];
      for (int j = 0; j < v.length; j++) v[j] = scores.get(spec.genres().get(j));
      assertEquals(rules.assign(v, 0), now.getList(now.fieldIndex("genres")), "genres by the new rules");
      assertEquals(was.<String>getAs("sha256"), now.getAs("sha256"));
    }
    assertTrue(after.values().stream().anyMatch(r -> !r.isNullAt(r.fieldIndex("genres")) && r.getList(r.fieldIndex("genres")).size() == 4),
        "the new rules are applied: up to 4 genres");
    assertEquals("corrupt", after.get("r-broken.jpg").getAs("error_kind"));

    RunSummary again = new IncrementalJob(spark).run(request,
        new IncrementalJob.Settings(DAY3, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
    assertEquals(0L, again.incremental().get(IncrementalJob.NEW_THRESHOLDS));
    assertEquals(4L, again.incremental().get("unchanged"));
  }

  @Test
  void newModelVersionRelabelsEverything() throws Exception {
    Path in = tmp.resolve("model-in");
    Path out = tmp.resolve("model-out");
    for (int i = 0; i < 3; i++) poster(in.resolve("m" + i + ".jpg"), 30 * i);
    run(in, out, DAY1, 3);
    Path newer = TestModels.write(tmp.resolve("model-v2"), 32, 24, 14);
    LabelRequest request = new LabelRequest(List.of(in.toString()), out.toString(), newer.toString(),
        "*.jpg", WriteMode.ERROR, 2, 1.0, Map.of(), null, null, new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary s = new IncrementalJob(spark).run(request,
        new IncrementalJob.Settings(DAY2, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
    assertEquals(3L, s.incremental().get("new_model"));
    Map<String, Long> versions = new HashMap<>();
    for (Row r : current(out)) versions.merge(r.getAs("model_version"), 1L, Long::sum);
    assertEquals(Map.of("seed-14", 3L), versions);
  }

  @Test
  void readingTextIsAnotherModelForTheNightlyRun() throws Exception {
    // the shipped default model, with and without its text stage (models/mobilenet-poster/text)
    Path in = tmp.resolve("text-in");
    Path out = tmp.resolve("text-out");
    Files.createDirectories(in);
    for (String name : List.of("night-chase.jpg", "summer-love.jpg", "old-town-noir.jpg")) {
      Files.copy(Path.of("src", "samples", "posters", name), in.resolve(name));
    }
    java.util.function.BiFunction<LocalDate, Boolean, RunSummary> night = (date, text) -> new IncrementalJob(spark).run(
        new LabelRequest(List.of(in.toString()), out.toString(), "models/mobilenet-poster", "*.jpg", WriteMode.ERROR, 2, 1.0, Map.of(), null,
            null, new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0), LabelOptions.DecodeAhead.AUTO, text)),
        new IncrementalJob.Settings(date, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
    night.apply(DAY1, false);
    RunSummary withText = night.apply(DAY2, true);
    assertEquals(3L, withText.incremental().get("new_model"), "labels of the image model alone are relabelled with the text");
    Map<String, Long> versions = new HashMap<>();
    for (Row r : current(out)) versions.merge(r.getAs("model_version"), 1L, Long::sum);
    String shipped = io.postergenres.model.ModelPackage.read("models/mobilenet-poster", new org.apache.hadoop.conf.Configuration())
        .withTextStage().spec().version();
    assertTrue(shipped.contains("+text-"), shipped);
    assertEquals(Map.of(shipped, 3L), versions);
    RunSummary again = night.apply(DAY3, true);
    assertEquals(3L, again.incremental().get("unchanged"), "the next night with the text has nothing new to label");
    assertEquals(0L, again.labelled());
  }
}
