package io.postergenres.model;

import io.postergenres.text.TextSpec;
import io.postergenres.text.TextStage;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model per JVM and fingerprint, shared by every task of an executor. The first task
 * that asks writes the broadcast bytes to a local directory and loads them; tasks asking at the
 * same time wait for that load instead of starting their own. Models are closed, and their
 * directories deleted, when the JVM shuts down. Thread-safe.
 */
public final class ModelCache {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
  private static final Map<String, PosterModel> MODELS = new ConcurrentHashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();
  private static volatile boolean hookInstalled;

  private ModelCache() {}

  /**
   * How a model is loaded: TensorFlow's thread pools, and whether oneDNN may run float ops in
   * bfloat16 (grappler's auto mixed precision; fast on CPUs with AVX512_BF16 or AMX, scores
   * differ in the third decimal).
   */
  public record Settings(int intraOp, int interOp, boolean bf16) implements Serializable {
    /** Inter-op threads when 0 (automatic) is asked for. */
    public static final int AUTO_INTER_OP = 2;

    public Settings(int intraOp, int interOp) {
      this(intraOp, interOp, false);
    }

    /**
     * The settings with "0 means automatic" resolved on the machine that loads the model: intra-op
     * threads its cores (one intra-op pool shared by all concurrent runs), inter-op {@value
     * #AUTO_INTER_OP}. The one place "automatic" thread counts are decided.
     */
    public Settings resolved() {
      return new Settings(orAllCores(intraOp), interOp > 0 ? interOp : AUTO_INTER_OP, bf16);
    }

    /** {@code threads}, or this machine's processor count when it is 0 (automatic). */
    public static int orAllCores(int threads) {
      return threads > 0 ? threads : allCores();
    }

    /** This machine's processor count. */
    public static int allCores() {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  /**
   * The model with this fingerprint, loading it from {@code bytes} on first use.
   *
   * @param bytes gives the package; called only when the model must be loaded (so a broadcast
   *     value is fetched only by the first task in the JVM)
   * @param onLoad runs once per actual load, in the loading thread (for a Spark accumulator)
   */
  public static PosterModel get(String fingerprint, Supplier<ModelPackage> bytes, Settings threads, Runnable onLoad) {
    return get(fingerprint, bytes, threads, null, onLoad);
  }

  /**
   * As {@link #get(String, Supplier, Settings, Runnable)}, with the temporary copy TensorFlow loads
   * from under {@code scratch}: on executors the directory Spark cleans up (its local dirs), so
   * that not even a JVM killed mid-load leaves a copy behind in the machine's {@code /tmp}. The copy
   * is deleted once the load succeeded or failed; a failed load is retried by the next task.
   *
   * @param scratch an existing directory for the temporary copy; null for {@code java.io.tmpdir}
   */
  public static PosterModel get(String fingerprint, Supplier<ModelPackage> bytes, Settings threads, Path scratch,
      Runnable onLoad) {
    // One session per configuration: a model asked for with other thread pools or precision is
    // another session (tasks of one job all ask with the same settings, so still one per JVM).
    String key = fingerprint + "|" + threads.intraOp() + "|" + threads.interOp() + (threads.bf16() ? "|bf16" : "");
    // (a model read with its text stage has a fingerprint of its own: ModelPackage.withTextStage)
    PosterModel model = MODELS.get(key);
    if (model != null) {
      return model;
    }
    return MODELS.computeIfAbsent(key, k -> {
      PosterModel loaded = load(bytes.get(), threads, scratch);
      onLoad.run();
      return loaded;
    });
  }

  /** Models loaded in this JVM since it started. */
  public static int loadCount() {
    return LOADS.get();
  }

  /** Prefix of the temporary copies of models (tests look for leftovers by it). */
  public static final String COPY_PREFIX = "poster-genres-model-";

  private static PosterModel load(ModelPackage pkg, Settings threads, Path scratch) {
    long start = System.nanoTime();
    installShutdownHook();
    Path dir = null;
    try {
      String prefix = COPY_PREFIX + pkg.fingerprint().substring(0, 12) + "-";
      dir = scratch == null ? Files.createTempDirectory(prefix) : Files.createTempDirectory(scratch, prefix);
      pkg.writeTo(dir);
      PosterModel model = PosterModel.load(dir, pkg.spec(), threads.intraOp(), threads.interOp(), false);
      if (threads.bf16()) model = withBf16IfItKeepsTheGenres(dir, pkg.spec(), threads, model);
      if (pkg.readsText()) {
        try {
          model.attachText(TextStage.load(dir.resolve(TextSpec.DIR), pkg.spec().genres(), threads.intraOp()));
        } catch (IOException | RuntimeException e) {
          model.close();
          throw new ModelException("cannot load the text stage of model " + pkg.location() + ": " + e.getMessage(), e);
        }
      }
      LOADS.incrementAndGet();
      LOG.info("Loaded model {} {} ({} bytes, intra-op threads {}, inter-op threads {}, compute {}) in {} ms",
          pkg.spec().name(), pkg.spec().version(), pkg.sizeBytes(), threads.intraOp(), threads.interOp(), model.bf16() ? "bf16" : "fp32",
          (System.nanoTime() - start) / 1_000_000);
      return model;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the model to local disk", e);
    } finally {
      // TensorFlow has read the files into memory, or failed: the copy goes either way.
      if (dir != null) deleteQuietly(dir);
    }
  }

  /**
   * The bfloat16 session of the model when {@link Bf16Check} passes on this CPU, else (loudly)
   * the float32 one: a run asked for {@code --bf16} never gets other genres than float32 would give
   * beyond the check's tolerance.
   */
  static PosterModel withBf16IfItKeepsTheGenres(Path dir, ModelSpec spec, Settings threads, PosterModel float32) {
    PosterModel bf16 = PosterModel.load(dir, spec, threads.intraOp(), threads.interOp(), true);
    Bf16Check.Result check;
    try {
      check = Bf16Check.run(float32, bf16);
    } catch (RuntimeException e) {
      bf16.close();
      throw e;
    }
    LAST_BF16_CHECK = check;
    if (check.passed()) {
      LOG.info("--bf16 kept: {}", check.describe());
      float32.close();
      return bf16;
    }
    LOG.warn("--bf16 REFUSED on this CPU, running in float32 instead: {}", check.describe());
    bf16.close();
    return float32;
  }

  private static volatile Bf16Check.Result LAST_BF16_CHECK;

  /** The outcome of the last bfloat16 check in this JVM, or null when none ran. */
  public static Bf16Check.Result lastBf16Check() {
    return LAST_BF16_CHECK;
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not delete the temporary model copy {}: {}", dir, e.toString());
    }
  }

  private static synchronized void installShutdownHook() {
    if (hookInstalled) return;
    Runtime.getRuntime().addShutdownHook(new Thread(ModelCache::closeAll, "poster-genres-model-close"));
    hookInstalled = true;
  }

  /** Closes and forgets every cached model (at JVM shutdown, and in tests). */
  public static synchronized void closeAll() {
    for (Map.Entry<String, PosterModel> e : MODELS.entrySet()) {
      try {
        e.getValue().close();
      } catch (RuntimeException ex) {
        LOG.warn("closing model {} failed", e.getKey(), ex);
      }
    }
    MODELS.clear();
  }
}
