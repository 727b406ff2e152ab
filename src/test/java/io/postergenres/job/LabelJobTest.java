package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.ErrorKind;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

class LabelJobTest extends SparkTestBase {
  @TempDir static Path tmp;
  static Path modelDir;

  @BeforeAll
  static void model() throws Exception {
    modelDir = TestModels.write(tmp.resolve("model"), 32, 24, 7);
  }

  private static LabelRequest request(Path input, Path output, int partitions, int batchSize) {
    return new LabelRequest(List.of(input.toString()), output.toString(), modelDir.toString(),
        "*.{jpg,jpeg,png,gif,bmp}", WriteMode.ERROR, partitions, 0.5, Map.of(), null, null,
        new LabelOptions(batchSize, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
  }

  private static String relative(Path root, String uri) {
    String p = java.net.URI.create(uri).getPath();
    return p.substring(root.toAbsolutePath().toString().length() + 1);
  }

  @Test
  void everyFileGetsExactlyOneCorrectRow() throws Exception {
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("posters"), 12);
    Path doomed = fx.addDoomed("2004/deleted.jpg");
    Path out = tmp.resolve("labels");
    RunSummary summary = new LabelJob(spark).run(request(fx.root, out, 5, 4), () -> {
      try {
        Files.delete(doomed); // listed by the driver, gone before an executor reads it
      } catch (java.io.IOException e) {
        throw new RuntimeException(e);
      }
    });

    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    assertEquals(fx.expected.size(), rows.size(), "one row per listed file");
    Set<String> seen = new HashSet<>();
    ModelPackage pkg = ModelPackage.read(modelDir.toString(), new org.apache.hadoop.conf.Configuration());
    Preprocessor pre = new Preprocessor(32, 24, 50_000_000);
    try (PosterModel direct = PosterModel.load(modelDir, pkg.spec(), 1, 1)) {
      for (Row r : rows) {
        String name = relative(fx.root, r.getAs(OutputSchema.PATH));
        assertTrue(seen.add(name), "duplicate row for " + name);
        assertTrue(fx.expected.containsKey(name), "unexpected file in output: " + name);
        ErrorKind want = fx.expected.get(name);
        assertEquals("test-model", r.getAs(OutputSchema.MODEL_NAME));
        assertEquals("seed-7", r.getAs(OutputSchema.MODEL_VERSION));
        assertEquals(summary.runId(), r.getAs(OutputSchema.RUN_ID));
        assertNotNull(r.getAs(OutputSchema.LABELLED_AT));
        if (want == null) {
          assertNull(r.getAs(OutputSchema.ERROR_KIND), name + ": " + r.getAs(OutputSchema.ERROR));
          byte[] bytes = Files.readAllBytes(fx.root.resolve(name));
          assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), r.getAs(OutputSchema.SHA256));
          assertEquals((long) bytes.length, (long) r.<Long>getAs(OutputSchema.LENGTH));
          Map<String, Float> scores = CollectionConverters.asJava(r.<scala.collection.Map<String, Float>>getAs(OutputSchema.SCORES));
          assertEquals(Set.copyOf(TestModels.GENRES), scores.keySet());
          float[] expectedScores = direct.predict(pre.preprocess(bytes), 1);
          for (int g = 0; g < TestModels.GENRES.size(); g++) {
            assertEquals(expectedScores[g], scores.get(TestModels.GENRES.get(g)), 1e-5f, name + " " + TestModels.GENRES.get(g));
          }
          List<String> genres = r.getList(r.fieldIndex(OutputSchema.GENRES));
          assertFalse(genres.isEmpty(), "min_genres is 1");
          assertTrue(genres.size() <= 3, "max_genres is 3");
          for (int i = 1; i < genres.size(); i++) {
            assertTrue(scores.get(genres.get(i - 1)) >= scores.get(genres.get(i)), "genres ordered by score");
          }
          assertNull(r.getAs(OutputSchema.ERROR));
        } else {
          assertEquals(want.columnValue(), r.getAs(OutputSchema.ERROR_KIND), name + ": " + r.getAs(OutputSchema.ERROR));
          assertNotNull(r.getAs(OutputSchema.ERROR));
          assertNull(r.getAs(OutputSchema.GENRES));
          assertNull(r.getAs(OutputSchema.SCORES));
        }
      }
    }
    assertFalse(seen.contains("bad/notes.txt"));

