package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.RunReport;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.job.iceberg.IcebergCatalog;
import io.postergenres.job.iceberg.IcebergMaintenance;
import io.postergenres.job.iceberg.IcebergNightlyTable;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nightly runs into one Apache Iceberg table: a Hadoop catalog on local files (runs of one commit
 * each, re-runs, current rows equal to the Parquet layout's current/, time travel, rollback,
 * maintenance, the two-table layout of earlier versions refused), the JDBC catalog on a PostgreSQL of the test's own with the data
 * on S3 (S3Proxy), two runs that race for one table without a shared lock file (Iceberg's commit
 * lets one through; two runs on one output meet at the lock first, as RunLockTest shows), and a run
 * killed with SIGKILL.
 */
class IcebergIT {
  static final LocalDate DAY1 = LocalDate.of(2026, 11, 1);
  static final LocalDate DAY2 = LocalDate.of(2026, 11, 2);
  static final LocalDate DAY3 = LocalDate.of(2026, 11, 3);
  @TempDir static Path tmp;
  static Path model;
  static Process s3proxy;
  static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    model = TestModels.write(tmp.resolve("model"), 32, 24, 13);
    int port = LocalSpark.freePort();
    s3proxy = S3IT.startS3Proxy(tmp, port, "catalogue");
    spark = S3IT.withS3(SparkSession.builder().master("local[2]").appName("iceberg-it")
            .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"), port)
        .getOrCreate();
  }

  @AfterAll
  static void stop() throws Exception {
    S3IT.stop(spark, s3proxy);
  }

