package io.postergenres.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The "postercnn" architecture: {@code blocks} x [conv 3x3 (no bias) + batch norm + ReLU + max-pool
 * 2x2] (the last block without the pool), global average pooling, dropout, dense to G logits.
 *
 * <p>Three ways to build it: {@link #trainLogits} for training (batch-norm on batch statistics,
 * dropout on, weights are variables), and {@link #inferenceScores} for the exported model (batch
 * norm folded into the conv weights and biases, no dropout, every weight a constant: a frozen
 * graph). Both are built from the same layer list, so they cannot drift apart.
 */
public final class PosterCnn implements Network {
  public static final String ARCH = "postercnn";
  static final float BN_EPSILON = 1e-3f;

  private final int imageSize;
  private final int genres;
  private final int[] channels;

  /** One trainable tensor: its name, shape and how it starts. */
  public record Param(String name, long[] shape, Init init) {
    int size() {
      long n = 1;
      for (long d : shape) n *= d;
      return Math.toIntExact(n);
    }
  }

  enum Init { HE_NORMAL, GLOROT_UNIFORM, ZEROS, ONES }

  /** What a training forward pass exposes besides the logits: each batch-norm's batch moments. */
  public record TrainOutputs(Operand<TFloat32> logits, List<Operand<TFloat32>> means, List<Operand<TFloat32>> variances) {}

  /** Frozen inference weights: per block folded conv kernel [3,3,cin,cout] and bias, then dense. */
  public record Frozen(List<float[]> convKernels, List<float[]> convBiases, float[] denseKernel, float[] denseBias)
      implements Network.Frozen {}

  public PosterCnn(int imageSize, int genres, int[] channels) {
    if (imageSize < 8) throw new IllegalArgumentException("image size must be 8 or more, got " + imageSize);
    if (genres < 1) throw new IllegalArgumentException("need at least one genre");
    this.imageSize = imageSize;
    this.genres = genres;
    this.channels = channels.clone();
  }

  /** The default widths: 16-32-64-128-256, fewer blocks for small images (each block halves). */
  public static int[] defaultChannels(int imageSize) {
    int[] all = {16, 32, 64, 128, 256};
    int blocks = 1;
    int s = imageSize;
    while (blocks < all.length && s / 2 >= 4) {
      s /= 2;
      blocks++;
    }
    return Arrays.copyOf(all, blocks);
  }

  public int[] channels() {
    return channels.clone();
  }

  @Override
  public int imageSize() {
    return imageSize;
  }

  @Override
  public String arch() {
    return ARCH;
  }

  @Override
  public Network.Frozen freezeWeights(Map<String, float[]> w, List<float[]> means, List<float[]> variances) {
    return freeze(w, means, variances);
  }

  @Override
  public Operand<TFloat32> frozenLogits(Ops tf, Operand<TFloat32> images, Network.Frozen frozen) {
    return inferenceLogits(tf, images, (Frozen) frozen);
  }

  @Override
  public Map<String, Object> describe(float dropout) {
    Map<String, Object> arch = new LinkedHashMap<>();
    arch.put("name", ARCH);
    arch.put("blocks", "conv3x3(no bias)+batchnorm+relu+maxpool2x2 (no pool after the last), channels " + Arrays.toString(channels));
    arch.put("head", "global average pool, dropout " + dropout + " (training only), dense " + genres + ", sigmoid");
    arch.put("parameters", parameterCount());
    arch.put("multiply_adds_per_poster", multiplyAddsPerImage());
    arch.put("export", "frozen graph: batch norm folded into conv kernels and biases, weights as constants");
    return arch;
  }

  @Override
  public String summary(float dropout) {
    return String.format(java.util.Locale.ROOT,
        "architecture %s: input %dx%dx3, conv3x3+BN+ReLU+maxpool blocks %s, global average pool, dropout %.2f, dense %d sigmoid; "
            + "%,d parameters, %.1f M multiply-adds (%.1f MFLOPs) per poster",
        ARCH, imageSize, imageSize, Arrays.toString(channels), dropout, genres, parameterCount(),
        multiplyAddsPerImage() / 1e6, 2 * multiplyAddsPerImage() / 1e6);
  }

  @Override
  public List<Param> params() {
    List<Param> p = new ArrayList<>();
    int cin = 3;
    for (int b = 0; b < channels.length; b++) {
      int cout = channels[b];
      p.add(new Param("conv" + b + "/kernel", new long[] {3, 3, cin, cout}, Init.HE_NORMAL));
      p.add(new Param("bn" + b + "/gamma", new long[] {cout}, Init.ONES));
      p.add(new Param("bn" + b + "/beta", new long[] {cout}, Init.ZEROS));
      cin = cout;
    }
    p.add(new Param("dense/kernel", new long[] {cin, genres}, Init.GLOROT_UNIFORM));
    p.add(new Param("dense/bias", new long[] {genres}, Init.ZEROS));
    return p;
  }

  @Override
  public long parameterCount() {
    return params().stream().mapToLong(Param::size).sum();
  }

  /** Multiply-adds of one forward pass of one poster (convolutions and dense layer). */
  @Override
  public long multiplyAddsPerImage() {
    long macs = 0;
    int s = imageSize;
    int cin = 3;
    for (int b = 0; b < channels.length; b++) {
      macs += (long) s * s * 9 * cin * channels[b];
      cin = channels[b];
      if (b < channels.length - 1) s /= 2;
    }
    return macs + (long) cin * genres;
  }

