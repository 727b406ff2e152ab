package io.postergenres.train;

import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The data side of every trainer: the seeded split, posters decoded once and cached as bytes, the
 * byte cache back to floats (mirrored when asked), label rows, the loss's per-genre positive
 * weights, and the record of which posters were held out ({@code validation.txt}, the split's
 * entry in {@code model.json}).
 */
public final class TrainingData {
  private TrainingData() {}

  private static final float SCALE = 1f / 255f; // the same factor as Preprocessor
  public static final float MAX_POSITIVE_WEIGHT = 10f;

  /** Indices of the training and validation examples; validation sorted, training in shuffled order. */
  public record Split(List<Integer> train, List<Integer> validation) {}

  /**
   * The seeded split every architecture uses (so validation.txt is the same for the same data, seed
   * and fraction): shuffle 0..n-1 with {@code new Random(seed)}, the first round(n * fraction) (at
   * least 1) are validation. Mutable lists, for removing unreadable posters.
   */
  public static Split split(int n, long seed, double validationFraction) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) order.add(i);
    Collections.shuffle(order, new Random(seed));
    int nVal = (int) Math.max(1, Math.round(order.size() * validationFraction));
    List<Integer> valIdx = new ArrayList<>(order.subList(0, nVal));
    List<Integer> trainIdx = new ArrayList<>(order.subList(nVal, order.size()));
    Collections.sort(valIdx);
    return new Split(trainIdx, valIdx);
  }


  /** The posters of a training run, decoded and split, with their label rows. */
  public record Prepared(byte[][] cache, List<Integer> trainIdx, List<Integer> valIdx, int unreadableTrain, int unreadableVal,
      float[] labels, float[] trainLabels, float[] valLabels) {}

  /**
   * The seeded split of {@code data} ({@link #split}), every poster decoded once at {@code size}
   * ({@link #decodeAll}; unreadable ones dropped from both sides and counted), and the label rows (all,
   * by dataset index; and each side) in the dataset's genre order. Shared by every trainer.
   */
  public static Prepared prepare(CcuDataset.Loaded data, TrainingConfig cfg, int size, int threads, Log log) throws IOException {
    int g = data.genres().size();
    Split seeded = split(data.examples().size(), cfg.seed(), cfg.validationFraction());
    List<Integer> trainIdx = seeded.train();
    List<Integer> valIdx = seeded.validation();
    byte[][] cache = decodeAll(data.examples(), size, threads, cfg.maxPixels(), log);
    int unreadableTrain = (int) trainIdx.stream().filter(i -> cache[i] == null).count();
    int unreadableVal = (int) valIdx.stream().filter(i -> cache[i] == null).count();
    trainIdx.removeIf(i -> cache[i] == null);
    valIdx.removeIf(i -> cache[i] == null);
    log.log("split (seed %d, validation fraction %.2f): %d train, %d validation; unreadable posters skipped: %d train, %d validation",
        cfg.seed(), cfg.validationFraction(), trainIdx.size(), valIdx.size(), unreadableTrain, unreadableVal);
    if (trainIdx.isEmpty() || valIdx.isEmpty()) throw new IllegalArgumentException("too few readable posters to train and validate");
    float[] labels = new float[data.examples().size() * g];
    for (int i = 0; i < data.examples().size(); i++) {
      for (String genre : data.examples().get(i).genres()) labels[i * g + data.genres().indexOf(genre)] = 1f;
    }
    return new Prepared(cache, trainIdx, valIdx, unreadableTrain, unreadableVal, labels, gatherLabels(labels, trainIdx, g),
        gatherLabels(labels, valIdx, g));
  }

  /** Progress lines of a training run. */
  @FunctionalInterface
  public interface Log {
    void log(String format, Object... args);
  }

  /**
   * Decodes every poster once through the shared {@link Preprocessor}, in parallel, and keeps each
   * as H x W x 3 bytes (the preprocessed values times 255: exact, since they came from 8-bit
   * pixels), never as floats. Unreadable posters are left null and counted in the log.
   */
  public static byte[][] decodeAll(List<CcuDataset.Example> examples, int size, int threads, long maxPixels, Log logger)
      throws IOException {
    return decodeAll(examples, size, size, threads, maxPixels, logger);
  }

  /** {@link #decodeAll(List, int, int, long, Log)} at {@code height x width}. */
  public static byte[][] decodeAll(List<CcuDataset.Example> examples, int height, int width, int threads, long maxPixels, Log logger)
      throws IOException {
    long t0 = System.nanoTime();
    Preprocessor pre = new Preprocessor(height, width, maxPixels);
    byte[][] cache = new byte[examples.size()][];
    AtomicInteger done = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      int chunk = (examples.size() + threads - 1) / threads;
      for (int t = 0; t < threads; t++) {
        int from = t * chunk;
        int to = Math.min(examples.size(), from + chunk);
        futures.add(pool.submit(() -> {
          float[] buf = new float[height * width * 3];
          for (int i = from; i < to; i++) {
            Path path = examples.get(i).path();
            try {
              pre.preprocessInto(Files.readAllBytes(path), buf, 0);
              byte[] bytes = new byte[buf.length];
              for (int k = 0; k < buf.length; k++) bytes[k] = (byte) Math.round(buf[k] * 255f);
              cache[i] = bytes;
            } catch (PosterException | IOException e) {
              failed.incrementAndGet();
              failures.add(path + ": " + e.getMessage());
            }
            int d = done.incrementAndGet();
            if (d % 1000 == 0) logger.log("  decoded %d/%d posters", d, examples.size());
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IOException("decoding posters failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while decoding posters", e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    logger.log("decoded %d posters at %dx%d in %.1fs (%d unreadable, skipped)%s", examples.size(), height, width,
        (System.nanoTime() - t0) / 1e9, failed.get(),
        failures.isEmpty() ? "" : "; first: " + failures.subList(0, Math.min(3, failures.size())));
    return cache;
  }

  /** Byte cache of one poster to floats, flipped left-right when asked; the same values Preprocessor writes. */
  public static void fill(byte[] src, float[] dest, int offset, int size, boolean flip) {
    fill(src, dest, offset, size, size, flip);
  }

  /** {@link #fill(byte[], float[], int, int, boolean)} for a {@code height x width} poster. */
  public static void fill(byte[] src, float[] dest, int offset, int height, int width, boolean flip) {
    if (!flip) {
      for (int k = 0; k < src.length; k++) dest[offset + k] = (src[k] & 0xFF) * SCALE;
      return;
    }
    int row = width * 3;
    for (int yy = 0; yy < height; yy++) {
      int base = yy * row;
      for (int xx = 0; xx < width; xx++) {
        int s = base + (width - 1 - xx) * 3;
        int d = offset + base + xx * 3;
        dest[d] = (src[s] & 0xFF) * SCALE;
        dest[d + 1] = (src[s + 1] & 0xFF) * SCALE;
        dest[d + 2] = (src[s + 2] & 0xFF) * SCALE;
      }
    }
  }

  public static float[] gatherLabels(float[] labels, List<Integer> idx, int g) {
    float[] out = new float[idx.size() * g];
    for (int k = 0; k < idx.size(); k++) System.arraycopy(labels, idx.get(k) * g, out, k * g, g);
    return out;
  }

  /** Per-genre weight of positives in the loss: none, sqrt or linear of negatives/positives, within [1, 10]. */
  public static float[] positiveWeights(float[] trainLabels, int g, String weighting) {
    int n = trainLabels.length / g;
    float[] w = new float[g];
    for (int j = 0; j < g; j++) {
      int pos = 0;
      for (int i = 0; i < n; i++) if (trainLabels[i * g + j] > 0.5f) pos++;
      double ratio = (n - pos) / (double) Math.max(1, pos);
      double v = switch (weighting) {
        case "sqrt" -> Math.sqrt(ratio);
        case "linear" -> ratio;
        default -> 1.0;
      };
      w[j] = (float) Math.max(1.0, Math.min(MAX_POSITIVE_WEIGHT, v));
    }
    return w;
  }

  public static float[] toArray(TFloat32 t) {
    float[] a = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(a, false, false));
    return a;
  }


  /** Writes validation.txt: the held-out posters, relative to the dataset root, so a split can be reproduced. */
  public static void writeValidationList(Path outDir, CcuDataset.Loaded data, List<Integer> valIdx, TrainingConfig cfg) throws IOException {
    List<String> valLines = new ArrayList<>();
    Path root = Path.of(data.source()).toAbsolutePath();
    Path rootDir = Files.isDirectory(root) ? root : root.getParent();
    valLines.add("# validation posters (seed " + cfg.seed() + ", fraction " + cfg.validationFraction() + "), relative to " + rootDir);
    for (int i : valIdx) {
      Path p = data.examples().get(i).path().toAbsolutePath();
      valLines.add((p.startsWith(rootDir) ? rootDir.relativize(p) : p).toString().replace('\\', '/'));
    }
    Files.write(outDir.resolve("validation.txt"), valLines, StandardCharsets.UTF_8);
  }

  /** The "split" entry of model.json's source. */
  public static Map<String, Object> splitInfo(int train, int validation, TrainingConfig cfg, int unreadable) {
    Map<String, Object> split = new LinkedHashMap<>();
    split.put("train", train);
    split.put("validation", validation);
    split.put("validation_fraction", cfg.validationFraction());
    split.put("seed", cfg.seed());
    split.put("unreadable_skipped", unreadable);
    split.put("validation_list", "validation.txt");
    return split;
  }
}