  static void posters(Path dir, int from, int to) throws Exception {
    Files.createDirectories(dir);
    for (int i = from; i < to; i++) {
      Files.write(dir.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(60, 90, new Color((i * 37) % 256, 90, 200)), false));
    }
  }

  static RunSummary run(String in, String out, LocalDate date, String catalogUri) {
    return run(in, out, date, catalogUri, "poster_genres");
  }

  static RunSummary run(String in, String out, LocalDate date, String catalogUri, String namespace) {
    return new IncrementalJob(spark, IcebergNightlyTable.factory(catalogUri, namespace)).run(request(in, out), settings(date));
  }

  /** The same run into the Parquet layout, whose current/ the Iceberg table's current rows must equal. */
  static RunSummary runParquet(String in, String out, LocalDate date) {
    return new IncrementalJob(spark).run(request(in, out), settings(date));
  }

  static LabelRequest request(String in, String out) {
    return new LabelRequest(List.of(in), out, model.toString(), "*.jpg", WriteMode.ERROR, 2, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
  }

  static IncrementalJob.Settings settings(LocalDate date) {
    return new IncrementalJob.Settings(date, 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5));
  }

  static long count(String sql) {
    return spark.sql(sql).first().getLong(0);
  }

  /** The snapshot main is at. */
  static long main(String table) {
    return count("SELECT snapshot_id FROM " + table + ".refs WHERE name = 'main'");
  }

  /** The snapshots main has had (its ancestry). */
  static long mainSnapshots(String table) {
    return count("SELECT count(*) FROM " + table + ".history");
  }

  /** What a reader compares between the layouts: not the run ids and times, which differ. */
  static List<Row> comparable(org.apache.spark.sql.Dataset<Row> rows) {
    return rows.selectExpr("path", "modification_time", "length", "genres", "error_kind", "attempts", "model_version")
        .orderBy("path").collectAsList();
  }

  static void assertCurrentEqualsParquet(String labels, String parquetOut) {
    assertEquals(comparable(spark.read().parquet(parquetOut + "/current")),
        comparable(spark.sql("SELECT * FROM " + labels + " WHERE replaced_on IS NULL")),
        "the Iceberg table's current rows are the Parquet layout's current/ after the same runs");
  }

  @Test
  void hadoopCatalogOnLocalFiles() throws Exception {
    Path in = tmp.resolve("local-in");
    posters(in, 0, 5);
    Files.write(in.resolve("cut.jpg"), TestImages.truncated(TestImages.jpeg(TestImages.solid(200, 300, Color.RED), false), 0.4));
    String out = tmp.resolve("local-out").toString();
    String parquet = tmp.resolve("local-parquet").toString();
    IcebergCatalog catalog = new IcebergCatalog(null, out, "poster_genres");
    String labels = catalog.table("labels");
    String current = labels + " WHERE replaced_on IS NULL";

    RunSummary day1 = run(in.toString(), out, DAY1, null);
    runParquet(in.toString(), parquet, DAY1);
    assertEquals(6L, day1.incremental().get("new"));
    assertEquals(1L, day1.failed());
    assertTrue(Files.isDirectory(Path.of(out, "poster_genres", "labels", "metadata")), "a Hadoop catalog in the output");
    assertFalse(Files.exists(Path.of(out, "current")) || Files.exists(Path.of(out, "_staging")), "no hand-written table");
    assertEquals(6, count("SELECT count(*) FROM " + current));
    long snap1 = main(labels);
    Map<String, String> summary1 = spark.sql("SELECT summary FROM " + labels + ".snapshots WHERE snapshot_id = " + snap1).first().getJavaMap(0);
    assertEquals(day1.runId(), summary1.get("poster-genres.run-id"), "the snapshot says which run committed it");
    assertEquals("6", summary1.get("poster-genres.new"));
    assertEquals("1", summary1.get("poster-genres.failed"));
    assertEquals(0, count("SELECT count(*) FROM " + labels + ".refs WHERE name <> 'main'"), "the run's branch is gone");

    // Day 2: one poster changed, one new, one gone (moved aside, its time kept); the corrupt one is retried.
    Path aside = Files.createDirectories(tmp.resolve("local-aside"));
    Files.move(in.resolve("p4.jpg"), aside.resolve("p4.jpg"));
    Files.write(in.resolve("p0.jpg"), TestImages.jpeg(TestImages.solid(80, 100, Color.GREEN), false));
    posters(in, 7, 8);
    long snapshotsBefore = mainSnapshots(labels);
    RunSummary day2 = run(in.toString(), out, DAY2, null);
    runParquet(in.toString(), parquet, DAY2);
    assertEquals(Map.of("new", 1L, "changed", 1L, "retry", 1L, "unchanged", 3L),
        Map.of("new", day2.incremental().get("new"), "changed", day2.incremental().get("changed"),
            "retry", day2.incremental().get("retry"), "unchanged", day2.incremental().get("unchanged")));
    assertEquals(snapshotsBefore + 1, mainSnapshots(labels), "a run is ONE commit: one new snapshot on main");
    assertEquals(day2.runId(), spark.sql("SELECT summary['poster-genres.run-id'] FROM " + labels + ".snapshots WHERE snapshot_id = "
        + main(labels)).first().getString(0));
    assertEquals(6, count("SELECT count(*) FROM " + current), "p4 gone, p7 new");
    assertEquals(0, count("SELECT count(*) FROM " + current + " AND path LIKE '%/p4.jpg'"));
    assertEquals(3, count("SELECT count(*) FROM " + labels + " WHERE run_date = DATE '2026-11-02'"));
    assertEquals(6, count("SELECT count(DISTINCT path) FROM " + current), "one current row per poster");
    assertEquals(3, count("SELECT count(*) FROM " + labels + " WHERE replaced_on = DATE '2026-11-02'"),
        "day 1's rows of p0 (changed), the corrupt one (retried) and p4 (gone) were replaced on day 2");

    // Time travel: the labels as the first run left them.
    assertEquals(1, count("SELECT count(*) FROM " + labels + " VERSION AS OF " + snap1 + " WHERE replaced_on IS NULL AND path LIKE '%/p4.jpg'"));

    // A re-run of day 2 reproduces it: the same decisions, the date's rows replaced, not added, in one commit.
    snapshotsBefore = mainSnapshots(labels);
    RunSummary again = run(in.toString(), out, DAY2, null);
    assertEquals(true, again.incremental().get(RunSummary.RERUN));
    long rerun = main(labels);
    assertEquals(day2.incremental().get("changed"), again.incremental().get("changed"));
    assertEquals(snapshotsBefore + 1, mainSnapshots(labels));
    assertEquals(3, count("SELECT count(*) FROM " + labels + " WHERE run_date = DATE '2026-11-02'"));
    assertEquals(0, count("SELECT count(*) FROM " + labels + " WHERE run_id = '" + day2.runId() + "'"));
    assertEquals(6, count("SELECT count(*) FROM " + current));
    assertEquals(3, count("SELECT count(*) FROM " + labels + " WHERE replaced_on = DATE '2026-11-02'"));
    assertTrue(Files.exists(Path.of(out, "_runs", again.runId() + ".html")), "the run report");
    assertEquals(day2.runId(), RunReport.previous(out, again.startedAt(), new org.apache.hadoop.conf.Configuration()).runId(),
        "the re-run's report shows it beside day 2's run");

    // Day 3: p4 is back as it was (unchanged: its day 1 row is current again), p1 gone.
    Files.move(aside.resolve("p4.jpg"), in.resolve("p4.jpg"));
    Files.move(in.resolve("p1.jpg"), aside.resolve("p1.jpg"));
    RunSummary day3 = run(in.toString(), out, DAY3, null);
    runParquet(in.toString(), parquet, DAY3);
    assertEquals(0L, day3.incremental().get("new"));
    assertEquals(1, count("SELECT count(*) FROM " + current + " AND path LIKE '%/p4.jpg' AND run_date = DATE '2026-11-01'"));
    assertEquals(0, count("SELECT count(*) FROM " + current + " AND path LIKE '%/p1.jpg'"));
    assertCurrentEqualsParquet(labels, parquet);

    // An earlier date than the latest run is refused before any labelling.
    PosterGenresException earlier = assertThrows(PosterGenresException.class, () -> run(in.toString(), out, DAY2, null));
    assertEquals(Failure.USAGE, earlier.failure());
    assertTrue(earlier.getMessage().contains("roll the table back"), earlier.getMessage());

    // Rollback to the re-run of day 2, as docs/nightly.md shows it: p1 is current again, p4 gone again.
    spark.sql("CALL " + catalog.sparkName() + ".system.rollback_to_snapshot('poster_genres.labels', " + rerun + ")");
    assertEquals(1, count("SELECT count(*) FROM " + current + " AND path LIKE '%/p1.jpg'"));
    assertEquals(0, count("SELECT count(*) FROM " + current + " AND path LIKE '%/p4.jpg'"));
    assertEquals(0, count("SELECT count(*) FROM " + labels + " WHERE run_date > DATE '2026-11-02'"));

    // Maintenance: compaction (with the position deletes of day 2 and its re-run) and expiry leave the rows as they are.
    List<Row> before = comparable(spark.sql("SELECT * FROM " + current));
    long rows = count("SELECT count(*) FROM " + labels);
    assertTrue(count("SELECT count(*) FROM " + labels + ".delete_files") > 0, "merge-on-read: the runs wrote position deletes");
    List<String> done = IcebergMaintenance.run(spark, catalog, Duration.ZERO, true);
    assertEquals(2, done.size(), String.valueOf(done));
    assertEquals(rows, count("SELECT count(*) FROM " + labels));
    assertEquals(before, comparable(spark.sql("SELECT * FROM " + current)));
    assertEquals(1, count("SELECT count(*) FROM " + labels + ".snapshots"), "only the latest snapshot is kept");
    assertEquals(0, count("SELECT count(*) FROM " + labels + ".delete_files"), "compaction applied the deletes: " + done);
  }

  /**
   * The two tables of earlier versions (history, current), here made from the Parquet layout's
   * rows: refused, then moved into labels by the Spark SQL of docs/nightly.md, after which a run
   * goes on from them.
   */
  @Test
  void thresholdsChosenAgainMergeTheGenresDecidedFromTheStoredScores() throws Exception {
    Path in = tmp.resolve("rule-in");
    posters(in, 0, 4);
    String out = tmp.resolve("rule-out").toString();
    String parquet = tmp.resolve("rule-parquet").toString();
    String labels = new IcebergCatalog(null, out, "poster_genres").table("labels");
    run(in.toString(), out, DAY1, null);
    runParquet(in.toString(), parquet, DAY1);

    // The same network with its thresholds chosen again ('calibrate'): one MERGE of rows decided from their scores.
    ModelSpec spec = TestModels.recalibrated(model, tmp.resolve("rule-model"), 0.05, 4);
    LabelRequest again = new LabelRequest(List.of(in.toString()), out, tmp.resolve("rule-model").toString(), "*.jpg", WriteMode.ERROR, 2, 1.0,
        Map.of(), null, null, new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary day2 = new IncrementalJob(spark, IcebergNightlyTable.factory(null, "poster_genres")).run(again, settings(DAY2));
    new IncrementalJob(spark).run(new LabelRequest(List.of(in.toString()), parquet, tmp.resolve("rule-model").toString(), "*.jpg",
        WriteMode.ERROR, 2, 1.0, Map.of(), null, null, new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0))), settings(DAY2));
    assertEquals(4L, day2.incremental().get(IncrementalJob.NEW_THRESHOLDS), day2.incremental().toString());
    assertEquals(0L, day2.incremental().get("labelled_by_model"));
    assertEquals(4L, day2.labelled());
    assertEquals(4, count("SELECT count(*) FROM " + labels + " WHERE replaced_on IS NULL AND model_version = '" + spec.version() + "'"));
    assertEquals(4, count("SELECT count(*) FROM " + labels + " WHERE replaced_on IS NOT NULL"), "day 1's rows kept as history");
    assertEquals(0, count("SELECT count(*) FROM " + labels + " a JOIN " + labels + " b ON a.path = b.path"
        + " WHERE a.replaced_on IS NULL AND b.replaced_on IS NOT NULL AND to_json(array_sort(map_entries(a.scores))) <> to_json(array_sort(map_entries(b.scores)))"), "the scores are kept");
    assertCurrentEqualsParquet(labels, parquet);
  }

  @Test
  void twoTableLayoutOfEarlierVersionsRefusedThenMigrated() throws Exception {
    Path in = tmp.resolve("old-in");
    posters(in, 0, 3);
    String parquet = tmp.resolve("old-parquet").toString();
    runParquet(in.toString(), parquet, DAY1);
    Files.delete(in.resolve("p2.jpg"));
    posters(in, 3, 4);
    runParquet(in.toString(), parquet, DAY2);
    String out = tmp.resolve("old-out").toString();
    IcebergCatalog catalog = new IcebergCatalog(null, out, "old_layout");
    catalog.register(spark);
    spark.sql("CREATE NAMESPACE " + catalog.sparkName() + ".old_layout");
    spark.read().parquet(parquet + "/labels").writeTo(catalog.table("history")).using("iceberg")
        .partitionedBy(org.apache.spark.sql.functions.col("run_date")).create();
    spark.read().parquet(parquet + "/current").withColumn("run_date", org.apache.spark.sql.functions.col("run_date").cast("date"))
        .writeTo(catalog.table("current")).using("iceberg").create();

    PosterGenresException e = assertThrows(PosterGenresException.class, () -> run(in.toString(), out, DAY3, null, "old_layout"));
    assertEquals(Failure.USAGE, e.failure());
    assertTrue(e.getMessage().contains("history and current") && e.getMessage().contains("docs/nightly.md"), e.getMessage());
    assertFalse(spark.catalog().tableExists(catalog.table("labels")), "nothing created beside the old tables");

    String doc = Files.readString(Path.of("docs/nightly.md"));
    int from = doc.indexOf("CREATE TABLE poster_labels.poster_genres.labels");
    assertTrue(from > 0, "docs/nightly.md shows the migration");
    spark.sql(doc.substring(from, doc.indexOf(";\n```", from)).replace("poster_labels.poster_genres.", catalog.sparkName() + ".old_layout."));
    String labels = catalog.table("labels");
    assertEquals(count("SELECT count(*) FROM " + catalog.table("history")), count("SELECT count(*) FROM " + labels));
    assertEquals(1, count("SELECT count(*) FROM " + labels + " WHERE path LIKE '%/p2.jpg' AND replaced_on = DATE '2026-11-02'"),
        "the poster gone on day 2");
    assertCurrentEqualsParquet(labels, parquet);

    Files.delete(in.resolve("p1.jpg"));
    RunSummary day3 = run(in.toString(), out, DAY3, null, "old_layout");
    assertEquals(2L, day3.incremental().get("unchanged"), "the migrated rows are the ledger");
    assertEquals(List.of("p0.jpg", "p3.jpg"), spark.sql("SELECT path FROM " + labels + " WHERE replaced_on IS NULL ORDER BY path")
        .collectAsList().stream().map(r -> Path.of(r.getString(0).replaceFirst("^file:", "")).getFileName().toString()).toList());
  }

  @Test
  void jdbcCatalogOnPostgresWithDataOnS3() throws Exception {
    Path bin = Postgres.binaries();
    assumeTrue(bin != null, "PostgreSQL's server is not installed (/usr/lib/postgresql/<version>/bin): "
        + "apt-get install postgresql to run the JDBC catalog test (.ci/run does)");
    try (Postgres pg = Postgres.start(bin)) {
      Path in = tmp.resolve("s3-in");
      posters(in, 0, 4);
      FileSystem s3 = new org.apache.hadoop.fs.Path("s3a://catalogue/").getFileSystem(spark.sparkContext().hadoopConfiguration());
      S3IT.upload(s3, in, "s3a://catalogue/posters");

      PosterGenresException noCatalog = assertThrows(PosterGenresException.class,
          () -> run("s3a://catalogue/posters", "s3a://catalogue/labels", DAY1, null));
      assertEquals(Failure.USAGE, noCatalog.failure());
      assertTrue(noCatalog.getMessage().contains("--catalog jdbc:postgresql://"), noCatalog.getMessage());

      RunSummary day1 = run("s3a://catalogue/posters", "s3a://catalogue/labels", DAY1, pg.jdbcUrl());
      assertEquals(4, day1.labelled());
      IcebergCatalog catalog = new IcebergCatalog(pg.jdbcUrl(), "s3a://catalogue/labels", "poster_genres");
      String current = catalog.table("labels") + " WHERE replaced_on IS NULL";
      assertEquals(4, count("SELECT count(*) FROM " + current));
      assertTrue(spark.sql("SELECT file_path FROM " + catalog.table("labels") + ".files").first().getString(0)
          .startsWith("s3a://catalogue/labels/poster_genres/labels/"), "data files on S3");

      // Two runs whose outputs differ but whose catalog and namespace are the same: one table, no
      // shared lock file. Iceberg's commit lets one through; the other stops with exit 6's failure.
      Path more = tmp.resolve("s3-more");
      Files.createDirectories(more);
      Files.write(more.resolve("p9.jpg"), TestImages.jpeg(TestImages.solid(60, 90, Color.BLUE), false));
      S3IT.upload(s3, more, "s3a://catalogue/posters");
      List<Object> outcomes = race(List.of(
          () -> run("s3a://catalogue/posters", "s3a://catalogue/labels", DAY2, pg.jdbcUrl()),
          () -> run("s3a://catalogue/posters", "s3a://catalogue/labels-b", DAY2, pg.jdbcUrl())));
      assertRaceOutcome(outcomes);
      assertEquals(1, outcomes.stream().filter(o -> o instanceof RunSummary).count(),
          "both read day 1's snapshot behind the barrier, so only the first commit can pass Iceberg's validation: " + outcomes);
      assertEquals(5, count("SELECT count(*) FROM " + current), "no lost and no duplicate rows");
      assertEquals(5, count("SELECT count(DISTINCT path) FROM " + current));
      assertEquals(1, count("SELECT count(*) FROM " + catalog.table("labels") + " WHERE run_date = DATE '2026-11-02'"));
      assertEquals(0, count("SELECT count(*) FROM " + catalog.table("labels") + ".refs WHERE name <> 'main'"),
          "both runs removed their branches");
    }
  }

  /** Runs each task at once behind a barrier; a run's summary or the exception it failed with. */
  static List<Object> race(List<java.util.concurrent.Callable<RunSummary>> runs) throws Exception {
    CyclicBarrier barrier = new CyclicBarrier(runs.size());
    ExecutorService pool = Executors.newFixedThreadPool(runs.size());
    try {
      List<Future<Object>> futures = new ArrayList<>();
      for (var r : runs) {
        futures.add(pool.submit(() -> {
          barrier.await();
          try {
            return r.call();
          } catch (PosterGenresException e) {
            return e;
          }
        }));
      }
      List<Object> outcomes = new ArrayList<>();
      for (Future<Object> f : futures) outcomes.add(f.get(10, TimeUnit.MINUTES));
      return outcomes;
    } finally {
      pool.shutdownNow();
    }
  }

  /** At least one run committed; any other stopped with LOCK_HELD and said why. */
  static void assertRaceOutcome(List<Object> outcomes) {
    long committed = outcomes.stream().filter(o -> o instanceof RunSummary).count();
    assertTrue(committed >= 1, "a run committed: " + outcomes);
    for (Object o : outcomes) {
      if (o instanceof PosterGenresException e) {
        assertEquals(Failure.LOCK_HELD, e.failure(), e.getMessage());
        assertTrue(e.getMessage().contains("another run"), e.getMessage());
      }
    }
  }

  @Test
  void runKilledWithSigkill() throws Exception {
    Path in = tmp.resolve("kill-in");
    posters(in, 0, 3);
    Path out = tmp.resolve("kill-out");
    IcebergCatalog catalog = new IcebergCatalog(null, out.toString(), "poster_genres");
    run(in.toString(), out.toString(), DAY1, null);
    String labels = catalog.table("labels");
    String current = labels + " WHERE replaced_on IS NULL";
    long before = main(labels);
    posters(in, 3, 40);
    // One data file per labelling partition (not one per date after a shuffle), so the kill below
    // comes while the run writes day 2's files and before it commits them.
    spark.sql("ALTER TABLE " + labels + " SET TBLPROPERTIES ('write.merge.distribution-mode'='none')");

    // The same run in a process of its own, killed as soon as it writes a data file of day 2.
    List<String> cmd = new ArrayList<>(LocalSpark.java("1g"));
    cmd.addAll(List.of("-cp", "target/classes" + File.pathSeparator + Files.readString(Path.of("target/runtime-classpath.txt")).trim(),
        "io.postergenres.cli.PosterGenres", "label", "--incremental", "--table-format", "iceberg", "--run-date", DAY2.toString(),
        "--input", in.toString(), "--output", out.toString(), "--model", model.toString(), "--glob", "*.jpg",
        "--master", "local[1]", "--partitions", "16", "--lock-ttl-seconds", "1"));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
    Path day2Data = out.resolve("poster_genres/labels/data/run_date=2026-11-02");
    boolean killedWhileWriting = false;
    while (child.isAlive()) {
      if (Files.isDirectory(day2Data)) {
        try (Stream<Path> files = Files.list(day2Data)) {
          if (files.anyMatch(f -> f.toString().endsWith(".parquet"))) {
            new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).start().waitFor();
            killedWhileWriting = true;
            break;
          }
        }
      }
      Thread.sleep(10);
    }
    assertTrue(child.waitFor(5, TimeUnit.MINUTES));
    assertTrue(killedWhileWriting, "the run was killed while writing, not ended by itself: " + Files.readString(tmp.resolve("killed.log")));

    // main is at its previous snapshot, or (if the kill came after the commit) at a complete one.
    long after = main(labels);
    assertEquals(after == before ? 0 : 37, count("SELECT count(*) FROM " + labels + " WHERE run_date = DATE '2026-11-02'"));
    assertEquals(after == before ? 3 : 40, count("SELECT count(*) FROM " + current));

    Thread.sleep(2_000); // the killed run's lock lease (1 s) has expired
    RunSummary next = run(in.toString(), out.toString(), DAY2, null);
    assertEquals(40, next.filesListed());
    assertEquals(37, count("SELECT count(*) FROM " + labels + " WHERE run_date = DATE '2026-11-02'"));
    assertEquals(40, count("SELECT count(*) FROM " + current));
    assertEquals(40, count("SELECT count(DISTINCT path) FROM " + current));
  }
}
