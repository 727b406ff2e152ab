package io.postergenres.bench;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.RunSummary;
import io.postergenres.job.WriteMode;
import io.postergenres.model.FlopCounter;
import io.postergenres.model.GenreRules;
import io.postergenres.model.Bf16Check;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Measures, in one process and on the same posters, each in posters per second: the arithmetic
 * ceiling (TensorFlow's matrix-multiply rate over the model's FLOPs per poster), batched inference
 * in process, the Spark job end to end, the naive Spark job a user would write (a UDF per row, batch
 * of one, the model loaded per task), and reading plus preprocessing alone. Driver-only.
 */
public final class Bench {
  private static final Logger LOG = LoggerFactory.getLogger(Bench.class);
  /** What to measure. */
  public record Settings(String model, Path posters, int count, int batchSize, String master, Path workDir, String compareModel,
      int repeat) {
    public Settings(String model, Path posters, int count, int batchSize, String master, Path workDir) {
      this(model, posters, count, batchSize, master, workDir, null, 1);
    }
  }

  /** One timed measurement, in posters per second. */
  private interface Rate {
    double measure() throws Exception;
  }

  /**
   * The best of {@code repeat} measurements: on a shared host, a slower repetition measured a
   * neighbour, not this code.
   */
  private double best(Rate rate) throws Exception {
    double best = 0;
    for (int i = 0; i < Math.max(1, settings.repeat()); i++) best = Math.max(best, rate.measure());
    return best;
  }

  private final Settings settings;
  private final PrintStream out;
  private final int cores = ModelCache.Settings.allCores();

