package io.postergenres.train.pretrained;

import io.postergenres.train.TrainingData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Trains a genre head (dense {@code hidden} ReLU + dropout, dense G; or dense G alone when {@code
 * hidden} is 0) on standardised features with Adam and the project's loss (sigmoid binary
 * cross-entropy, positives weighted per genre), and after every epoch scores held-out features, so
 * that a caller can choose the epoch on posters the head never saw. Each example is the poster's
 * features or, with augmentation, its mirror image's, chosen at random per step.
 *
 * <p>The graph, its session and every tensor live inside {@link #fit} and are closed there.
 */
final class HeadTrainer {
  /** The head's settings. */
  record Settings(int hidden, float dropout, float learningRate, int batchSize, long seed, ConfigProto tfConfig) {
    Settings withSeed(long newSeed) {
      return new Settings(hidden, dropout, learningRate, batchSize, newSeed, tfConfig);
    }
  }

  /** Trained head weights (w1, b1 null for a linear head). */
  record Head(float[] w1, float[] b1, float[] w2, float[] b2) {}

  /** Held-out features to score after each epoch, and their logits: [epoch][n * g] for each view. */
  record HeldOut(float[] features, float[] flipped) {}

  /**
   * What {@link #fit} returns: the heads after the last epoch (one, or one per seed of an
   * ensemble), the held-out logits after each epoch (averaged over the heads).
   */
  record Fit(List<Head> heads, float[][] logits, float[][] flippedLogits, double[] trainLoss) {}

  /** Called after each epoch, for progress lines. */
  @FunctionalInterface
  interface EpochListener {
    void epochDone(int epoch, double seconds, double trainLoss);
  }

  private HeadTrainer() {}

  /**
   * Trains {@code epochs} epochs on {@code n} examples of {@code f} features with labels {@code y}
   * [n, g]. {@code views} are other views of the same posters (the mirror image, crops), each [n,
   * f]; each step takes a poster's features from {@code x} or one of them, at random (none or
   * empty: no augmentation).
   */
  static Fit fit(float[] x, float[][] views, float[] y, int f, int g, float[] posWeight, Settings s, int epochs,
      HeldOut heldOut, EpochListener listener) {
    int viewCount = 1 + (views == null ? 0 : views.length);
    int n = y.length / g;
    float[][] logitsByEpoch = new float[epochs][];
    float[][] flippedByEpoch = new float[epochs][];
    double[] losses = new double[epochs];
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> xp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, f)));
      Placeholder<TFloat32> yp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, g)));
      Placeholder<TFloat32> keep = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Random init = new Random(s.seed());
      int h = s.hidden() > 0 ? s.hidden() : f;
      Variable<TFloat32> w1 = s.hidden() > 0 ? tf.variable(constant(tf, new long[] {f, h}, normal(init, f * h, Math.sqrt(2.0 / f)))) : null;
      Variable<TFloat32> b1 = s.hidden() > 0 ? tf.variable(constant(tf, new long[] {h}, new float[h])) : null;
      Variable<TFloat32> w2 = tf.variable(constant(tf, new long[] {h, g}, normal(init, h * g, Math.sqrt(1.0 / h))));
      Variable<TFloat32> b2 = tf.variable(constant(tf, new long[] {g}, new float[g]));
      Operand<TFloat32> z = xp;
      if (s.hidden() > 0) {
        z = tf.nn.relu(tf.math.add(tf.linalg.matMul(z, w1), b1));
        // Inverted dropout: keep is 1 when scoring, so the same graph serves both.
        Operand<TFloat32> uniform = tf.random.randomUniform(tf.shape(z), TFloat32.class, RandomUniform.seed(s.seed()));
        Operand<TFloat32> mask = tf.math.div(tf.math.floor(tf.math.add(uniform, keep)), keep);
        z = tf.math.mul(z, mask);
      }
      Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(z, w2), b2);
      // softplus(l) - y*l, with positives weighted: stable for any logit.
      Operand<TFloat32> softplus = tf.math.add(tf.nn.relu(logits), tf.math.log1p(tf.math.exp(tf.math.neg(tf.math.abs(logits)))));
      Operand<TFloat32> negTerm = tf.math.mul(tf.math.sub(tf.constant(1f), yp), softplus);
      Operand<TFloat32> posTerm = tf.math.mul(tf.math.mul(yp, tf.constant(posWeight)), tf.math.sub(softplus, logits));
      Operand<TFloat32> loss = tf.math.mean(tf.math.add(negTerm, posTerm), tf.constant(new int[] {0, 1}));
      Op trainOp = new Adam(graph, s.learningRate()).minimize(loss);
      try (Session session = new Session(graph, s.tfConfig())) {
        session.initialize();
        int b = s.batchSize();
        float keepTrain = 1f - s.dropout();
        Random random = new Random(s.seed() + 1);
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) order.add(i);
        float[] batchX = new float[b * f];
        float[] batchY = new float[b * g];
        for (int epoch = 1; epoch <= epochs; epoch++) {
          long start = System.nanoTime();
          Collections.shuffle(order, new Random(s.seed() * 1000 + epoch));
          double lossSum = 0;
          for (int from = 0; from < n; from += b) {
            int m = Math.min(b, n - from);
            for (int k = 0; k < m; k++) {
              int i = order.get(from + k);
              int v = viewCount == 1 ? 0 : random.nextInt(viewCount);
              System.arraycopy(v == 0 ? x : views[v - 1], i * f, batchX, k * f, f);
              System.arraycopy(y, i * g, batchY, k * g, g);
            }
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m, f), DataBuffers.of(batchX, true, false).narrow((long) m * f));
                TFloat32 yt = TFloat32.tensorOf(Shape.of(m, g), DataBuffers.of(batchY, true, false).narrow((long) m * g));
                TFloat32 kt = TFloat32.scalarOf(keepTrain);
                Result r = session.runner().feed(xp, xt).feed(yp, yt).feed(keep, kt).addTarget(trainOp).fetch(loss).run()) {
              lossSum += ((TFloat32) r.get(0)).getFloat() * m;
            }
          }
          losses[epoch - 1] = lossSum / n;
          if (heldOut != null) {
            logitsByEpoch[epoch - 1] = score(session, xp, keep, logits, heldOut.features(), f, g);
            if (heldOut.flipped() != null) flippedByEpoch[epoch - 1] = score(session, xp, keep, logits, heldOut.flipped(), f, g);
          }
          if (listener != null) listener.epochDone(epoch, (System.nanoTime() - start) / 1e9, losses[epoch - 1]);
        }
        return new Fit(List.of(readHead(session, w1, b1, w2, b2)), logitsByEpoch, flippedByEpoch, losses);
      }
    }
  }

  /**
   * {@code count} heads that differ only in their seed (initial weights, dropout masks, batches,
   * mirror choices), their held-out logits averaged: a cheap ensemble, since the backbone's
   * features are shared and a head costs a fraction of the backbone per poster.
   */
  static Fit fitEnsemble(int count, float[] x, float[][] views, float[] y, int f, int g, float[] posWeight, Settings s, int epochs,
      HeldOut heldOut, EpochListener listener) {
    List<Head> heads = new ArrayList<>();
    float[][] logits = new float[epochs][];
    float[][] flippedLogits = new float[epochs][];
    double[] loss = new double[epochs];
    for (int m = 0; m < count; m++) {
      Fit one = fit(x, views, y, f, g, posWeight, s.withSeed(s.seed() + 7919L * m), epochs, heldOut, listener);
      heads.addAll(one.heads());
      for (int e = 0; e < epochs; e++) {
        loss[e] += one.trainLoss()[e] / count;
        if (heldOut == null) continue;
        logits[e] = accumulate(logits[e], one.logits()[e], count);
        if (heldOut.flipped() != null) flippedLogits[e] = accumulate(flippedLogits[e], one.flippedLogits()[e], count);
      }
    }
    return new Fit(List.copyOf(heads), logits, flippedLogits, loss);
  }

  /**
   * Fits of head families on different parts of the features, as one: held-out logits (and the
   * mirror images') the mean of theirs, epoch by epoch; the training loss their mean.
   */
  static Fit meanOf(List<Fit> fits) {
    if (fits.size() == 1) return fits.get(0);
    int epochs = fits.get(0).trainLoss().length;
    float[][] logits = new float[epochs][];
    float[][] flipped = new float[epochs][];
    double[] loss = new double[epochs];
    List<Head> heads = new ArrayList<>();
    for (Fit fit : fits) {
      heads.addAll(fit.heads());
      for (int e = 0; e < epochs; e++) {
        loss[e] += fit.trainLoss()[e] / fits.size();
        if (fit.logits()[e] != null) logits[e] = accumulate(logits[e], fit.logits()[e], fits.size());
        if (fit.flippedLogits()[e] != null) flipped[e] = accumulate(flipped[e], fit.flippedLogits()[e], fits.size());
      }
    }
    return new Fit(List.copyOf(heads), logits, flipped, loss);
  }

  private static float[] accumulate(float[] sum, float[] part, int count) {
    float[] out = sum == null ? new float[part.length] : sum;
    for (int i = 0; i < part.length; i++) out[i] += part[i] / count;
    return out;
  }

  /** Logits [n, g] of the head in {@code session} for features [n, f]. */
  private static float[] score(Session session, Placeholder<TFloat32> xp, Placeholder<TFloat32> keep, Operand<TFloat32> logits,
      float[] features, int f, int g) {
    int n = features.length / f;
    float[] out = new float[n * g];
    try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, f), DataBuffers.of(features, true, false));
        TFloat32 kt = TFloat32.scalarOf(1f);
        Result r = session.runner().feed(xp, xt).feed(keep, kt).fetch(logits).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
    }
    return out;
  }

  static Head readHead(Session session, Variable<TFloat32> w1, Variable<TFloat32> b1, Variable<TFloat32> w2, Variable<TFloat32> b2) {
    Session.Runner runner = session.runner();
    if (w1 != null) runner.fetch(w1).fetch(b1);
    runner.fetch(w2).fetch(b2);
    try (Result r = runner.run()) {
      int k = 0;
      float[] a = w1 != null ? TrainingData.toArray((TFloat32) r.get(k++)) : null;
      float[] c = w1 != null ? TrainingData.toArray((TFloat32) r.get(k++)) : null;
      return new Head(a, c, TrainingData.toArray((TFloat32) r.get(k++)), TrainingData.toArray((TFloat32) r.get(k)));
    }
  }

  /** The head on features [N, f] as frozen constants: logits [N, g]. */
  static Operand<TFloat32> logits(Ops tf, Operand<TFloat32> features, Head head, int f, int g) {
    Operand<TFloat32> z = features;
    int h = f;
    if (head.w1() != null) {
      h = head.b1().length;
      z = tf.nn.relu(tf.nn.biasAdd(tf.linalg.matMul(z, constant(tf, new long[] {f, h}, head.w1())), tf.constant(head.b1())));
    }
    return tf.nn.biasAdd(tf.linalg.matMul(z, constant(tf, new long[] {h, g}, head.w2())), tf.constant(head.b2()));
  }

  /** The mean of several heads' logits on the same features, as frozen constants. */
  static Operand<TFloat32> logits(Ops tf, Operand<TFloat32> features, List<Head> heads, int f, int g) {
    Operand<TFloat32> sum = null;
    for (Head head : heads) {
      Operand<TFloat32> l = logits(tf, features, head, f, g);
      sum = sum == null ? l : tf.math.add(sum, l);
    }
    return heads.size() == 1 ? sum : tf.math.mul(sum, tf.constant(1f / heads.size()));
  }

  /** Element-wise mean of two logit arrays (the poster and its mirror image). */
  static float[] mean(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length);
    for (int i = 0; i < out.length; i++) out[i] = 0.5f * (a[i] + b[i]);
    return out;
  }

  static float[] sigmoid(float[] logits) {
    float[] out = new float[logits.length];
    for (int i = 0; i < out.length; i++) out[i] = (float) (1 / (1 + Math.exp(-logits[i])));
    return out;
  }

  static Operand<TFloat32> constant(Ops tf, long[] shape, float[] values) {
    return tf.constant(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  static float[] normal(Random r, int n, double std) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
    return a;
  }
}
