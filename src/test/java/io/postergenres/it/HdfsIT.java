package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.image.TestImages;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.job.iceberg.IcebergCatalog;
import io.postergenres.job.iceberg.IcebergNightlyTable;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.job.incremental.RunLockTest;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Posters, model and output all on a real HDFS: a NameNode and a DataNode on loopback. */
class HdfsIT {
  @TempDir static Path tmp;
  static MiniDFSCluster cluster;
  static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, tmp.resolve("hdfs").toString());
    conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    // On a loaded 2-core machine the one datanode can report a finished block late; the client's
    // close then gives up after 5 short retries ("does not have enough number of replicas"). Give
    // the test's own client (copying posters in) the time a real cluster would. The lock test
    // below does not use it: RunLock gives its own client the retries it needs (RunLock.lockConf).
    conf.setInt("dfs.client.block.write.locateFollowingBlock.retries", 12);
    conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 200);
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    spark = SparkSession.builder().master("local[2]").appName("hdfs-it")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions").getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) spark.stop();
    if (cluster != null) cluster.shutdown();
  }

  @Test
  void postersModelAndOutputOnHdfs() throws Exception {
    String hdfs = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    FileSystem fs = cluster.getFileSystem();
    Path local = tmp.resolve("posters");
    Files.createDirectories(local.resolve("2015"));
    for (int i = 0; i < 6; i++) {
      Files.write(local.resolve("2015/p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(60, 90, new Color(30 * i, 90, 160)), false));
    }
    Files.write(local.resolve("2015/empty.jpg"), new byte[0]);
    Files.writeString(local.resolve("2015/notes.jpg"), "not an image");
    Path model = TestModels.write(tmp.resolve("model"), 32, 24, 8);
    fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()), new org.apache.hadoop.fs.Path("/catalogue/posters"));
    fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(model.toUri()), new org.apache.hadoop.fs.Path("/models/test"));

    LabelRequest request = new LabelRequest(List.of(hdfs + "/catalogue/posters"), hdfs + "/labels", hdfs + "/models/test",
        "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary summary = new LabelJob(spark).run(request);
    assertEquals(8, summary.filesListed());
    assertEquals(6, summary.labelled());

    List<Row> rows = spark.read().parquet(hdfs + "/labels").collectAsList();
    assertEquals(8, rows.size());
    Map<String, String> kinds = new HashMap<>();
    for (Row r : rows) {
      String path = r.getAs("path");
      assertTrue(path.startsWith(hdfs + "/catalogue/posters/"), path);
      kinds.put(path.substring(path.lastIndexOf('/') + 1), r.getAs("error_kind"));
    }
    assertNull(kinds.get("p3.jpg"));
    assertEquals("empty", kinds.get("empty.jpg"));
    assertEquals("unsupported_format", kinds.get("notes.jpg"));
    assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/labels/_runs/" + summary.runId() + ".json")), "summary on HDFS");
  }

  /** A nightly run into an Iceberg table whose Hadoop catalog is on HDFS: the commit is an HDFS rename. */
  @Test
  void icebergTableOnHdfs() throws Exception {
    String hdfs = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    FileSystem fs = cluster.getFileSystem();
    Path local = tmp.resolve("iceberg-posters");
    Files.createDirectories(local);
    for (int i = 0; i < 3; i++) {
      Files.write(local.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(60, 90, new Color(70 * i, 40, 160)), false));
    }
    Path model = TestModels.write(tmp.resolve("iceberg-model"), 32, 24, 8);
    fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()), new org.apache.hadoop.fs.Path("/iceberg/posters"));
    LabelRequest request = new LabelRequest(List.of(hdfs + "/iceberg/posters"), hdfs + "/iceberg/labels", model.toString(),
        "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary summary = new IncrementalJob(spark, IcebergNightlyTable.factory(null, "poster_genres"))
        .run(request, new IncrementalJob.Settings(LocalDate.of(2026, 11, 1), 3, IncrementalJob.NewModelScope.ALL, Duration.ofMinutes(5)));
    assertEquals(3, summary.labelled());
    assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/iceberg/labels/poster_genres/labels/metadata")), "the table on HDFS");
    String labels = new IcebergCatalog(null, hdfs + "/iceberg/labels", "poster_genres").table("labels");
    assertEquals(3, spark.sql("SELECT count(DISTINCT path) FROM " + labels + " WHERE replaced_on IS NULL").first().getLong(0));
    assertEquals(summary.runId(), spark.sql("SELECT summary['poster-genres.run-id'] FROM " + labels + ".snapshots ORDER BY committed_at DESC")
        .first().getString(0));
  }

  /** Issue #13 item 3 on HDFS: concurrent contenders, with no lock and with an expired one; one holder each time. */
  @Test
  @org.junit.jupiter.api.Timeout(300)
  void theNightlyLockHasExactlyOneHolderOnHdfs() throws Exception {
    String hdfs = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    FileSystem fs = cluster.getFileSystem();
    // The cluster's client configuration (RunLock raises its own close retries to 8 either way).
    // Rounds here have ended with no holder (never two) when the one contender that had created
    // _lock could not read it back ("replica not found"); a holder now judges its unreadable lock
    // by its status (RunLock#whyLost, docs/nightly.md), and a failing round names each outcome.
    Configuration conf = fs.getConf();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(RunLockTest.CONTENDERS);
    try {
      for (int i = 0; i < 40; i++) {
        RunLockTest.assertOneHolder(hdfs + "/locks/fresh-" + i, conf, pool, "fresh, try " + i);
        org.apache.hadoop.fs.Path lock = new org.apache.hadoop.fs.Path("/locks/expired-" + i + "/_lock");
        try (var out = fs.create(lock, true)) {
          out.write(RunLockTest.expiredLockBody(java.util.UUID.randomUUID().toString()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        RunLockTest.assertOneHolder(hdfs + "/locks/expired-" + i, conf, pool, "expired, try " + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