  public Bench(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  public Map<String, Object> run() throws Exception {
    LOG.info("Benchmarking {} on {} posters (batch {}, {}, best of {})", settings.model(), settings.count(), settings.batchSize(),
        settings.master(), settings.repeat());
    Map<String, Object> report = new LinkedHashMap<>();
    ModelPackage pkg = ModelPackage.read(settings.model(), new Configuration());
    ModelPackage other = null;
    if (settings.compareModel() != null) {
      try {
        other = ModelPackage.read(settings.compareModel(), new Configuration());
      } catch (ModelException e) {
        throw new ModelException("--compare-model: " + e.getMessage().replace("--model", "--compare-model"), e);
      }
    }
    Path posters = preparePosters();
    PosterModel model = ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(0, 0).resolved(), () -> {});
    long flops = FlopCounter.flopsPerExample(model.graph());
    Map<String, Object> results = new LinkedHashMap<>();

    double gflops = matmulGflops(2048, 20);
    double ceiling = gflops * 1e9 / Math.max(1, flops);
    results.put("ceiling", Map.of("matmul_gflops", round(gflops), "model_flops_per_poster", flops, "posters_per_second", round(ceiling)));
    line("1. ceiling (" + round(gflops) + " GFLOPS / " + round(flops / 1e6) + " MFLOP per poster)", ceiling);

    List<byte[]> files = readAll(posters);
    Preprocessor pre = new Preprocessor(pkg.spec().inputHeight(), pkg.spec().inputWidth(), 50_000_000);
    double prep = preprocessRate(files, pre);
    Preprocessor imageIo = new Preprocessor(pkg.spec().inputHeight(), pkg.spec().inputWidth(), 50_000_000, false);
    double prepImageIo = preprocessRate(files, imageIo);
    double inProcess = inferenceRate(files, pre, model);
    results.put("in_process_inference", Map.of("posters_per_second", round(inProcess), "callers", cores,
        "note", "preprocessed in advance; TensorFlow only, " + cores + " threads calling one session as the job's tasks do"));
    line("2. batched inference in process, no Spark", inProcess);
    double bound = 1 / (1 / inProcess + 1 / prep);
    results.put("decode_and_infer_bound", Map.of("posters_per_second", round(bound),
        "note", "1 / (1/in-process + 1/preprocess): the most the same cores can do when they both decode and infer"));
    line("2a. bound when the same cores decode and infer (1/(1/2 + 1/5))", bound);
    double pipeline = best(() -> pipelineRate(posters, pre, model));
    results.put("in_process_pipeline", Map.of("posters_per_second", round(pipeline),
        "note", "read, hash, decode and infer on " + cores + " threads sharing one session, no Spark: the job's work without Spark"));
    line("2c. read + decode + infer in process, no Spark", pipeline);
    // The raw bfloat16 session (the job and serve use it only when Bf16Check passes on this CPU).
    PosterModel bf16 = PosterModel.load(writeLocal(pkg, "bf16-model"), pkg.spec(), ModelCache.Settings.allCores(), 2, true);
    double inProcessBf16 = inferenceRate(files, pre, bf16);
    Map<String, Object> agreement = agreement(files, pre, model, bf16, pkg.spec().genres().size());
    Bf16Check.Result check = Bf16Check.run(model, bf16);
    bf16.close();
    Map<String, Object> bfResult = new LinkedHashMap<>();
    bfResult.put("self_check_passed", check.passed());
    bfResult.put("self_check", check.describe());
    bfResult.put("posters_per_second", round(inProcessBf16));
    bfResult.put("speed_up", round(inProcessBf16 / inProcess));
    bfResult.putAll(agreement);
    bfResult.put("note", "--bf16: grappler auto mixed precision (oneDNN bfloat16); scores compared with float32 on the same posters");
    results.put("in_process_inference_bf16", bfResult);
    line("2b. the same with --bf16 (max score diff " + agreement.get("max_score_difference") + ", top-3 agree "
        + agreement.get("top3_agreement") + ")", inProcessBf16);

    if (other != null) {
      boolean sameSize = other.spec().inputHeight() == pkg.spec().inputHeight() && other.spec().inputWidth() == pkg.spec().inputWidth();
      // A model of another input size gets the same posters preprocessed at its own size.
      Preprocessor otherPre = sameSize ? pre : new Preprocessor(other.spec().inputHeight(), other.spec().inputWidth(), 50_000_000);
      try (PosterModel second = PosterModel.load(writeLocal(other, "compare-model"), other.spec(), cores, 2, false)) {
        double otherRate = inferenceRate(files, otherPre, second);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", other.spec().name() + " " + other.spec().version());
        c.put("model_flops_per_poster", FlopCounter.flopsPerExample(second.graph()));
        c.put("posters_per_second", round(otherRate));
        c.put("model_over_compared", round(inProcess / otherRate));
        c.put("input", other.spec().inputHeight() + "x" + other.spec().inputWidth());
        if (sameSize && other.spec().genres().equals(pkg.spec().genres())) {
          c.putAll(agreement(files, pre, model, second, pkg.spec().genres().size()));
        }
        results.put("in_process_inference_compared_model", c);
        line("2d. in-process inference of --compare-model " + other.spec().name(), otherRate);
      }
    }
    SparkSession spark = SparkSession.builder().master(settings.master()).appName("poster-genres bench")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", String.valueOf(2 * cores)).getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      // Warm Spark up (class loading, code generation, first model load) on a few posters, as a
      // long-running nightly job is warm after its first seconds; the measured runs start warm.
      Path few = settings.workDir().resolve("warm-up");
      Files.createDirectories(few);
      try (Stream<Path> s0 = Files.list(posters)) {
        for (Path p : s0.sorted().limit(64).toList()) Files.copy(p, few.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
      sparkJobRate(spark, few, "warm-job", true, false);
      sparkJobRate(spark, few, "warm-job-bf16", true, true);
      naiveRate(spark, few, pkg, "warm-naive");
      double job = 0;
      double sequential = 0;
      double jobBf16 = 0;
      for (int i = 0; i < Math.max(1, settings.repeat()); i++) { // interleaved: no mode always runs first
        job = Math.max(job, sparkJobRate(spark, posters, "job-out", true, false));
        sequential = Math.max(sequential, sparkJobRate(spark, posters, "job-out-sequential", false, false));
        jobBf16 = Math.max(jobBf16, sparkJobRate(spark, posters, "job-out-bf16", true, true));
      }
      results.put("spark_job", Map.of("posters_per_second", round(job), "note", "list, read, decode, infer, write Parquet; Spark already started"));
      line("3. Spark job end to end (local mode)", job);
      results.put("spark_job_without_decode_ahead", Map.of("posters_per_second", round(sequential)));
      line("3b. the same without decode-ahead (decode, then infer)", sequential);
      results.put("spark_job_bf16", Map.of("posters_per_second", round(jobBf16), "speed_up", round(jobBf16 / job)));
      line("3c. the same with --bf16", jobBf16);
      double naive = best(() -> naiveRate(spark, posters, pkg, "naive-out"));
      results.put("naive_udf_job", Map.of("posters_per_second", round(naive), "note", "UDF per row, batch of one, model loaded per task"));
      line("4. naive job: UDF per row, model per task", naive);
      results.put("read_and_preprocess", Map.of("posters_per_second", round(prep), "threads", cores));
      line("5. read + preprocess alone (" + cores + " threads)", prep);
      results.put("read_and_preprocess_imageio", Map.of("posters_per_second", round(prepImageIo), "speed_up_of_tensorflow_jpeg", round(prep / prepImageIo),
          "note", "JPEG through ImageIO + Java2D too, as before TensorFlow's JPEG decoder"));
      line("5b. the same with ImageIO decoding JPEG as well", prepImageIo);
      Map<String, Object> ratios = new LinkedHashMap<>();
      ratios.put("spark_job_over_ceiling", round(job / ceiling));
      ratios.put("spark_job_over_in_process", round(job / inProcess));
      ratios.put("spark_job_over_decode_and_infer_bound", round(job / bound));
      ratios.put("spark_job_over_in_process_pipeline", round(job / pipeline));
      ratios.put("spark_job_over_naive", round(job / naive));
      report.put("ratios", ratios);
      out.printf(Locale.ROOT, "ratios: job/ceiling %.3f, job/in-process %.3f, job/(decode+infer bound) %.3f, "
          + "job/(in-process read+decode+infer) %.3f, job/naive %.2f%n", job / ceiling, job / inProcess, job / bound, job / pipeline, job / naive);
    } finally {
      spark.stop();
    }
    report.put("results", results);
    report.put("model", Map.of("name", pkg.spec().name(), "version", pkg.spec().version(),
        "input", pkg.spec().inputHeight() + "x" + pkg.spec().inputWidth(), "bytes", pkg.sizeBytes()));
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("posters", files.size());
    s.put("batch_size", settings.batchSize());
    s.put("repeat", Math.max(1, settings.repeat()));
    s.put("master", settings.master());
    s.put("cores", cores);
    s.put("tensorflow_intra_op_threads", cores);
    s.put("cpu", cpuModel());
    report.put("settings", s);
    report.put("peak_rss_mb", peakRssMb());
    out.printf(Locale.ROOT, "peak resident memory of this process: %d MB%n", peakRssMb());
    return report;
  }

  public static void writeJson(Map<String, Object> report, Path file) throws IOException {
    Files.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(report));
  }

