package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.api.GenreLabels;
import io.postergenres.image.TestImages;
import io.postergenres.ml.PosterGenresLabeller;
import java.awt.Color;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Spark standalone cluster on loopback: a master and two workers, each its own JVM, launched
 * from a SPARK_HOME laid out from Maven Central's jars. The application jar goes through Spark's
 * own SparkSubmit in client and cluster deploy modes; a task fails once (a fault of the file
 * system the test installs), one of its own executors is killed mid-run, and the output still has
 * exactly one row per poster. The DataFrame API and the ML Transformer run from a driver in this
 * JVM with the application jar, as in {@code spark-shell --jars}.
 */
class StandaloneClusterIT {
  @TempDir static Path tmp;
  static Path home;
  static final List<Process> daemons = new ArrayList<>();
  static int masterPort;
  static int masterUi;
  static Path posters;
  static final int POSTERS = 240;

  static Map<String, String> env(ProcessBuilder pb) {
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", "2.13"); // no RELEASE file: the launcher cannot tell otherwise
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("TF_CPP_MIN_LOG_LEVEL", "2");
    return env;
  }

  static Process daemon(String name, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(LocalSpark.java("1g"));
    cmd.addAll(List.of("-cp", home.resolve("jars") + "/*"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile());
    env(pb);
    Process p = pb.start();
    daemons.add(p);
    return p;
  }

  @BeforeAll
  static void startCluster() throws Exception {
    home = LocalSpark.layout(tmp.resolve("spark-home"));
    masterPort = LocalSpark.freePort();
    masterUi = LocalSpark.freePort();
    daemon("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(masterPort),
        "--webui-port", String.valueOf(masterUi)));
    for (int w = 1; w <= 2; w++) {
      daemon("worker" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "3g",
          "--webui-port", String.valueOf(LocalSpark.freePort()), "--work-dir", tmp.resolve("work" + w).toString(),
          "spark://127.0.0.1:" + masterPort));
    }
    HttpClient http = HttpClient.newHttpClient();
    // Three JVMs starting at once on a shared 2-core machine: the master alone can take a minute.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (true) {
      try {
        String json = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUi + "/json/")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        if (json.replace(" ", "").contains("\"aliveworkers\":2")) break;
      } catch (IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) fail("cluster did not come up: " + Files.readString(tmp.resolve("master.log")));
      Thread.sleep(500);
    }
    posters = tmp.resolve("posters");
    Files.createDirectories(posters);
    for (int i = 0; i < POSTERS; i++) {
      Files.write(posters.resolve(String.format("p%04d.jpg", i)),
          TestImages.jpeg(TestImages.solid(300, 444, new Color(i % 256, (7 * i) % 256, 120)), false));
    }
  }

  @AfterAll
  static void stopCluster() {
    for (Process p : daemons) p.destroy();
    for (Process p : daemons) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      p.destroyForcibly();
    }
  }

  /**
   * A class path holding {@link FlakyLocalFileSystem} alone (not the other test classes), for the
   * client-mode driver and the executors.
   */
  static Path faultClasspath() throws IOException {
    Path dir = tmp.resolve("faults");
    String name = FlakyLocalFileSystem.class.getName().replace('.', '/') + ".class";
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    try (var in = StandaloneClusterIT.class.getClassLoader().getResourceAsStream(name)) {
      Files.write(file, in.readAllBytes());
    }
    return dir;
  }

  static Process submit(String mode, Path output, String... extraConf) throws IOException {
    return submit(mode, output, null, extraConf);
  }

  /** @param driverClasspath more class path for a client-mode driver (the SparkSubmit JVM), or null */
  static Process submit(String mode, Path output, Path driverClasspath, String... extraConf) throws IOException {
    List<String> cmd = new ArrayList<>(LocalSpark.java("1g"));
    String cp = home.resolve("jars") + "/*" + (driverClasspath == null ? "" : java.io.File.pathSeparator + driverClasspath);
    cmd.addAll(List.of("-cp", cp, "org.apache.spark.deploy.SparkSubmit",
        "--master", "spark://127.0.0.1:" + masterPort, "--deploy-mode", mode,
        "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=1g",
        "--conf", "spark.driver.memory=1g", "--conf", "spark.ui.enabled=false",
        "--conf", "spark.standalone.submit.waitAppCompletion=true", "--conf", "spark.task.maxFailures=4"));
    for (String c : extraConf) cmd.addAll(List.of("--conf", c));
    cmd.addAll(List.of("--class", "io.postergenres.cli.PosterGenres", Path.of("target/poster-genres-app.jar").toAbsolutePath().toString(),
        "label", "--input", posters.toString(), "--output", output.toString(),
        "--model", Path.of("models/postercnn").toAbsolutePath().toString(), "--partitions", "12", "--batch-size", "8"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("submit-" + mode + ".log").toFile());
    env(pb);
    return pb.start();
  }

  static void assertOneRowPerPoster(Path output) {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      var rows = spark.read().parquet(output.toString());
      assertEquals(POSTERS, rows.count(), "one row per poster");
      assertEquals(POSTERS, rows.select("path").distinct().count(), "no duplicates");
      assertEquals(0, rows.where("error_kind IS NOT NULL").count());
    } finally {
      spark.stop();
    }
  }

  /** "Loaded model" lines per executor log of the given application runs. */
  static List<Long> loadsPerExecutor() throws IOException {
    List<Long> loads = new ArrayList<>();
    for (int w = 1; w <= 2; w++) {
      Path work = tmp.resolve("work" + w);
      if (!Files.exists(work)) continue;
      try (Stream<Path> files = Files.walk(work)) {
        for (Path stderr : files.filter(p -> p.getFileName().toString().equals("stderr"))
            .filter(p -> p.getParent().getParent().getFileName().toString().startsWith("app-")).toList()) {
          long n = Files.readAllLines(stderr).stream().filter(l -> l.contains("Loaded model postercnn")).count();
          if (n > 0) loads.add(n);
        }
      }
    }
    return loads;
  }

  @Test
  void clientModeWithATaskThatFailsOnce() throws Exception {
    Path out = tmp.resolve("labels-client");
    // The fault is in the file system the test installs (test classes only), not in the job.
    Path faults = faultClasspath();
    Process p = submit("client", out, faults, "spark.hadoop.fs.file.impl=" + FlakyLocalFileSystem.class.getName(),
        "spark.hadoop.fs.file.impl.disable.cache=true", "spark.executor.extraClassPath=" + faults);
    assertTrue(p.waitFor(8, TimeUnit.MINUTES), "client-mode run timed out");
    String log = Files.readString(tmp.resolve("submit-client.log"));
    assertEquals(0, p.exitValue(), log);
    assertTrue(log.contains(POSTERS + " files listed, " + POSTERS + " labelled, 0 failed"), log);
    assertTrue(log.contains(FlakyLocalFileSystem.MESSAGE + ": first attempt"), "the injected task failure happened and was retried");
    assertOneRowPerPoster(out);
    List<Long> loads = loadsPerExecutor();
    assertFalse(loads.isEmpty(), "executor logs found");
    for (long n : loads) assertEquals(1L, n, "each executor JVM loads the model once, whatever its tasks: " + loads);
  }

  @Test
  void clusterModeSurvivesAnExecutorKilledMidRun() throws Exception {
    Path out = tmp.resolve("labels-cluster");
    Process p = submit("cluster", out);
    // Kill one executor once labelling has started (the job's temporary output exists).
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    boolean killed = false;
    while (!killed && p.isAlive() && System.nanoTime() < deadline) {
      if (Files.exists(out.resolve("_temporary"))) {
        // By PID, one of this test's own executors: a child process of one of its workers, never
        // another executor that happens to run on the machine.
        ProcessHandle executor = daemons.stream().flatMap(d -> d.toHandle().descendants())
            .filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
            .findFirst().orElse(null);
        if (executor != null) {
          long pid = executor.pid();
          assertTrue(daemons.stream().anyMatch(d -> d.toHandle().descendants().anyMatch(h -> h.pid() == pid)),
              "executor " + pid + " is a child of this test's workers");
          executor.destroyForcibly();
          executor.onExit().get(30, TimeUnit.SECONDS);
          killed = true;
        }
      }
      Thread.sleep(100);
    }
    assertTrue(killed, "an executor was killed mid-run");
    assertTrue(p.waitFor(8, TimeUnit.MINUTES), "cluster-mode run timed out");
    assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("submit-cluster.log")));
    assertOneRowPerPoster(out);
  }

  @Test
  void dataFrameApiAndTransformerFromADriverWithTheAppJar() throws Exception {
    SparkSession spark = SparkSession.builder().master("spark://127.0.0.1:" + masterPort).appName("poster-genres-api")
        .config("spark.jars", Path.of("target/poster-genres-app.jar").toAbsolutePath().toString())
        .config("spark.executor.cores", "1").config("spark.cores.max", "2").config("spark.executor.memory", "1g")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    String model = Path.of("models/postercnn").toAbsolutePath().toString();
    try {
      String app = spark.sparkContext().applicationId();
      assertTimeoutPreemptively(Duration.ofMinutes(5), () -> {
        Dataset<Row> files = spark.read().format("binaryFile").load(posters + "/p00[0-1]*.jpg").repartition(4);
        List<Row> byContent = GenreLabels.withModel(model).batchSize(4).label(files).select("path", "genres", "error_kind")
            .orderBy("path").collectAsList();
        assertEquals(20, byContent.size());
        for (Row r : byContent) {
          assertNull(r.getAs("error_kind"), r.toString());
          assertNotNull(r.getAs("genres"));
        }
        List<Row> byPath = GenreLabels.label(files.select("path"), model).select("path", "genres", "error_kind").orderBy("path")
            .collectAsList();
        assertEquals(byContent, byPath, "the executors read the paths themselves and label them alike");

        Path saved = tmp.resolve("api-pipeline");
        new Pipeline().setStages(new PipelineStage[] {new PosterGenresLabeller().setModelPath(model).setBatchSize(4)})
            .fit(files).write().save(saved.toString());
        List<Row> byStage = PipelineModel.load(saved.toString()).transform(files).select("path", "genres", "error_kind")
            .orderBy("path").collectAsList();
        assertEquals(byContent, byStage, "the saved and loaded pipeline labels alike");
      });
      // One model load per executor JVM, whatever the calls and their tasks.
      List<Long> loads = new ArrayList<>();
      for (int w = 1; w <= 2; w++) {
        Path appDir = tmp.resolve("work" + w).resolve(app);
        if (!Files.isDirectory(appDir)) continue;
        try (Stream<Path> files = Files.walk(appDir)) {
          for (Path stderr : files.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
            loads.add(Files.readAllLines(stderr).stream().filter(l -> l.contains("Loaded model postercnn")).count());
          }
        }
      }
      assertFalse(loads.isEmpty(), "executor logs of " + app + " found");
      assertTrue(loads.stream().allMatch(n -> n <= 1) && loads.contains(1L),
          "each executor that labelled loaded the model once, over three calls: " + loads);
    } finally {
      spark.stop();
    }
  }
}
