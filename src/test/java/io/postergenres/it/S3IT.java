package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.image.TestImages;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
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

  @Test
  void postersModelAndOutputOnS3() throws Exception {
    Path local = tmp.resolve("posters");
    Files.createDirectories(local.resolve("2014"));
    for (int i = 0; i < 5; i++) {
      Files.write(local.resolve("2014/s" + i + ".JPG"), TestImages.jpeg(TestImages.solid(60, 90, new Color(40 * i, 20, 200)), false));
    }
    Files.write(local.resolve("2014/cut.jpg"), TestImages.truncated(TestImages.jpeg(TestImages.solid(200, 300, Color.RED), false), 0.4));
    Path model = TestModels.write(tmp.resolve("model"), 32, 24, 9);
    FileSystem s3 = new org.apache.hadoop.fs.Path("s3a://catalogue/").getFileSystem(spark.sparkContext().hadoopConfiguration());
    upload(s3, local, "s3a://catalogue/posters");
    upload(s3, model, "s3a://catalogue/models/test");

    LabelRequest request = new LabelRequest(List.of("s3a://catalogue/posters"), "s3a://catalogue/labels", "s3a://catalogue/models/test",
        "*.jpg", WriteMode.ERROR, 0, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)));
    RunSummary summary = new LabelJob(spark).run(request);
    assertEquals(6, summary.filesListed());
    assertEquals(5, summary.labelled());
    assertEquals(Map.of("corrupt", 1L), summary.failedByKind());
    assertEquals(6, spark.read().parquet("s3a://catalogue/labels").count());

    org.apache.hadoop.fs.Path json = new org.apache.hadoop.fs.Path("s3a://catalogue/labels/_runs/" + summary.runId() + ".json");
    String text;
    try (InputStream in = s3.open(json)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(text.contains("s3a://catalogue/posters"), text);
    assertFalse(text.contains(SECRET) || text.contains(KEY), "no credential in the run summary");
  }
}