  private void line(String what, double postersPerSecond) {
    out.printf(Locale.ROOT, "%-62s %10.1f posters/s%n", what, postersPerSecond);
    out.flush();
  }

  /** Copies {@code count} posters (cycling through the source) into a work folder, so every part reads the same files. */
  private Path preparePosters() throws IOException {
    List<Path> source;
    try (Stream<Path> s = Files.walk(settings.posters())) {
      source = s.filter(Files::isRegularFile).filter(p -> p.toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png|gif|bmp)$"))
          .sorted().toList();
    }
    if (source.isEmpty()) throw new IOException("no posters under " + settings.posters());
    Path dir = settings.workDir().resolve("posters");
    Files.createDirectories(dir);
    for (int i = 0; i < settings.count(); i++) {
      Path src = source.get(i % source.size());
      Path dst = dir.resolve(String.format(Locale.ROOT, "%06d-%s", i, src.getFileName()));
      if (!Files.exists(dst)) Files.copy(src, dst);
    }
    return dir;
  }

  private static List<byte[]> readAll(Path dir) throws IOException {
    List<byte[]> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) files.add(Files.readAllBytes(p));
    }
    return files;
  }

  /** TensorFlow's float32 matrix-multiply rate on this machine, in GFLOPS: the best of 5 rounds. */
  private double matmulGflops(int n, int runs) {
    ConfigProto config = ConfigProto.newBuilder().setIntraOpParallelismThreads(cores).setInterOpParallelismThreads(1).build();
    float[] data = new float[n * n];
    Random r = new Random(1);
    for (int i = 0; i < data.length; i++) data[i] = r.nextFloat();
    try (Graph g = new Graph(); Session s = new Session(g, config);
        TFloat32 a = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(data, true, false));
        TFloat32 b = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(data, true, false))) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> pa = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      Placeholder<TFloat32> pb = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      var sum = tf.reduceSum(tf.linalg.matMul(pa, pb), tf.constant(new int[] {0, 1}));
      for (int i = 0; i < 2; i++) {
        try (Result res = s.runner().feed(pa, a).feed(pb, b).fetch(sum).run()) { /* warm up */ }
      }
      // The ceiling is what the machine can do, so take the best of several rounds: a round that a
      // neighbour on a shared host interrupted says nothing about the arithmetic.
      double best = 0;
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < runs; i++) {
          try (Result res = s.runner().feed(pa, a).feed(pb, b).fetch(sum).run()) { /* timed */ }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        best = Math.max(best, 2.0 * n * n * n * runs / seconds / 1e9);
      }
      return best;
    }
  }

  private double preprocessRate(List<byte[]> files, Preprocessor pre) throws Exception {
    float[] warm = new float[pre.floatsPerImage()];
    for (int i = 0; i < Math.min(64, files.size()); i++) {
      try {
        pre.preprocessInto(files.get(i), warm, 0); // let the JIT compile the decoder first
      } catch (PosterException e) {
        // timed below like any other
      }
    }
    // Warm-up once; only the timed part repeats (--repeat).
    return best(() -> files.size() / onEveryCore(start -> {
      float[] buf = new float[pre.floatsPerImage()];
      for (int i = start; i < files.size(); i += cores) {
        try {
          pre.preprocessInto(files.get(i), buf, 0);
        } catch (PosterException e) {
          // counted as done: the job turns it into an error row just as fast
        }
      }
    }));
  }

  /** Work for one of {@link #cores} threads, given its index 0..cores-1. */
  private interface Worker {
    void run(int thread) throws Exception;
  }

  /** Runs {@code work} on {@link #cores} threads at once; the seconds until the last finished. */
  private double onEveryCore(Worker work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(cores);
    try {
      long t0 = System.nanoTime();
      List<Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < cores; t++) {
        final int thread = t;
        parts.add(pool.submit(() -> {
          work.run(thread);
          return null;
        }));
      }
      for (Future<?> f : parts) f.get();
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      pool.shutdown();
    }
  }

  private double inferenceRate(List<byte[]> files, Preprocessor pre, PosterModel model) throws Exception {
    int per = pre.floatsPerImage();
    int batch = settings.batchSize();
    int batches = (files.size() + batch - 1) / batch;
    int keep = Math.min(batches, Math.max(1, (int) (1_500_000_000L / 4 / ((long) per * batch)))); // at most ~1.5 GB of floats
    List<float[]> prepared = new ArrayList<>();
    for (int b = 0; b < keep; b++) {
      float[] px = new float[batch * per];
      for (int i = 0; i < batch; i++) pre.preprocessInto(files.get((b * batch + i) % files.size()), px, i * per);
      prepared.add(px);
    }
    model.predict(prepared.get(0), batch); // warm up
    // The batches are decoded once (up to 1.5 GB); only the timed part repeats (--repeat).
    return best(() -> (double) batches * batch / onEveryCore(first -> {
      for (int b = first; b < batches; b += cores) model.predict(prepared.get(b % prepared.size()), batch);
    }));
  }

  /**
   * The job's per-poster work without Spark: {@code cores} threads, each taking whole batches of the
   * poster files, reading, hashing and decoding them, then scoring the batch on the shared session.
   */
  private double pipelineRate(Path posters, Preprocessor pre, PosterModel model) throws Exception {
    List<Path> paths;
    try (Stream<Path> s = Files.list(posters)) {
      paths = s.sorted().toList();
    }
    int batch = settings.batchSize();
    int per = pre.floatsPerImage();
    int batches = (paths.size() + batch - 1) / batch;
    double seconds = onEveryCore(first -> {
      float[] px = new float[batch * per];
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      for (int b = first; b < batches; b += cores) {
        int n = 0;
        for (int i = b * batch; i < Math.min(paths.size(), (b + 1) * batch); i++) {
          byte[] bytes = Files.readAllBytes(paths.get(i));
          sha256.digest(bytes);
          try {
            pre.preprocessInto(bytes, px, n * per);
            n++;
          } catch (PosterException e) {
            // an error row in the job: no inference
          }
        }
        if (n > 0) model.predict(px, n);
      }
    });
    return paths.size() / seconds;
  }

  /** How far {@code b}'s scores are from {@code a}'s on up to 256 of the posters: largest difference, top-3 agreement. */
  private static Map<String, Object> agreement(List<byte[]> files, Preprocessor pre, PosterModel a, PosterModel b, int g)
      throws PosterException {
    int n = Math.min(256, files.size());
    int per = pre.floatsPerImage();
    double max = 0;
    int same = 0;
    for (int from = 0; from < n; from += 32) {
      int k = Math.min(32, n - from);
      float[] px = new float[k * per];
      for (int i = 0; i < k; i++) pre.preprocessInto(files.get(from + i), px, i * per);
      float[] sa = a.predict(px, k);
      float[] sb = b.predict(px, k);
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < g; j++) max = Math.max(max, Math.abs(sa[i * g + j] - sb[i * g + j]));
        if (top3(sa, i * g, g).equals(top3(sb, i * g, g))) same++;
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("max_score_difference", Math.round(max * 1e5) / 1e5);
    m.put("top3_agreement", round((double) same / n));
    m.put("compared_posters", n);
    return m;
  }

  private static Set<Integer> top3(float[] s, int off, int g) {
    Integer[] idx = new Integer[g];
    for (int j = 0; j < g; j++) idx[j] = j;
    Arrays.sort(idx, (p, q) -> Float.compare(s[off + q], s[off + p]));
    return new HashSet<>(Arrays.asList(idx).subList(0, Math.min(3, g)));
  }

  private double sparkJobRate(SparkSession spark, Path posters, String outName, boolean decodeAhead, boolean bf16) {
    LabelRequest request = new LabelRequest(List.of(posters.toString()), settings.workDir().resolve(outName).toString(),
        settings.model(), "*.{jpg,jpeg,png,gif,bmp}", WriteMode.OVERWRITE, 0, 1.0, Map.of(), null, null,
        new LabelOptions(settings.batchSize(), 50_000_000, 100_000_000, new ModelCache.Settings(0, 0, bf16), decodeAhead));
    RunSummary summary = new LabelJob(spark).run(request);
    return summary.filesListed() / summary.durationSeconds();
  }

  private double naiveRate(SparkSession spark, Path posters, ModelPackage pkg, String outName) throws IOException {
    Path local = writeLocal(pkg, "naive-model");
    spark.udf().register("naive_genres", new NaiveUdf(local.toString()), DataTypes.createArrayType(DataTypes.StringType));
    long t0 = System.nanoTime();
    spark.read().format("binaryFile").load(posters.toString())
        .select(col("path"), callUDF("naive_genres", col("content")).as("genres"))
        .write().mode(SaveMode.Overwrite).parquet(settings.workDir().resolve(outName).toString());
    long n = spark.read().parquet(settings.workDir().resolve(outName).toString()).count();
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /**
   * What a user would write first: a UDF that loads the model lazily into a transient field (so once
   * per task, as each task deserializes its own copy) and scores one poster per call. It closes its
   * model when the task ends only so that the benchmark does not leak native memory.
   */
  static final class NaiveUdf implements UDF1<byte[], String[]> {
    private static final long serialVersionUID = 1L;
    private final String dir;
    private transient PosterModel model;
    private transient Preprocessor pre;
    private transient GenreRules rules;

    NaiveUdf(String dir) {
      this.dir = dir;
    }

    @Override
    public String[] call(byte[] content) throws Exception {
      if (model == null) {
        ModelPackage pkg = ModelPackage.read(dir, new Configuration());
        model = PosterModel.load(Path.of(dir), pkg.spec(), 0, 0);
        pre = new Preprocessor(pkg.spec().inputHeight(), pkg.spec().inputWidth(), 50_000_000);
        rules = GenreRules.of(pkg.spec());
        PosterModel m = model;
        TaskContext.get().addTaskCompletionListener((TaskCompletionListener) ctx -> m.close());
      }
      try {
        return rules.assign(model.predict(pre.preprocess(content), 1), 0).toArray(new String[0]);
      } catch (PosterException e) {
        return null;
      }
    }
  }

  private Path writeLocal(ModelPackage pkg, String name) throws IOException {
    Path local = settings.workDir().resolve(name);
    if (!Files.exists(local)) pkg.writeTo(local);
    return local;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    } catch (IOException e) {
      // not Linux
    }
    Runtime rt = Runtime.getRuntime();
    return (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }
}