    assertEquals(fx.expected.size(), summary.filesListed());
    assertEquals(fx.goodCount(), summary.labelled());
    assertEquals(fx.expected.size() - fx.goodCount(), summary.failed());
    assertEquals(1L, summary.failedByKind().get("not_found"));
    assertEquals(2L, summary.skippedByScan(), "Spark's scan skips the empty file and the deleted one");
    Map<String, Long> kinds = new HashMap<>();
    fx.expected.values().stream().filter(k -> k != null).forEach(k -> kinds.merge(k.columnValue(), 1L, Long::sum));
    assertEquals(kinds, summary.failedByKind());

    Path summaryFile = out.resolve("_runs").resolve(summary.runId() + ".json");
    RunSummary stored = RunSummary.fromJson(Files.readAllBytes(summaryFile));
    assertEquals(summary.labelled(), stored.labelled());
    assertEquals(summary.failedByKind(), stored.failedByKind());
    // The steps of the run, timed, in the order they ran (leftovers because the scan skipped two files).
    assertEquals(List.of("checks", "model_read", "listing", "broadcast", "label_and_write", "count", "leftovers", "report"),
        List.copyOf(stored.stepsSeconds().keySet()));
    stored.stepsSeconds().values().forEach(v -> assertTrue(v >= 0, stored.stepsSeconds().toString()));
    assertTrue(summary.toText().contains("time: checks "), summary.toText());
    // decode-ahead auto, decided once for local[2]: off, and the summary says why
    assertEquals("off (2 cores)", stored.decodeAhead());
    assertTrue(summary.toText().contains("decode-ahead: off (2 cores)"), summary.toText());
    // The report's genre chart, counted while writing (RowCounts), matches the output read back.
    String report = Files.readString(out.resolve("_runs").resolve(summary.runId() + ".html"));
    for (Row r : spark.read().parquet(out.toString()).where(org.apache.spark.sql.functions.col(OutputSchema.ERROR_KIND).isNull())
        .select(org.apache.spark.sql.functions.explode(org.apache.spark.sql.functions.col(OutputSchema.GENRES)).as("g"))
        .groupBy("g").count().collectAsList()) {
      assertTrue(report.contains("<title>" + r.getString(0) + ": " + r.getLong(1) + "</title>"), r + " in the report: " + report);
    }
    assertTrue(report.contains("<h2>Failed posters</h2>") && report.contains("not_found"), "failures listed: " + report);
  }

  /**
   * Hadoop's local listing skips a symbolic link whose target is missing without a word, and follows
   * a link to a folder above it again and again: the first gets its not_found row, the second stops
   * the run before anything is labelled.
   */
  @Test
  void brokenLinksGetRowsAndALinkLoopStopsTheRun() throws Exception {
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("links"), 3);
    Files.createSymbolicLink(fx.root.resolve("gone.jpg"), tmp.resolve("no-such-poster.jpg"));
    Files.createSymbolicLink(fx.root.resolve("notes.txt"), tmp.resolve("no-such-notes.txt")); // not a poster by the glob
    Path out = tmp.resolve("links-out");
    RunSummary summary = new LabelJob(spark).run(request(fx.root, out, 2, 4));
    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    assertEquals(fx.expected.size() + 1, rows.size(), "one row per poster and one for the broken link");
    assertEquals(fx.expected.size() + 1, summary.filesListed());
    Row gone = rows.stream().filter(r -> r.<String>getAs("path").endsWith("/gone.jpg")).findFirst().orElseThrow();
    assertEquals("not_found", gone.getAs("error_kind"));
    assertTrue(gone.<String>getAs("error").contains("broken symbolic link"), gone.<String>getAs("error"));

    Path loop = tmp.resolve("loop");
    PosterFixtures.write(loop, 2);
    Files.createSymbolicLink(loop.resolve("self"), loop);
    io.postergenres.errors.PosterGenresException e = assertThrows(io.postergenres.errors.PosterGenresException.class,
        () -> new LabelJob(spark).run(request(loop, tmp.resolve("loop-out"), 2, 4)));
    assertEquals(io.postergenres.errors.Failure.INPUT, e.failure());
    assertTrue(e.getMessage().contains("(a loop)") && e.getMessage().contains("self"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("loop-out")), "nothing written");
  }

  @Test
  void oneModelLoadPerJvmAcrossManyTasks() throws Exception {
    ModelCache.closeAll(); // start cold, as a fresh executor would
    int before = ModelCache.loadCount();
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("many"), 40);
    RunSummary summary = new LabelJob(spark).run(request(fx.root, tmp.resolve("many-out"), 16, 2));
    assertEquals(16, summary.partitions());
    assertEquals(1, summary.modelLoads(), "16 tasks on one executor JVM share one model");
    assertEquals(1, ModelCache.loadCount() - before);
    // A second run in the same JVM reuses the loaded model: no load at all.
    RunSummary again = new LabelJob(spark).run(request(fx.root, tmp.resolve("many-out-2"), 8, 8));
    assertEquals(0, again.modelLoads());
    assertEquals(summary.labelled(), again.labelled());
  }

  @Test
  void overwriteStillComparesWithThePreviousRunAndTheSummaryNamesTheReport() throws Exception {
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("twice"), 3);
    Path out = tmp.resolve("twice-out");
    RunSummary first = new LabelJob(spark).run(request(fx.root, out, 2, 4));
    LabelRequest again = request(fx.root, out, 2, 4);
    again = new LabelRequest(again.inputs(), again.output(), again.model(), again.glob(), WriteMode.OVERWRITE,
        again.partitions(), again.maxFailureRatio(), again.thresholds(), again.minGenres(), again.maxGenres(), again.options());
    RunSummary second = new LabelJob(spark).run(again);
    assertFalse(Files.exists(out.resolve("_runs").resolve(first.runId() + ".json")), "overwrite replaced _runs");
    String report = Files.readString(out.resolve("_runs").resolve(second.runId() + ".html"));
    String previousCell = "</td><td class=n>" + first.filesListed() + "</td></tr>";
    assertTrue(report.contains("<tr><td>files listed</td><td class=n>" + second.filesListed() + previousCell),
        "the first run's figures in the previous-run column: " + report);
    assertTrue(second.toText().contains("report " + second.reportPath()), second.toText());
    assertTrue(Files.isRegularFile(Path.of(second.reportPath())), second.reportPath());
  }

  @Test
  void reportColoursAChangeByWhetherItIsBetterAndPutsItBesideThisRun() {
    StringBuilder slower = new StringBuilder();
    RunReport.row(slower, "duration (s)", 113, 100.0, "%.1f", RunReport.Better.LOWER);
    assertEquals("<tr><td>duration (s)</td><td class=n>113.0 <span class=bad>(+13%)</span></td><td class=n>100.0</td></tr>",
        slower.toString());
    StringBuilder faster = new StringBuilder();
    RunReport.row(faster, "posters per second", 120, 100.0, "%.1f", RunReport.Better.HIGHER);
    assertTrue(faster.toString().contains("120.0 <span class=good>(+20%)</span>"), faster.toString());
    StringBuilder fewerFailures = new StringBuilder();
    RunReport.row(fewerFailures, "failed", 1, 4.0, "%.0f", RunReport.Better.LOWER);
    assertTrue(fewerFailures.toString().contains("<span class=good>(-75%)</span>"), fewerFailures.toString());
    StringBuilder first = new StringBuilder();
    RunReport.row(first, "labelled", 5, null, "%.0f", RunReport.Better.NEITHER);
    assertEquals("<tr><td>labelled</td><td class=n>5</td><td class=n>&ndash;</td></tr>", first.toString());
    assertEquals("2026-11-26 11:55:37 UTC", RunReport.readableTime("2026-11-26T11:55:37.123456789Z"));
  }

  @Test
  void caseInsensitiveGlob() {
    assertEquals("*.{[jJ][pP][gG],[pP][nN][gG]}", Listing.caseInsensitiveGlob("*.{jpg,png}"));
    assertEquals("[a-z]*.[jJ][pP][eE][gG]", Listing.caseInsensitiveGlob("[a-z]*.jpeg"));
    // What matters is what the glob matches: file names in any case, and nothing else.
    org.apache.hadoop.fs.GlobPattern glob = new org.apache.hadoop.fs.GlobPattern(Listing.caseInsensitiveGlob("*.{jpg,jpeg,png}"));
    for (String name : List.of("a.jpg", "B.JPG", "c.Jpeg", "d.PNG", "e.pNg")) assertTrue(glob.matches(name), name);
    for (String name : List.of("f.gif", "g.jpg.txt", "h.JPGX")) assertFalse(glob.matches(name), name);
    assertFalse(new org.apache.hadoop.fs.GlobPattern("*.{jpg,png}").matches("B.JPG"), "a plain glob would miss it");
    org.apache.hadoop.fs.GlobPattern prefix = new org.apache.hadoop.fs.GlobPattern(Listing.caseInsensitiveGlob("poster_1?.bmp"));
    assertTrue(prefix.matches("poster_12.BMP"));
    assertFalse(prefix.matches("poster_123.bmp"));
  }

  @Test
  void decodeAheadAutoIsOffAtTwoCoresOrFewerAndOnAbove() {
    LabelOptions auto = new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0));
    assertEquals(LabelOptions.DecodeAhead.AUTO, auto.decodeAhead(), "auto is the default");
    for (int cores : new int[] {1, 2}) {
      LabelOptions decided = RunSetup.withExecutorThreads(auto, cores);
      assertEquals(LabelOptions.DecodeAhead.OFF, decided.decodeAhead(), cores + " cores");
      assertEquals(cores, decided.threads().intraOp());
      assertFalse(decided.decodesAhead());
    }
    LabelOptions four = RunSetup.withExecutorThreads(auto, 4);
    assertEquals(LabelOptions.DecodeAhead.ON, four.decodeAhead());
    assertTrue(four.decodesAhead());
    assertEquals("on (4 cores)", RunSetup.decodeAheadText(auto, four));
    assertEquals("off (2 cores)", RunSetup.decodeAheadText(auto, RunSetup.withExecutorThreads(auto, 2)));
    assertEquals("off (1 core)", RunSetup.decodeAheadText(auto, RunSetup.withExecutorThreads(auto, 1)));
    // explicit intra-op threads count, not the executor's cores
    LabelOptions threeThreads = new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(3, 0));
    assertEquals(LabelOptions.DecodeAhead.ON, RunSetup.withExecutorThreads(threeThreads, 2).decodeAhead());
    // cores unknown on the driver (yarn without spark.executor.cores): left to each executor
    LabelOptions open = RunSetup.withExecutorThreads(auto, 0);
    assertEquals(LabelOptions.DecodeAhead.AUTO, open.decodeAhead());
    assertEquals(Runtime.getRuntime().availableProcessors() > 2, open.decodesAhead());
    assertEquals("auto (each executor by its cores)", RunSetup.decodeAheadText(auto, open));
    // asked for explicitly: kept whatever the cores
    for (boolean on : new boolean[] {true, false}) {
      LabelOptions asked = new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0), on);
      for (int cores : new int[] {0, 1, 2, 8}) {
        LabelOptions decided = RunSetup.withExecutorThreads(asked, cores);
        assertEquals(on, decided.decodesAhead(), on + " at " + cores + " cores");
        assertEquals((on ? "on" : "off") + " (asked for)", RunSetup.decodeAheadText(asked, decided));
      }
    }
  }

  @Test
  void executorCoresFromMaster() {
    assertEquals(3, RunSetup.executorCores("local[3]", scala.Option.empty()));
    assertEquals(1, RunSetup.executorCores("local", scala.Option.empty()));
    assertEquals(Runtime.getRuntime().availableProcessors(), RunSetup.executorCores("local[*]", scala.Option.empty()));
    assertEquals(4, RunSetup.executorCores("spark://h:7077", scala.Option.apply("4")));
    assertEquals(0, RunSetup.executorCores("yarn", scala.Option.empty()));
  }
}
