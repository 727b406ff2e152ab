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
import java.util.TreeMap;
import java.util.TreeSet;
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
 *
 * <p>Every line but the ceiling is measured {@code repeat} times, interleaved: each round measures
 * every line once, starting one line later than the round before, so that a neighbour's burst on a
 * shared host disturbs one measurement of several lines rather than every measurement of one. Each
 * line is reported as the median with its minimum and maximum ({@link Measurements}), flagged when
 * they spread too widely to trust. The job also runs at several sizes in each round, which splits its
 * time into a fixed part per run, step by step, and a marginal rate.
 */
public final class Bench {
  private static final Logger LOG = LoggerFactory.getLogger(Bench.class);
  /** Rounds when none is asked for: the fewest with a median that one disturbed measurement cannot move. */
  public static final int DEFAULT_REPEAT = 3;

  /**
   * What to measure.
   *
   * @param repeat rounds: measurements of each line
   * @param sizes posters per job run for the fixed/marginal split (empty: a quarter, half and all of {@code count})
   */
  public record Settings(String model, Path posters, int count, int batchSize, String master, Path workDir, String compareModel,
      int repeat, List<Integer> sizes) {
    public Settings {
      sizes = List.copyOf(sizes);
    }

    public Settings(String model, Path posters, int count, int batchSize, String master, Path workDir, String compareModel, int repeat) {
      this(model, posters, count, batchSize, master, workDir, compareModel, repeat, List.of());
    }

    public Settings(String model, Path posters, int count, int batchSize, String master, Path workDir) {
      this(model, posters, count, batchSize, master, workDir, null, DEFAULT_REPEAT);
    }

    /** The job's run sizes, smallest first, {@code count} always among them. */
    public List<Integer> jobSizes() {
      Set<Integer> all = new TreeSet<>(sizes.isEmpty() ? List.of(Math.max(1, count / 4), Math.max(1, count / 2)) : sizes);
      all.add(count);
      return List.copyOf(all);
    }
  }

  /** One timed measurement, in posters per second. */
  private interface Rate {
    double measure() throws Exception;
  }

  /** One line of the table: measured once per round. */
  private record Line(String key, Rate rate) {}

  private final Settings settings;
  private final PrintStream out;
  private final int cores = ModelCache.Settings.allCores();