  /** Initial values, seeded. */
  @Override
  public Map<String, float[]> initialValues(long seed) {
    Random random = new Random(seed);
    Map<String, float[]> values = new LinkedHashMap<>();
    for (Param p : params()) {
      float[] v = new float[p.size()];
      switch (p.init()) {
        case ONES -> Arrays.fill(v, 1f);
        case ZEROS -> { }
        case HE_NORMAL -> {
          long fanIn = p.shape()[0] * p.shape()[1] * p.shape()[2];
          double std = Math.sqrt(2.0 / fanIn);
          for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() * std);
        }
        case GLOROT_UNIFORM -> {
          double limit = Math.sqrt(6.0 / (p.shape()[0] + p.shape()[1]));
          for (int i = 0; i < v.length; i++) v[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        }
      }
      values.put(p.name(), v);
    }
    return values;
  }

  static Operand<TFloat32> constant(Ops tf, long[] shape, float[] values) {
    return tf.constant(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /**
   * The training forward pass on {@code images} [N,H,W,3]: batch norm on the batch's moments,
   * dropout with {@code dropoutRate} before the dense layer.
   */
  @Override
  public TrainOutputs trainLogits(Ops tf, Operand<TFloat32> images, Map<String, ? extends Operand<TFloat32>> w,
      float dropoutRate, long seed) {
    List<Operand<TFloat32>> means = new ArrayList<>();
    List<Operand<TFloat32>> variances = new ArrayList<>();
    Operand<TFloat32> x = images;
    Operand<TInt32> axes = tf.constant(new int[] {0, 1, 2});
    for (int b = 0; b < channels.length; b++) {
      x = conv(tf, x, w.get("conv" + b + "/kernel"));
      Operand<TFloat32> mean = tf.math.mean(x, axes);
      Operand<TFloat32> variance = tf.math.mean(tf.math.squaredDifference(x, mean), axes);
      means.add(mean);
      variances.add(variance);
      Operand<TFloat32> scale =
          tf.math.mul(w.get("bn" + b + "/gamma"), tf.math.rsqrt(tf.math.add(variance, tf.constant(BN_EPSILON))));
      x = tf.math.add(tf.math.mul(tf.math.sub(x, mean), scale), w.get("bn" + b + "/beta"));
      x = tf.nn.relu(x);
      if (b < channels.length - 1) x = pool(tf, x);
    }
    Operand<TFloat32> pooled = tf.math.mean(x, tf.constant(new int[] {1, 2}));
    if (dropoutRate > 0) {
      float keep = 1f - dropoutRate;
      Operand<TFloat32> uniform = tf.random.randomUniform(tf.shape(pooled), TFloat32.class,
          org.tensorflow.op.random.RandomUniform.seed(seed), org.tensorflow.op.random.RandomUniform.seed2(seed + 1));
      Operand<TFloat32> mask = tf.math.div(tf.math.floor(tf.math.add(uniform, tf.constant(keep))), tf.constant(keep));
      pooled = tf.math.mul(pooled, mask);
    }
    Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(pooled, w.get("dense/kernel")), w.get("dense/bias"));
    return new TrainOutputs(logits, means, variances);
  }

  /** Folds batch norm (with the given population statistics) into the conv kernels. */
  public Frozen freeze(Map<String, float[]> w, List<float[]> means, List<float[]> variances) {
    List<float[]> kernels = new ArrayList<>();
    List<float[]> biases = new ArrayList<>();
    for (int b = 0; b < channels.length; b++) {
      float[] kernel = w.get("conv" + b + "/kernel").clone();
      float[] gamma = w.get("bn" + b + "/gamma");
      float[] beta = w.get("bn" + b + "/beta");
      int cout = channels[b];
      float[] scale = new float[cout];
      float[] bias = new float[cout];
      for (int c = 0; c < cout; c++) {
        scale[c] = (float) (gamma[c] / Math.sqrt(variances.get(b)[c] + BN_EPSILON));
        bias[c] = beta[c] - means.get(b)[c] * scale[c];
      }
      for (int i = 0; i < kernel.length; i++) kernel[i] *= scale[i % cout]; // HWIO: out channel is fastest
      kernels.add(kernel);
      biases.add(bias);
    }
    return new Frozen(kernels, biases, w.get("dense/kernel").clone(), w.get("dense/bias").clone());
  }

  /** The inference graph on {@code images}: frozen weights as constants, sigmoid scores [N,G]. */
  public Operand<TFloat32> inferenceLogits(Ops tf, Operand<TFloat32> images, Frozen f) {
    Operand<TFloat32> x = images;
    int cin = 3;
    for (int b = 0; b < channels.length; b++) {
      int cout = channels[b];
      x = conv(tf, x, constant(tf, new long[] {3, 3, cin, cout}, f.convKernels().get(b)));
      x = tf.nn.biasAdd(x, constant(tf, new long[] {cout}, f.convBiases().get(b)));
      x = tf.nn.relu(x);
      if (b < channels.length - 1) x = pool(tf, x);
      cin = cout;
    }
    Operand<TFloat32> pooled = tf.math.mean(x, tf.constant(new int[] {1, 2}));
    return tf.math.add(tf.linalg.matMul(pooled, constant(tf, new long[] {cin, genres}, f.denseKernel())),
        constant(tf, new long[] {genres}, f.denseBias()));
  }

  private static Operand<TFloat32> conv(Ops tf, Operand<TFloat32> x, Operand<TFloat32> kernel) {
    return tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");
  }

  private static Operand<TFloat32> pool(Ops tf, Operand<TFloat32> x) {
    return tf.nn.maxPool(x, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
  }
}
