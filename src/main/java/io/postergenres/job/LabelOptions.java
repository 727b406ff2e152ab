package io.postergenres.job;

import io.postergenres.model.ModelCache;
import java.io.Serializable;

/**
 * The settings executors need, parsed and checked once on the driver. Immutable and serializable:
 * this, plain values and broadcasts are all that cross to executors.
 *
 * @param batchSize posters per TensorFlow run
 * @param maxPixels largest width x height decoded
 * @param maxFileBytes largest file read
 * @param threads TensorFlow thread pools of each executor's shared session
 * @param decodeAhead decode the next batch on a helper thread while the model scores this one
 */
public record LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads, boolean decodeAhead)
    implements Serializable {

  /** Options with decode-ahead on (the default). */
  public LabelOptions(int batchSize, long maxPixels, long maxFileBytes, ModelCache.Settings threads) {
    this(batchSize, maxPixels, maxFileBytes, threads, true);
  }

  public LabelOptions {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    if (maxPixels < 1) throw new IllegalArgumentException("max pixels must be positive, got " + maxPixels);
    if (maxFileBytes < 1) throw new IllegalArgumentException("max file bytes must be positive, got " + maxFileBytes);
  }
}
