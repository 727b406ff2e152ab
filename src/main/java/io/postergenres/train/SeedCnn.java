package io.postergenres.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The "seed" architecture: exactly the original project's Keras Sequential network.
 *
 * <pre>
 * input 350x350x3
 * Conv2D(16, 3x3, valid, relu), BatchNorm, Dropout(0.25)
 * Conv2D(32, 3x3, valid, relu), MaxPool 2x2, BatchNorm, Dropout(0.25)
 * Conv2D(64, 3x3, valid, relu), MaxPool 2x2, BatchNorm, Dropout(0.25)
 * Conv2D(128, 3x3, valid, relu), MaxPool 2x2, BatchNorm, Dropout(0.25)
 * Flatten (41x41x128 = 215,168)
 * Dense(128, relu), BatchNorm, Dropout(0.5)
 * Dense(128, relu), BatchNorm, Dropout(0.5)
 * Dense(24, sigmoid)
 * </pre>
 *
 * 27,660,664 parameters as Keras counts them (batch norm: gamma, beta, moving mean, moving
 * variance). Weights start as Keras starts them (Glorot uniform kernels, zero biases, gamma one,
 * beta zero). The exported graph has no dropout, and each batch norm folded into the layer after
 * it (see {@link #frozenLogits}).
 */
public final class SeedCnn implements Network {
  public static final String ARCH = "seed";
  public static final int IMAGE_SIZE = 350;
  static final int[] CONV_CHANNELS = {16, 32, 64, 128};
  static final int[] DENSE_UNITS = {128, 128};
  static final float CONV_DROPOUT = 0.25f;
  static final float DENSE_DROPOUT = 0.5f;

  private final int imageSize;
  private final int genres;

  /** Frozen weights: every trained tensor by name, and per batch-norm layer its scale and shift. */
  public record Frozen(Map<String, float[]> weights, List<float[]> scales, List<float[]> shifts) implements Network.Frozen {}

  public SeedCnn(int imageSize, int genres) {
    if (imageSize < 22) throw new IllegalArgumentException("the seed network needs images of 22 px or more, got " + imageSize);
    if (genres < 1) throw new IllegalArgumentException("need at least one genre");
    this.imageSize = imageSize;
    this.genres = genres;
  }

  @Override
  public String arch() {
    return ARCH;
  }

  @Override
  public int imageSize() {
    return imageSize;
  }

  /** Side of the last conv block's output: valid convs take 2 px, pools halve (floor). */
  public int finalSide() {
    int s = imageSize;
    for (int b = 0; b < CONV_CHANNELS.length; b++) {
      s -= 2;
      if (b > 0) s /= 2;
    }
    return s;
  }

  public long flattenedSize() {
    long side = finalSide();
    return side * side * CONV_CHANNELS[CONV_CHANNELS.length - 1];
  }

  /** Channels of each batch-norm layer, in order. */
  int[] batchNormChannels() {
    int[] c = new int[CONV_CHANNELS.length + DENSE_UNITS.length];
    System.arraycopy(CONV_CHANNELS, 0, c, 0, CONV_CHANNELS.length);
    System.arraycopy(DENSE_UNITS, 0, c, CONV_CHANNELS.length, DENSE_UNITS.length);
    return c;
  }

  @Override
  public List<PosterCnn.Param> params() {
    List<PosterCnn.Param> p = new ArrayList<>();
    int cin = 3;
    int bn = 0;
    for (int b = 0; b < CONV_CHANNELS.length; b++) {
      int cout = CONV_CHANNELS[b];
      p.add(new PosterCnn.Param("conv" + b + "/kernel", new long[] {3, 3, cin, cout}, PosterCnn.Init.GLOROT_UNIFORM));
      p.add(new PosterCnn.Param("conv" + b + "/bias", new long[] {cout}, PosterCnn.Init.ZEROS));
      p.add(new PosterCnn.Param("bn" + bn + "/gamma", new long[] {cout}, PosterCnn.Init.ONES));
      p.add(new PosterCnn.Param("bn" + bn + "/beta", new long[] {cout}, PosterCnn.Init.ZEROS));
      bn++;
      cin = cout;
    }
    long in = flattenedSize();
    for (int d = 0; d < DENSE_UNITS.length; d++) {
      p.add(new PosterCnn.Param("dense" + d + "/kernel", new long[] {in, DENSE_UNITS[d]}, PosterCnn.Init.GLOROT_UNIFORM));
      p.add(new PosterCnn.Param("dense" + d + "/bias", new long[] {DENSE_UNITS[d]}, PosterCnn.Init.ZEROS));
      p.add(new PosterCnn.Param("bn" + bn + "/gamma", new long[] {DENSE_UNITS[d]}, PosterCnn.Init.ONES));
      p.add(new PosterCnn.Param("bn" + bn + "/beta", new long[] {DENSE_UNITS[d]}, PosterCnn.Init.ZEROS));
      bn++;
      in = DENSE_UNITS[d];
    }
    p.add(new PosterCnn.Param("output/kernel", new long[] {in, genres}, PosterCnn.Init.GLOROT_UNIFORM));
    p.add(new PosterCnn.Param("output/bias", new long[] {genres}, PosterCnn.Init.ZEROS));
    return p;
  }

  public long trainableParameterCount() {
    return params().stream().mapToLong(PosterCnn.Param::size).sum();
  }

  /** Keras' count: trainable weights plus each batch norm's moving mean and variance. */
  @Override
  public long parameterCount() {
    return trainableParameterCount() + 2L * Arrays.stream(batchNormChannels()).sum();
  }

  @Override
  public long multiplyAddsPerImage() {
    long macs = 0;
    int s = imageSize;
    int cin = 3;
    for (int b = 0; b < CONV_CHANNELS.length; b++) {
      s -= 2;
      macs += (long) s * s * 9 * cin * CONV_CHANNELS[b];
      cin = CONV_CHANNELS[b];
      if (b > 0) s /= 2;
    }
    long in = flattenedSize();
    for (int units : DENSE_UNITS) {
      macs += in * units;
      in = units;
    }
    return macs + in * genres;
  }

  @Override
  public Map<String, float[]> initialValues(long seed) {
    Random random = new Random(seed);
    Map<String, float[]> values = new LinkedHashMap<>();
    for (PosterCnn.Param p : params()) {
      float[] v = new float[p.size()];
      switch (p.init()) {
        case ONES -> Arrays.fill(v, 1f);
        case GLOROT_UNIFORM -> {
          long[] s = p.shape();
          long receptive = s.length == 4 ? s[0] * s[1] : 1;
          long fanIn = receptive * s[s.length - 2];
          long fanOut = receptive * s[s.length - 1];
          double limit = Math.sqrt(6.0 / (fanIn + fanOut));
          for (int i = 0; i < v.length; i++) v[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        }
        default -> { }
      }
      values.put(p.name(), v);
    }
    return values;
  }

  @Override
  public PosterCnn.TrainOutputs trainLogits(Ops tf, Operand<TFloat32> images, Map<String, ? extends Operand<TFloat32>> w,
      float dropoutRate, long seed) {
    List<Operand<TFloat32>> means = new ArrayList<>();
    List<Operand<TFloat32>> variances = new ArrayList<>();
    Operand<TFloat32> x = images;
    int bn = 0;
    long dropSeed = seed;
    Operand<TInt32> convAxes = tf.constant(new int[] {0, 1, 2});
    for (int b = 0; b < CONV_CHANNELS.length; b++) {
      x = tf.nn.relu(tf.nn.biasAdd(conv(tf, x, w.get("conv" + b + "/kernel")), w.get("conv" + b + "/bias")));
      if (b > 0) x = pool(tf, x);
      x = batchNorm(tf, x, convAxes, w, bn++, means, variances);
      x = dropout(tf, x, CONV_DROPOUT, dropSeed += 2);
    }
    x = tf.reshape(x, tf.constant(new long[] {-1, flattenedSize()}));
    Operand<TInt32> denseAxes = tf.constant(new int[] {0});
    for (int d = 0; d < DENSE_UNITS.length; d++) {
      x = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, w.get("dense" + d + "/kernel")), w.get("dense" + d + "/bias")));
      x = batchNorm(tf, x, denseAxes, w, bn++, means, variances);
      x = dropout(tf, x, DENSE_DROPOUT, dropSeed += 2);
    }
    Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(x, w.get("output/kernel")), w.get("output/bias"));
    return new PosterCnn.TrainOutputs(logits, means, variances);
  }

  private static Operand<TFloat32> batchNorm(Ops tf, Operand<TFloat32> x, Operand<TInt32> axes,
      Map<String, ? extends Operand<TFloat32>> w, int k, List<Operand<TFloat32>> means, List<Operand<TFloat32>> variances) {
    Operand<TFloat32> mean = tf.math.mean(x, axes);
    Operand<TFloat32> variance = tf.math.mean(tf.math.squaredDifference(x, mean), axes);
    means.add(mean);
    variances.add(variance);
    Operand<TFloat32> scale =
        tf.math.mul(w.get("bn" + k + "/gamma"), tf.math.rsqrt(tf.math.add(variance, tf.constant(PosterCnn.BN_EPSILON))));
    return tf.math.add(tf.math.mul(tf.math.sub(x, mean), scale), w.get("bn" + k + "/beta"));
  }

  private static Operand<TFloat32> dropout(Ops tf, Operand<TFloat32> x, float rate, long seed) {
    float keep = 1f - rate;
    Operand<TFloat32> uniform = tf.random.randomUniform(tf.shape(x), TFloat32.class,
        RandomUniform.seed(seed), RandomUniform.seed2(seed + 1));
    Operand<TFloat32> mask = tf.math.div(tf.math.floor(tf.math.add(uniform, tf.constant(keep))), tf.constant(keep));
    return tf.math.mul(x, mask);
  }

  @Override
  public Frozen freezeWeights(Map<String, float[]> w, List<float[]> means, List<float[]> variances) {
    int[] channels = batchNormChannels();
    List<float[]> scales = new ArrayList<>();
    List<float[]> shifts = new ArrayList<>();
    for (int k = 0; k < channels.length; k++) {
      float[] gamma = w.get("bn" + k + "/gamma");
      float[] beta = w.get("bn" + k + "/beta");
      float[] scale = new float[channels[k]];
      float[] shift = new float[channels[k]];
      for (int c = 0; c < scale.length; c++) {
        scale[c] = (float) (gamma[c] / Math.sqrt(variances.get(k)[c] + PosterCnn.BN_EPSILON));
        shift[c] = beta[c] - means.get(k)[c] * scale[c];
      }
      scales.add(scale);
      shifts.add(shift);
    }
    Map<String, float[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : w.entrySet()) copy.put(e.getKey(), e.getValue().clone());
    return new Frozen(copy, scales, shifts);
  }

  /**
   * The inference graph. Each batch norm here follows a ReLU (and pool), so it cannot go into the
   * convolution before it; it is folded into the linear layer after it instead, which is exact
   * because every convolution is "valid" (no zero padding for the shift to leak into):
   * {@code W (s*x + t) + b = (W*s) x + (b + W t)}. The graph is then convolutions, ReLUs, pools
   * and matrix products only: no per-element scale and shift passes over the large early
   * activations (1.06 to 1.3 times the unfolded graph's posters per second in bench runs, row 2d).
   */
  @Override
  public Operand<TFloat32> frozenLogits(Ops tf, Operand<TFloat32> images, Network.Frozen frozen) {
    Map<String, float[]> folded = foldBatchNorm((Frozen) frozen);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (PosterCnn.Param p : params()) shapes.put(p.name(), p.shape());
    java.util.function.Function<String, Operand<TFloat32>> c =
        name -> PosterCnn.constant(tf, shapes.get(name), folded.get(name));
    Operand<TFloat32> x = images;
    for (int b = 0; b < CONV_CHANNELS.length; b++) {
      x = tf.nn.relu(tf.nn.biasAdd(conv(tf, x, c.apply("conv" + b + "/kernel")), c.apply("conv" + b + "/bias")));
      if (b > 0) x = pool(tf, x);
    }
    x = tf.reshape(x, tf.constant(new long[] {-1, flattenedSize()}));
    for (int d = 0; d < DENSE_UNITS.length; d++) {
      x = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, c.apply("dense" + d + "/kernel")), c.apply("dense" + d + "/bias")));
    }
    return tf.math.add(tf.linalg.matMul(x, c.apply("output/kernel")), c.apply("output/bias"));
  }

  /**
   * Kernels and biases with each batch norm's scale and shift moved into the layer that reads its
   * output: conv b+1 for the conv blocks' norms, dense 0 for the last conv block's (its flattened
   * input is h, w, c with c fastest), the next dense layer for the dense norms. Sums in double.
   */
  Map<String, float[]> foldBatchNorm(Frozen f) {
    List<String> linear = new ArrayList<>();
    for (int b = 0; b < CONV_CHANNELS.length; b++) linear.add("conv" + b);
    for (int d = 0; d < DENSE_UNITS.length; d++) linear.add("dense" + d);
    linear.add("output");
    Map<String, float[]> out = new LinkedHashMap<>();
    out.put(linear.get(0) + "/kernel", f.weights().get(linear.get(0) + "/kernel").clone());
    out.put(linear.get(0) + "/bias", f.weights().get(linear.get(0) + "/bias").clone());
    for (int k = 0; k < f.scales().size(); k++) {
      String next = linear.get(k + 1);
      float[] kernel = f.weights().get(next + "/kernel").clone();
      float[] bias = f.weights().get(next + "/bias");
      float[] scale = f.scales().get(k);
      float[] shift = f.shifts().get(k);
      int cout = bias.length;
      int channels = scale.length;
      double[] extra = new double[cout];
      // Both layouts are [..., input channel, output]: conv [3,3,cin,cout], dense [h*w*c or units, out].
      for (int row = 0, rows = kernel.length / cout; row < rows; row++) {
        int ch = row % channels;
        for (int o = 0; o < cout; o++) {
          int i = row * cout + o;
          extra[o] += (double) kernel[i] * shift[ch];
          kernel[i] *= scale[ch];
        }
      }
      float[] newBias = new float[cout];
      for (int o = 0; o < cout; o++) newBias[o] = (float) (bias[o] + extra[o]);
      out.put(next + "/kernel", kernel);
      out.put(next + "/bias", newBias);
    }
    return out;
  }

  @Override
  public Map<String, Object> describe(float dropout) {
    Map<String, Object> arch = new LinkedHashMap<>();
    arch.put("name", ARCH);
    arch.put("layers", String.format(Locale.ROOT,
        "input %dx%dx3; conv3x3 valid relu + batchnorm + dropout %.2f, channels %s (maxpool2x2 after the relu of all but the first); "
            + "flatten %d; dense %s relu + batchnorm + dropout %.2f; dense %d sigmoid (the original Keras network)",
        imageSize, imageSize, CONV_DROPOUT, Arrays.toString(CONV_CHANNELS), flattenedSize(), Arrays.toString(DENSE_UNITS),
        DENSE_DROPOUT, genres));
    arch.put("parameters", parameterCount());
    arch.put("trainable_parameters", trainableParameterCount());
    arch.put("multiply_adds_per_poster", multiplyAddsPerImage());
    arch.put("export", "frozen graph: each batch norm folded into the next convolution or dense layer, weights as constants");
    return arch;
  }

  @Override
  public String summary(float dropout) {
    return String.format(Locale.ROOT,
        "architecture %s (original Keras network): input %dx%dx3, conv %s valid+relu+BN+dropout %.2f, flatten %,d, dense %s+BN+dropout %.2f, "
            + "dense %d sigmoid; %,d parameters (%,d trainable), %.1f M multiply-adds per poster",
        ARCH, imageSize, imageSize, Arrays.toString(CONV_CHANNELS), CONV_DROPOUT, flattenedSize(), Arrays.toString(DENSE_UNITS),
        DENSE_DROPOUT, genres, parameterCount(), trainableParameterCount(), multiplyAddsPerImage() / 1e6);
  }

  private static Operand<TFloat32> conv(Ops tf, Operand<TFloat32> x, Operand<TFloat32> kernel) {
    return tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "VALID");
  }

  private static Operand<TFloat32> pool(Ops tf, Operand<TFloat32> x) {
    return tf.nn.maxPool(x, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
  }
}