  public Bench(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  public Map<String, Object> run() throws Exception {
    int rounds = Math.max(1, settings.repeat());
    List<Integer> sizes = settings.jobSizes();
    LOG.info("Benchmarking {} on {} posters (batch {}, {}, median of {}, job sizes {})", settings.model(), settings.count(),
        settings.batchSize(), settings.master(), rounds, sizes);
    String loadBefore = loadAverage();
    Map<String, Object> report = new LinkedHashMap<>();
    ModelPackage pkg = ModelPackage.read(settings.model(), new Configuration()).withoutTextStage();
    ModelPackage other = null;
    if (settings.compareModel() != null) {
      try {
        other = ModelPackage.read(settings.compareModel(), new Configuration()).withoutTextStage();
      } catch (ModelException e) {
        throw new ModelException("--compare-model: " + e.getMessage().replace("--model", "--compare-model"), e);
      }
    }
    Path posters = preparePosters();
    Map<Integer, Path> bySize = new LinkedHashMap<>();
    for (int n : sizes) bySize.put(n, n == settings.count() ? posters : subset(posters, n));
    long tLoad = System.nanoTime();
    PosterModel model = ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(0, 0).resolved(), () -> {});
    double modelLoadSeconds = (System.nanoTime() - tLoad) / 1e9;
    long flops = FlopCounter.flopsPerExample(model.graph());
    Map<String, Object> results = new LinkedHashMap<>();

    double gflops = matmulGflops(2048, 20);
    double ceiling = gflops * 1e9 / Math.max(1, flops);
    results.put("ceiling", Map.of("matmul_gflops", round(gflops), "model_flops_per_poster", flops, "posters_per_second", round(ceiling),
        "note", "the best of 5 rounds, on purpose: what the machine can do"));

    List<byte[]> files = readAll(posters);
    Preprocessor pre = new Preprocessor(pkg.spec().inputHeight(), pkg.spec().inputWidth(), 50_000_000);
    Preprocessor imageIo = new Preprocessor(pkg.spec().inputHeight(), pkg.spec().inputWidth(), 50_000_000, false);
    warmPreprocessor(files, pre);
    warmPreprocessor(files, imageIo);
    List<float[]> prepared = prepareBatches(files, pre);
    // The raw bfloat16 session (the job and serve use it only when Bf16Check passes on this CPU).
    PosterModel bf16 = PosterModel.load(writeLocal(pkg, "bf16-model"), pkg.spec(), ModelCache.Settings.allCores(), 2, true);
    PosterModel second = null;
    SparkSession spark = null;
    try {
      Map<String, Object> agreement = agreement(files, pre, model, bf16, pkg.spec().genres().size());
      Bf16Check.Result check = Bf16Check.run(model, bf16);
      List<Line> lines = new ArrayList<>();
      lines.add(new Line("in_process_inference", () -> inferenceRate(prepared, files.size(), model)));
      lines.add(new Line("in_process_inference_bf16", () -> inferenceRate(prepared, files.size(), bf16)));
      lines.add(new Line("in_process_pipeline", () -> pipelineRate(posters, pre, model)));
      boolean sameSize = other != null && other.spec().inputHeight() == pkg.spec().inputHeight()
          && other.spec().inputWidth() == pkg.spec().inputWidth();
      List<float[]> otherPrepared = null;
      if (other != null) {
        // A model of another input size gets the same posters preprocessed at its own size.
        otherPrepared = sameSize ? prepared
            : prepareBatches(files, new Preprocessor(other.spec().inputHeight(), other.spec().inputWidth(), 50_000_000));
        second = PosterModel.load(writeLocal(other, "compare-model"), other.spec(), cores, 2, false);
        PosterModel compared = second;
        List<float[]> batches = otherPrepared;
        lines.add(new Line("in_process_inference_compared_model", () -> inferenceRate(batches, files.size(), compared)));
      }

      long tSession = System.nanoTime();
      spark = SparkSession.builder().master(settings.master()).appName("poster-genres bench")
          .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", String.valueOf(2 * cores)).getOrCreate();
      double sessionSeconds = (System.nanoTime() - tSession) / 1e9;
      spark.sparkContext().setLogLevel("WARN");
      SparkSession session = spark;
      // Warm Spark up (class loading, code generation, first model load) on a few posters, as a
      // long-running nightly job is warm after its first seconds; the measured runs start warm.
      Path few = subset(posters, Math.min(64, settings.count()), "warm-up");
      sparkJob(spark, few, "warm-job", true, false);
      sparkJob(spark, few, "warm-job-bf16", true, true);
      naiveRate(spark, few, pkg, "warm-naive");

      // The job at each size; the largest is line 3. Each run's time is the sum of its steps.
      Map<Integer, List<RunSummary>> runs = new TreeMap<>();
      for (int n : sizes) {
        runs.put(n, new ArrayList<>());
        lines.add(new Line(jobKey(n), () -> {
          RunSummary run = sparkJob(session, bySize.get(n), "job-out-" + n, true, false);
          runs.get(n).add(run);
          return run.filesListed() / runSeconds(run);
        }));
      }
      lines.add(new Line("spark_job_without_decode_ahead", () -> rate(sparkJob(session, posters, "job-out-sequential", false, false))));
      lines.add(new Line("spark_job_bf16", () -> rate(sparkJob(session, posters, "job-out-bf16", true, true))));
      lines.add(new Line("naive_udf_job", () -> naiveRate(session, posters, pkg, "naive-out")));
      lines.add(new Line("read_and_preprocess", () -> preprocessRate(files, pre)));
      lines.add(new Line("read_and_preprocess_imageio", () -> preprocessRate(files, imageIo)));

      Map<String, double[]> measured = new LinkedHashMap<>();
      for (Line l : lines) measured.put(l.key(), new double[rounds]);
      for (int r = 0; r < rounds; r++) {
        out.printf(Locale.ROOT, "round %d of %d ...%n", r + 1, rounds);
        out.flush();
        for (int i = 0; i < lines.size(); i++) {
          Line l = lines.get((i + r) % lines.size()); // each round starts one line later
          measured.get(l.key())[r] = l.rate().measure();
        }
      }
      Map<String, Measurements.Spread> m = new LinkedHashMap<>();
      measured.forEach((k, v) -> m.put(k, Measurements.of(v)));

      String job = jobKey(settings.count());
      out.printf(Locale.ROOT, "%-62s %s%n", "posters/s: median [min-max] spread (! over " + Math.round(100 * Measurements.WIDE)
          + "%: too wide to trust)", rounds + " measurements each");
      line("1. ceiling (" + round(gflops) + " GFLOPS / " + round(flops / 1e6) + " MFLOP per poster, best of 5)", ceiling);
      line("2. batched inference in process, no Spark", m.get("in_process_inference"));
      double inProcess = m.get("in_process_inference").median();
      double prep = m.get("read_and_preprocess").median();
      double bound = 1 / (1 / inProcess + 1 / prep);
      line("2a. bound when the same cores decode and infer (1/(1/2 + 1/5))", bound);
      line("2b. the same with --bf16 (max score diff " + agreement.get("max_score_difference") + ", top-3 agree "
          + agreement.get("top3_agreement") + ")", m.get("in_process_inference_bf16"));
      line("2c. read + decode + infer in process, no Spark", m.get("in_process_pipeline"));
      if (other != null) line("2d. in-process inference of --compare-model " + other.spec().name(), m.get("in_process_inference_compared_model"));
      line("3. Spark job end to end (local mode, " + settings.count() + " posters)", m.get(job));
      for (int n : sizes) if (n != settings.count()) line("3a. the same on " + n + " posters", m.get(jobKey(n)));
      line("3b. the same without decode-ahead (decode, then infer)", m.get("spark_job_without_decode_ahead"));
      line("3c. the same with --bf16", m.get("spark_job_bf16"));
      line("4. naive job: UDF per row, model per task", m.get("naive_udf_job"));
      line("5. read + preprocess alone (" + cores + " threads)", m.get("read_and_preprocess"));
      line("5b. the same with ImageIO decoding JPEG as well", m.get("read_and_preprocess_imageio"));
      Map<String, Double> shares = topShares(model.opTimeShares(prepared.get(0), settings.batchSize(), PROFILE_RUNS), PROFILE_TOP);
      out.printf(Locale.ROOT, "6. where inference time goes on this CPU (TensorFlow's trace of %d runs of one batch; share of all ops' time):%n",
          PROFILE_RUNS);
      shares.forEach((op, share) -> out.printf(Locale.ROOT, "   %-56s %5.1f%%%n", op, 100 * share));
      Map<String, Object> profile = new LinkedHashMap<>();
      shares.forEach((op, share) -> profile.put(op, round(share)));
      results.put("op_time_shares", Map.of("shares", profile, "runs", PROFILE_RUNS, "batch_size", settings.batchSize(),
          "note", "each op type's share of the summed time of all ops in TensorFlow's trace (ops run side by side on the intra-op threads:"
              + " work, not wall time); the op types TensorFlow ran after rewriting the graph"));

      results.put("in_process_inference", with(m.get("in_process_inference"), "callers", cores,
          "note", "preprocessed in advance; TensorFlow only, " + cores + " threads calling one session as the job's tasks do"));
      results.put("decode_and_infer_bound", Map.of("posters_per_second", round(bound),
          "note", "1 / (1/in-process + 1/preprocess), of the medians: the most the same cores can do when they both decode and infer"));
      results.put("in_process_pipeline", with(m.get("in_process_pipeline"),
          "note", "read, hash, decode and infer on " + cores + " threads sharing one session, no Spark: the job's work without Spark"));
      Map<String, Object> bfResult = with(m.get("in_process_inference_bf16"), "self_check_passed", check.passed(),
          "self_check", check.describe(), "speed_up", round(m.get("in_process_inference_bf16").median() / inProcess));
      bfResult.putAll(agreement);
      bfResult.put("note", "--bf16: grappler auto mixed precision (oneDNN bfloat16); scores compared with float32 on the same posters");
      results.put("in_process_inference_bf16", bfResult);
      if (other != null) {
        Map<String, Object> c = with(m.get("in_process_inference_compared_model"), "model", other.spec().name() + " " + other.spec().version(),
            "model_flops_per_poster", FlopCounter.flopsPerExample(second.graph()),
            "model_over_compared", round(inProcess / m.get("in_process_inference_compared_model").median()),
            "input", other.spec().inputHeight() + "x" + other.spec().inputWidth());
        if (sameSize && other.spec().genres().equals(pkg.spec().genres())) {
          c.putAll(agreement(files, pre, model, second, pkg.spec().genres().size()));
        }
        results.put("in_process_inference_compared_model", c);
      }
      double jobRate = m.get(job).median();
      results.put("spark_job", with(m.get(job), "posters", settings.count(),
          "note", "list, read, decode, infer, write Parquet, count, report; Spark already started"));
      for (int n : sizes) if (n != settings.count()) results.put(jobKey(n), with(m.get(jobKey(n)), "posters", n));
      results.put("spark_job_without_decode_ahead", with(m.get("spark_job_without_decode_ahead")));
      results.put("spark_job_bf16", with(m.get("spark_job_bf16"), "speed_up", round(m.get("spark_job_bf16").median() / jobRate)));
      results.put("naive_udf_job", with(m.get("naive_udf_job"), "note", "UDF per row, batch of one, model loaded per task"));
      results.put("read_and_preprocess", with(m.get("read_and_preprocess"), "threads", cores));
      results.put("read_and_preprocess_imageio", with(m.get("read_and_preprocess_imageio"),
          "speed_up_of_tensorflow_jpeg", round(prep / m.get("read_and_preprocess_imageio").median()),
          "note", "JPEG through ImageIO + Java2D too, as before TensorFlow's JPEG decoder"));

      Map<String, Object> cost = jobCost(runs, m.get("in_process_pipeline"), sessionSeconds, modelLoadSeconds);
      report.put("job_cost", cost);

      double pipeline = m.get("in_process_pipeline").median();
      double naive = m.get("naive_udf_job").median();
      Map<String, Object> ratios = new LinkedHashMap<>();
      ratios.put("spark_job_over_ceiling", round(jobRate / ceiling));
      ratios.put("spark_job_over_in_process", round(jobRate / inProcess));
      ratios.put("spark_job_over_decode_and_infer_bound", round(jobRate / bound));
      ratios.put("spark_job_over_in_process_pipeline", round(jobRate / pipeline));
      ratios.put("spark_job_over_naive", round(jobRate / naive));
      Object marginalOverPipeline = ((Map<?, ?>) cost.getOrDefault("marginal_over_in_process_pipeline", Map.of())).get("median");
      if (marginalOverPipeline != null) ratios.put("spark_job_marginal_over_in_process_pipeline", marginalOverPipeline);
      report.put("ratios", ratios);
      // Each round's job against the same round's work without Spark: a pair disturbed together.
      Map<String, Object> paired = new LinkedHashMap<>();
      paired.put("spark_job_over_in_process_pipeline", pairedRatio(measured.get(job), measured.get("in_process_pipeline")).toJson("median"));
      paired.put("spark_job_over_in_process", pairedRatio(measured.get(job), measured.get("in_process_inference")).toJson("median"));
      report.put("ratios_per_round", paired);
      out.printf(Locale.ROOT, "ratios of the medians: job/ceiling %.3f, job/in-process %.3f, job/(decode+infer bound) %.3f, "
          + "job/(in-process read+decode+infer) %.3f, job/naive %.2f%n", jobRate / ceiling, jobRate / inProcess, jobRate / bound,
          jobRate / pipeline, jobRate / naive);
      out.printf(Locale.ROOT, "job/(read+decode+infer without Spark), round by round: %s%n",
          pairedRatio(measured.get(job), measured.get("in_process_pipeline")).describe("%.3f"));
    } finally {
      if (spark != null) spark.stop();
      bf16.close();
      if (second != null) second.close();
    }
    report.put("results", results);
    report.put("model", Map.of("name", pkg.spec().name(), "version", pkg.spec().version(),
        "input", pkg.spec().inputHeight() + "x" + pkg.spec().inputWidth(), "bytes", pkg.sizeBytes()));
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("posters", files.size());
    s.put("job_sizes", sizes);
    s.put("batch_size", settings.batchSize());
    s.put("repeat", rounds);
    s.put("master", settings.master());
    s.put("cores", cores);
    s.put("tensorflow_intra_op_threads", cores);
    s.put("cpu", cpuModel());
    s.put("cpu_avx512", cpuFlags().contains("avx512f"));
    s.put("tf_enable_onednn_opts", System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow's choice: on with AVX-512)"));
    s.put("load_average_before", loadBefore);
    s.put("load_average_after", loadAverage());
    report.put("settings", s);
    report.put("peak_rss_mb", peakRssMb());
    out.printf(Locale.ROOT, "load average (1, 5, 15 min) before %s, after %s; above %d the figures measured neighbours too%n",
        loadBefore, loadAverage(), cores);
    out.printf(Locale.ROOT, "peak resident memory of this process: %d MB%n", peakRssMb());
    return report;
  }

  /**
   * The job's time split into a fixed part per run and a marginal rate: each round's runs at every
   * size fitted by least squares (so each round is one estimate, and the median of the rounds is
   * reported with its spread), and each step's share of the fixed part as the intercept of its own
   * fit. The steps' intercepts add up to the run's, since the run's time is the sum of its steps.
   */
  private Map<String, Object> jobCost(Map<Integer, List<RunSummary>> runs, Measurements.Spread pipeline, double sessionSeconds,
      double modelLoadSeconds) {
    Map<String, Object> cost = new LinkedHashMap<>();
    List<Integer> sizes = List.copyOf(runs.keySet());
    int rounds = runs.get(sizes.get(0)).size();
    double[] x = sizes.stream().mapToDouble(Integer::doubleValue).toArray();
    List<String> steps = new ArrayList<>();
    runs.values().forEach(list -> list.forEach(r -> r.stepsSeconds().keySet().forEach(k -> {
      if (!steps.contains(k)) steps.add(k);
    })));
    Map<String, Object> bySize = new LinkedHashMap<>();
    for (int n : sizes) {
      Map<String, Object> atSize = new LinkedHashMap<>();
      atSize.put("run_seconds", Measurements.of(runs.get(n).stream().mapToDouble(Bench::runSeconds).toArray()).toJson("median"));
      Map<String, Object> stepMedians = new LinkedHashMap<>();
      for (String step : steps) {
        stepMedians.put(step, round(Measurements.of(runs.get(n).stream().mapToDouble(r -> r.stepsSeconds().getOrDefault(step, 0.0))
            .toArray()).median()));
      }
      atSize.put("steps_seconds_median", stepMedians);
      bySize.put(String.valueOf(n), atSize);
    }
    cost.put("by_size", bySize);
    cost.put("spark_session_start_seconds", round(sessionSeconds));
    cost.put("model_load_seconds", round(modelLoadSeconds));
    cost.put("note", "a run's seconds = fixed + posters / marginal rate, fitted per round over the sizes; Spark started and the model"
        + " loaded already (a fresh process pays spark_session_start_seconds and model_load_seconds on top, once)");
    out.printf(Locale.ROOT, "Spark session start (once per process) %.2f s; model load (once per executor JVM) %.2f s%n",
        sessionSeconds, modelLoadSeconds);
    if (sizes.size() < 2) {
      out.println("fixed part and marginal rate: need the job at two sizes or more (--sizes)");
      return cost;
    }
    double[] fixed = new double[rounds];
    double[] marginal = new double[rounds];
    double[] overPipeline = new double[rounds];
    Map<String, double[]> stepFixed = new LinkedHashMap<>();
    for (String step : steps) stepFixed.put(step, new double[rounds]);
    for (int r = 0; r < rounds; r++) {
      final int round = r;
      Measurements.Fit fit = Measurements.fit(x, sizes.stream().mapToDouble(n -> runSeconds(runs.get(n).get(round))).toArray());
      fixed[r] = fit.fixedSeconds();
      marginal[r] = fit.marginalRate();
      overPipeline[r] = fit.marginalRate() / pipeline.values()[r];
      for (String step : steps) {
        stepFixed.get(step)[r] = Measurements.fit(x, sizes.stream()
            .mapToDouble(n -> runs.get(n).get(round).stepsSeconds().getOrDefault(step, 0.0)).toArray()).fixedSeconds();
      }
    }
    Measurements.Spread f = Measurements.of(fixed);
    Measurements.Spread mr = Measurements.of(marginal);
    cost.put("fixed_seconds", f.toJson("median"));
    cost.put("marginal_posters_per_second", mr.toJson("median"));
    cost.put("marginal_over_in_process_pipeline", Measurements.of(overPipeline).toJson("median"));
    Map<String, Object> shares = new LinkedHashMap<>();
    out.printf(Locale.ROOT, "job = fixed part per run + posters / marginal rate, over %s posters, per round:%n", sizes);
    out.printf(Locale.ROOT, "  fixed part per run (s)                 %s%n", f.describe("%.2f"));
    out.printf(Locale.ROOT, "  marginal rate (posters/s)              %s%n", mr.describe("%.1f"));
    out.printf(Locale.ROOT, "  marginal rate / 2c (without Spark)     %s%n", Measurements.of(overPipeline).describe("%.3f"));
    out.printf(Locale.ROOT, "  %-20s %s  fixed part (median intercept)%n", "step (median s)",
        String.join(" ", sizes.stream().map(n -> String.format(Locale.ROOT, "%8s", "at " + n)).toList()));
    for (String step : steps) {
      double share = Measurements.of(stepFixed.get(step)).median();
      shares.put(step, round(share));
      StringBuilder b = new StringBuilder();
      for (int n : sizes) {
        b.append(String.format(Locale.ROOT, " %8.2f", (Double) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) bySize.get(String.valueOf(n)))
            .get("steps_seconds_median"))).get(step)));
      }
      out.printf(Locale.ROOT, "  %-20s%s  %6.2f s%s%n", step, b, share,
          f.median() > 0 ? String.format(Locale.ROOT, " (%.0f%%)", 100 * share / f.median()) : "");
    }
    cost.put("fixed_seconds_by_step", shares);
    return cost;
  }

  private static String jobKey(int posters) {
    return "spark_job_" + posters;
  }

  /** A run's seconds: the sum of its steps (the report included), or its duration where it has none. */
  static double runSeconds(RunSummary run) {
    return run.stepsSeconds() == null ? run.durationSeconds() : run.stepsSeconds().values().stream().mapToDouble(Double::doubleValue).sum();
  }

  private static double rate(RunSummary run) {
    return run.filesListed() / runSeconds(run);
  }

  /** {@code a[i] / b[i]} round by round. */
  static Measurements.Spread pairedRatio(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) r[i] = a[i] / b[i];
    return Measurements.of(r);
  }

  /** A line's JSON: its median as posters_per_second with the spread, and {@code extra} key-value pairs. */
  private static Map<String, Object> with(Measurements.Spread spread, Object... extra) {
    Map<String, Object> m = spread.toJson("posters_per_second");
    for (int i = 0; i < extra.length; i += 2) m.put((String) extra[i], extra[i + 1]);
    return m;
  }

  public static void writeJson(Map<String, Object> report, Path file) throws IOException {
    Files.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(report));
  }

  private void line(String what, double postersPerSecond) {
    out.printf(Locale.ROOT, "%-62s %8.1f%n", what, postersPerSecond);
    out.flush();
  }

  private void line(String what, Measurements.Spread postersPerSecond) {
    out.printf(Locale.ROOT, "%-62s %s%n", what, postersPerSecond.describe("%8.1f"));
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

  /** A folder of the first {@code n} of the prepared posters (links where the file system has them). */
  private Path subset(Path posters, int n) throws IOException {
    return subset(posters, n, "posters-" + n);
  }

  private Path subset(Path posters, int n, String name) throws IOException {
    Path dir = settings.workDir().resolve(name);
    Files.createDirectories(dir);
    try (Stream<Path> s = Files.list(posters)) {
      for (Path p : s.sorted().limit(n).toList()) {
        Path dst = dir.resolve(p.getFileName());
        if (Files.exists(dst)) continue;
        try {
          Files.createLink(dst, p);
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(p, dst, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return dir;
  }

  /** The 1, 5 and 15 minute load averages, or "unknown" off Linux. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
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

  /** Lets the JIT compile the decoder before anything is timed. */
  private static void warmPreprocessor(List<byte[]> files, Preprocessor pre) {
    float[] warm = new float[pre.floatsPerImage()];
    for (int i = 0; i < Math.min(64, files.size()); i++) {
      try {
        pre.preprocessInto(files.get(i), warm, 0);
      } catch (PosterException e) {
        // timed below like any other
      }
    }
  }

  private double preprocessRate(List<byte[]> files, Preprocessor pre) throws Exception {
    return files.size() / onEveryCore(start -> {
      float[] buf = new float[pre.floatsPerImage()];
      for (int i = start; i < files.size(); i += cores) {
        try {
          pre.preprocessInto(files.get(i), buf, 0);
        } catch (PosterException e) {
          // counted as done: the job turns it into an error row just as fast
        }
      }
    });
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

  /** Traced runs of one batch for the op-time profile (line 6). */
  static final int PROFILE_RUNS = 3;

  /** Op types named in the profile; the rest are summed as {@link #OTHER_OPS}. */
  static final int PROFILE_TOP = 8;

  static final String OTHER_OPS = "(other op types)";

  /** The {@code top} largest shares in order, and the rest summed under {@link #OTHER_OPS} where there is a rest. */
  static Map<String, Double> topShares(Map<String, Double> shares, int top) {
    Map<String, Double> out = new LinkedHashMap<>();
    double rest = 0;
    int n = 0;
    for (Map.Entry<String, Double> e : shares.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).toList()) {
      if (n++ < top) out.put(e.getKey(), e.getValue());
      else rest += e.getValue();
    }
    if (n > top) out.put(OTHER_OPS, rest);
    return out;
  }

  /** The posters as batches of pixels, decoded once for every inference measurement (at most ~1.5 GB, cycled beyond). */
  private List<float[]> prepareBatches(List<byte[]> files, Preprocessor pre) throws PosterException {
    int per = pre.floatsPerImage();
    int batch = settings.batchSize();
    int batches = (files.size() + batch - 1) / batch;
    int keep = Math.min(batches, Math.max(1, (int) (1_500_000_000L / 4 / ((long) per * batch))));
    List<float[]> prepared = new ArrayList<>();
    for (int b = 0; b < keep; b++) {
      float[] px = new float[batch * per];
      for (int i = 0; i < batch; i++) pre.preprocessInto(files.get((b * batch + i) % files.size()), px, i * per);
      prepared.add(px);
    }
    return prepared;
  }

  /** Scores {@code posters} posters' worth of {@code prepared} batches on every core, after one batch to warm up. */
  private double inferenceRate(List<float[]> prepared, int posters, PosterModel model) throws Exception {
    int batch = settings.batchSize();
    int batches = (posters + batch - 1) / batch;
    model.predict(prepared.get(0), batch); // warm up
    return (double) batches * batch / onEveryCore(first -> {
      for (int b = first; b < batches; b += cores) model.predict(prepared.get(b % prepared.size()), batch);
    });
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

  private RunSummary sparkJob(SparkSession spark, Path posters, String outName, boolean decodeAhead, boolean bf16) {
    LabelRequest request = new LabelRequest(List.of(posters.toString()), settings.workDir().resolve(outName).toString(),
        settings.model(), "*.{jpg,jpeg,png,gif,bmp}", WriteMode.OVERWRITE, 0, 1.0, Map.of(), null, null,
        new LabelOptions(settings.batchSize(), 50_000_000, 100_000_000, new ModelCache.Settings(0, 0, bf16), decodeAhead));
    return new LabelJob(spark).run(request);
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
        ModelPackage pkg = ModelPackage.read(dir, new Configuration()).withoutTextStage();
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

  /** The CPU's flags as /proc/cpuinfo lists them; empty where there is none. */
  private static java.util.Set<String> cpuFlags() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          return new java.util.HashSet<>(java.util.Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")));
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return java.util.Set.of();
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
