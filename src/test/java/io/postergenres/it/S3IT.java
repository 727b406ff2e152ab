package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.errors.Redaction;
import io.postergenres.image.TestImages;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Posters, model and output on an S3 API: S3Proxy (filesystem backend) as its own process on
 * loopback, reached through S3A with path-style access, as a real bucket would be.
 */
class S3IT {
  static final String KEY = "local-identity";
  static final String SECRET = "local-credential-do-not-log";
  @TempDir static Path tmp;
  static Process s3proxy;
  static int port;
  static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    s3proxy = startS3Proxy(tmp, port, "catalogue");
    spark = withS3(SparkSession.builder().master("local[2]").appName("s3-it")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1"), port)
        .getOrCreate();
  }

  /** Starts S3Proxy (filesystem backend under {@code tmp}) on loopback {@code port} with one bucket, and waits for it. */
  static Process startS3Proxy(Path tmp, int port, String bucket) throws Exception {
    Path jar = Path.of("target/s3proxy/s3proxy.jar");
    assertTrue(Files.exists(jar), "the build copies S3Proxy to " + jar + " before integration tests");
    Path data = tmp.resolve("s3data");
    Files.createDirectories(data.resolve(bucket));
    Path props = tmp.resolve("s3proxy.properties");
    Files.writeString(props, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:" + port,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + KEY,
        "s3proxy.credential=" + SECRET,
        "s3proxy.ignore-unknown-headers=true",
        "jclouds.provider=filesystem",
        "jclouds.filesystem.basedir=" + data,
        ""));
    Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-jar", jar.toString(), "--properties", props.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("s3proxy.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return proxy;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !proxy.isAlive()) {
          fail("S3Proxy did not start: " + Files.readString(tmp.resolve("s3proxy.log")));
        }
        Thread.sleep(200);
      }
    }
  }

  /** S3A settings for the S3Proxy on {@code port}: path-style access, its credentials. */
  static SparkSession.Builder withS3(SparkSession.Builder builder, int port) {
    return builder
        .config("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:" + port)
        .config("spark.hadoop.fs.s3a.endpoint.region", "us-east-1")
        .config("spark.hadoop.fs.s3a.path.style.access", "true")
        .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
        .config("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
        .config("spark.hadoop.fs.s3a.access.key", KEY)
        .config("spark.hadoop.fs.s3a.secret.key", SECRET)
        .config("spark.hadoop.fs.s3a.bucket.probe", "0")
        .config("spark.hadoop.fs.s3a.change.detection.mode", "none");
  }

  @AfterAll
  static void stop() throws Exception {
    stop(spark, s3proxy);
  }

  /** Stops the session, then the S3Proxy process (either may be null: a start that failed). */
  static void stop(SparkSession session, Process proxy) throws InterruptedException {
    if (session != null) session.stop();
    if (proxy != null) {
      proxy.destroy();
      proxy.waitFor(10, TimeUnit.SECONDS);
    }
    // Hadoop caches file systems by scheme and bucket: the next test's S3Proxy listens on another
    // port, and a cached s3a://catalogue would still point at this one.
    try {
      org.apache.hadoop.fs.FileSystem.closeAll();
    } catch (IOException e) {
      // closing cached clients of a stopped proxy: nothing left to save
    }
  }

  /**
   * Writes a local folder through S3A output streams (the path Spark's writers take).
   * S3A's copyFromLocalFile sends a whole-file PutObject whose payload hash S3Proxy 2.6 rejects.
   */
  static void upload(FileSystem s3, Path local, String target) throws IOException {
    try (var files = Files.walk(local)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(target + "/" + local.relativize(f).toString().replace('\\', '/'));
        try (var out = s3.create(dst, true)) {
          out.write(Files.readAllBytes(f));
        }
      }
    }
  }

  /** {@code count} small JPEG posters of different colours under {@code local}, named by {@code name}. */
  static Path posters(Path local, int count, java.util.function.IntFunction<String> name) throws IOException {
    for (int i = 0; i < count; i++) {
      Path poster = local.resolve(name.apply(i));
      Files.createDirectories(poster.getParent());
      Files.write(poster, TestImages.jpeg(TestImages.solid(60, 90, new Color(40 * i, 20, 200)), false));
    }
    return local;
  }

  /**
   * Everything the log system writes (every logger, INFO and up, with stack traces) while it is
   * open: Spark's, Hadoop's and the AWS SDK's log lines as well as ours.
   */
  static final class LogCapture implements AutoCloseable {
    private final StringWriter out = new StringWriter();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final Appender appender;
    private final Level rootLevel;

    LogCapture() {
      appender = WriterAppender.newBuilder().setName("s3it-capture").setTarget(out)
          .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%ex").build()).build();
      appender.start();
      LoggerConfig root = context.getConfiguration().getRootLogger();
      rootLevel = root.getLevel();
      context.getConfiguration().addAppender(appender);
      root.addAppender(appender, Level.ALL, null);
      root.setLevel(Level.INFO);
      context.updateLoggers();
    }

    String text() {
      synchronized (out) {
        return out.toString();
      }
    }

    @Override
    public void close() {
      LoggerConfig root = context.getConfiguration().getRootLogger();
      root.removeAppender(appender.getName());
      root.setLevel(rootLevel);
      context.updateLoggers();
      appender.stop();
    }
  }

  /** Fails when {@code text} holds the secret key, or the access key next to any part of it. */
  static void assertNoCredential(String where, String text) {
    for (String line : text.split("\n")) {
      String shown = line.replace(SECRET, "<SECRET>").replace(KEY, "<KEY>");
      assertFalse(line.contains(SECRET), "the secret key appears in " + where + ": " + shown);
      assertFalse(line.contains(KEY), "the access key appears in " + where + ": " + shown);
    }
  }

  /** {@code s3a://bucket/path} with the keys as the URI's user-info, as someone might paste it. */
  static String withUserInfo(String uri) {
    return uri.replace("s3a://", "s3a://" + KEY + ":" + SECRET + "@");
  }

  @Test
  void postersModelAndOutputOnS3() throws Exception {
    Path local = posters(tmp.resolve("posters"), 5, i -> "2014/s" + i + ".JPG");
    Files.write(local.resolve("2014/cut.jpg"), TestImages.truncated(TestImages.jpeg(TestImages.solid(200, 300, Color.RED), false), 0.4));
    Path model = TestModels.write(tmp.resolve("model"), 32, 24, 9);
    FileSystem s3 = new org.apache.hadoop.fs.Path("s3a://catalogue/").getFileSystem(spark.sparkContext().hadoopConfiguration());
    upload(s3, local, "s3a://catalogue/posters");
    upload(s3, model, "s3a://catalogue/models/test");

    // The keys are in the Hadoop configuration the job runs with (spark.hadoop.fs.s3a.*, above).
    assertEquals(SECRET, spark.sparkContext().hadoopConfiguration().get("fs.s3a.secret.key"));
    RunSummary summary;
    String log;
    try (LogCapture capture = new LogCapture()) {
      summary = new LabelJob(spark).run(request("s3a://catalogue/posters", "s3a://catalogue/labels", "s3a://catalogue/models/test"));
      log = capture.text();
    }
    assertEquals(6, summary.filesListed());
    assertEquals(5, summary.labelled());
    assertEquals(Map.of("corrupt", 1L), summary.failedByKind());
    assertEquals(6, spark.read().parquet("s3a://catalogue/labels").count());

    String json = read(s3, "s3a://catalogue/labels/_runs/" + summary.runId() + ".json");
    String html = read(s3, "s3a://catalogue/labels/_runs/" + summary.runId() + ".html");
    assertTrue(json.contains("s3a://catalogue/posters"), json);
    assertTrue(html.contains(summary.runId()), "the report is the run's");
    assertTrue(log.contains("poster files matching"), "the log was captured: " + log.length() + " chars");
    assertNoCredential("the run summary", json);
    assertNoCredential("the run report", html);
    assertNoCredential("the summary printed", summary.toText());
    assertNoCredential("the log", log);
  }

  /**
   * Keys pasted into the URIs ({@code s3a://key:secret@bucket/...}): S3A refuses such URIs, and
   * neither the failure nor anything logged on the way repeats them, wherever the URI was given.
   */
  @Test
  void keysInTheUrisAppearNowhere() throws Exception {
    String posters = "s3a://catalogue/posters-userinfo";
    FileSystem s3 = new org.apache.hadoop.fs.Path("s3a://catalogue/").getFileSystem(spark.sparkContext().hadoopConfiguration());
    try (var out = s3.create(new org.apache.hadoop.fs.Path(posters + "/a.jpg"), true)) {
      out.write(TestImages.jpeg(TestImages.solid(60, 90, Color.BLUE), false));
    }
    Path model = TestModels.write(tmp.resolve("model-userinfo"), 32, 24, 9);
    upload(s3, model, "s3a://catalogue/models/userinfo");
    List<List<String>> requests = List.of(
        List.of(withUserInfo(posters), "s3a://catalogue/labels-userinfo-1", "s3a://catalogue/models/userinfo"),
        List.of(posters, "s3a://catalogue/labels-userinfo-2", withUserInfo("s3a://catalogue/models/userinfo")),
        List.of(posters, withUserInfo("s3a://catalogue/labels-userinfo-3"), "s3a://catalogue/models/userinfo"));
    for (List<String> r : requests) {
      String log;
      PosterGenresException failure;
      try (LogCapture capture = new LogCapture()) {
        failure = assertThrows(PosterGenresException.class, () -> new LabelJob(spark).run(request(r.get(0), r.get(1), r.get(2))));
        log = capture.text();
      }
      assertEquals(Failure.USAGE, failure.failure(), failure.getMessage());
      assertTrue(failure.getMessage().contains("user-info"), failure.getMessage());
      StringWriter trace = new StringWriter();
      failure.printStackTrace(new PrintWriter(trace));
      assertNoCredential("the failure of " + Redaction.redact(r), trace.toString());
      assertNoCredential("the log of " + Redaction.redact(r), log);
    }
    // The model on its own (serve, evaluate, convert read it without a LabelRequest): refused as well.
    ModelException refused = assertThrows(ModelException.class,
        () -> ModelPackage.read(withUserInfo("s3a://catalogue/models/userinfo"), spark.sparkContext().hadoopConfiguration()));
    assertNoCredential("the model's failure", refused.getMessage());
    assertFalse(s3.exists(new org.apache.hadoop.fs.Path("s3a://catalogue/labels-userinfo-1")), "nothing was written");
  }

  static LabelRequest request(String input, String output, String model) {
    return new LabelRequest(List.of(input), output, model,
        "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
  }

  static String read(FileSystem s3, String path) throws IOException {
    try (InputStream in = s3.open(new org.apache.hadoop.fs.Path(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * An S3 Inventory report as AWS writes it (manifest.json, gzip CSV data file without header,
   * URL-encoded keys, in the destination bucket) labels exactly what the listing labels.
   */
  @Test
  void anS3InventoryReportLabelsWhatTheListingLabels() throws Exception {
    Path local = posters(tmp.resolve("inv-posters"), 3, i -> "2015/night " + i + "+.jpg");
    Files.writeString(local.resolve("2015/notes.txt"), "not a poster");
    FileSystem s3 = new org.apache.hadoop.fs.Path("s3a://catalogue/").getFileSystem(spark.sparkContext().hadoopConfiguration());
    upload(s3, local, "s3a://catalogue/inv-posters");
    upload(s3, TestModels.write(tmp.resolve("inv-model"), 32, 24, 9), "s3a://catalogue/models/inv");

    StringBuilder csv = new StringBuilder();
    var files = s3.listFiles(new org.apache.hadoop.fs.Path("s3a://catalogue/inv-posters"), true);
    while (files.hasNext()) {
      var f = files.next();
      String key = f.getPath().toUri().getPath().substring(1);
      csv.append(String.format("\"catalogue\",\"%s\",\"%d\",\"%s\",\"STANDARD\"%n", URLEncoder.encode(key, StandardCharsets.UTF_8),
          f.getLen(), Instant.ofEpochMilli(f.getModificationTime())));
    }
    String dataKey = "inventories/catalogue/daily/data/0b7e2f.csv.gz";
    try (var out = new GZIPOutputStream(s3.create(new org.apache.hadoop.fs.Path("s3a://catalogue/" + dataKey), true))) {
      out.write(csv.toString().getBytes(StandardCharsets.UTF_8));
    }
    String manifest = "s3a://catalogue/inventories/catalogue/daily/2026-11-29T01-00Z/manifest.json";
    try (var out = s3.create(new org.apache.hadoop.fs.Path(manifest), true)) {
      out.write(("{\"sourceBucket\": \"catalogue\", \"destinationBucket\": \"arn:aws:s3:::catalogue\", \"version\": \"2016-11-30\", "
          + "\"fileFormat\": \"CSV\", \"fileSchema\": \"Bucket, Key, Size, LastModifiedDate, StorageClass\", "
          + "\"files\": [{\"key\": \"" + dataKey + "\", \"size\": 1, \"MD5checksum\": \"0\"}]}").getBytes(StandardCharsets.UTF_8));
    }

    LabelOptions options = new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0));
    RunSummary listed = new LabelJob(spark).run(new LabelRequest(List.of("s3a://catalogue/inv-posters"), "s3a://catalogue/inv-listed",
        "s3a://catalogue/models/inv", "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null, options));
    RunSummary fromInventory = new LabelJob(spark).run(new LabelRequest(List.of(), "s3a://catalogue/inv-inventory",
        "s3a://catalogue/models/inv", "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null, options, List.of(manifest)));
    assertEquals(3, listed.labelled());
    assertEquals(3, fromInventory.filesListed(), "notes.txt left out by the glob");
    assertEquals(3, fromInventory.labelled());
    // maps cannot be compared by set operations: scores as their sorted entries
    var scores = org.apache.spark.sql.functions.array_sort(org.apache.spark.sql.functions.map_entries(org.apache.spark.sql.functions.col("scores")));
    var a = spark.read().parquet("s3a://catalogue/inv-listed").drop("run_id", "labelled_at").withColumn("scores", scores);
    var b = spark.read().parquet("s3a://catalogue/inv-inventory").drop("run_id", "labelled_at").withColumn("scores", scores);
    assertEquals(3, b.count());
    assertEquals(0, a.exceptAll(b).count(), "every row of the listing's run, column for column");
    assertEquals(0, b.exceptAll(a).count());
  }
}
