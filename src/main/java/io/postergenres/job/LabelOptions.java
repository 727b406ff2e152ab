package io.postergenres.job;

import io.postergenres.model.ModelCache;
import java.io.Serializable;
import java.util.Locale;

/**
 * The settings executors need, parsed and checked once on the driver. Immutable and serializable:
 * this, plain values and broadcasts are all that cross to executors.
 *
 * @param batchSize posters per TensorFlow run
 * @param maxPixels largest width x height decoded
 * @param maxFileBytes largest file read
 * @param threads TensorFlow thread pools of each executor's shared session
 * @param decodeAhead whether to decode the next batch on a helper thread while the model scores
 *     this one; {@link DecodeAhead#AUTO} is decided by the cores TensorFlow uses ({@link
 *     RunSetup#withExecutorThreads} on the driver, or the executor itself when the driver cannot
 *     know them)
 */
public record LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads, DecodeAhead decodeAhead,
    boolean readText)
    implements Serializable {

  /** Decode-ahead as asked for: on, off, or decided by the cores (auto). */
  public enum DecodeAhead {
    AUTO, ON, OFF;

    /**
     * Cores from which {@link #AUTO} decodes ahead. At 2 or fewer the helper thread competes with
     * TensorFlow's intra-op threads for the same cores, and two idle-machine benches on a 2-core
     * EPYC put the job with and without it within each other's spread (5% either way,
     * docs/performance.md): off there saves a thread and a batch buffer per task.
     */
    public static final int AUTO_MIN_CORES = 3;

    /** ON or OFF: this, or for AUTO the rule for {@code cores} (AUTO stays when {@code cores} is unknown, 0). */
    public DecodeAhead forCores(int cores) {
      if (this != AUTO || cores <= 0) return this;
      return cores >= AUTO_MIN_CORES ? ON : OFF;
    }

    /** {@code on}, {@code off} or {@code auto}, as the command line spells it. */
    public String spelling() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Options with decode-ahead decided by the cores ({@link DecodeAhead#AUTO}). */
  public LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads) {
    this(batchSize, maxPixels, maxFileBytes, threads, DecodeAhead.AUTO);
  }

  /** Options without the model's text stage. */
  public LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads, DecodeAhead decodeAhead) {
    this(batchSize, maxPixels, maxFileBytes, threads, decodeAhead, false);
  }

  /** Options with decode-ahead on or off, as {@code decodeAhead} says. */
  public LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads, boolean decodeAhead) {
    this(batchSize, maxPixels, maxFileBytes, threads, decodeAhead ? DecodeAhead.ON : DecodeAhead.OFF);
  }

  public LabelOptions {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    if (maxPixels < 1) throw new IllegalArgumentException("max pixels must be positive, got " + maxPixels);
    if (maxFileBytes < 1) throw new IllegalArgumentException("max file bytes must be positive, got " + maxFileBytes);
    if (decodeAhead == null) throw new IllegalArgumentException("decode-ahead must be auto, on or off, not null");
  }

  /** These options with {@code threads} and {@code decodeAhead}. */
  public LabelOptions with(ModelCache.Settings threads, DecodeAhead decodeAhead) {
    return new LabelOptions(batchSize, maxPixels, maxFileBytes, threads, decodeAhead, readText);
  }

  /** These options, reading the posters' text with the model's text stage ({@code --read-text}) or not. */
  public LabelOptions withReadText(boolean read) {
    return new LabelOptions(batchSize, maxPixels, maxFileBytes, threads, decodeAhead, read);
  }

  /**
   * Whether a task decodes ahead, on the machine it runs on: as decided, or for AUTO left open by
   * the driver, by the intra-op threads this machine's session uses ({@code threads().resolved()}).
   */
  public boolean decodesAhead() {
    return decodeAhead.forCores(threads.resolved().intraOp()) == DecodeAhead.ON;
  }
}
