package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

class SeedCnnTest {
  @TempDir Path dir;

  @Test
  void hasExactlyTheOriginalKerasParameterCount() {
    SeedCnn cnn = new SeedCnn(350, 24);
    assertEquals(41, cnn.finalSide());
    assertEquals(215_168, cnn.flattenedSize());
    assertEquals(27_660_664L, cnn.parameterCount());
    assertEquals(27_660_664L - 2 * (16 + 32 + 64 + 128 + 128 + 128), cnn.trainableParameterCount());
    long dense = cnn.params().stream().filter(p -> p.name().equals("dense0/kernel")).findFirst().orElseThrow().size();
    assertEquals(215_168L * 128, dense);
    assertEquals(27_660_664L, Trainer.network(TrainingConfig.seedDefaults(), 24).parameterCount());
  }

  @Test
  void seedRecipeDefaults() {
    TrainingConfig c = TrainingConfig.seedDefaults();
    assertEquals(List.of(350, 5, 32, "none", false, 0.15, SeedCnn.ARCH),
        List.of(c.imageSize(), c.epochs(), c.batchSize(), c.positiveWeighting(), c.augment(), c.validationFraction(), c.arch()));
    assertEquals(1e-3f, c.learningRate());
  }

  /** A small seed network (34 px input): one Adam step on 2 images, then the frozen export keeps the contract. */
  @Test
  void trainsOneStepAndExportsAConformingModel() throws Exception {
    int size = 34;
    int g = 3;
    SeedCnn cnn = new SeedCnn(size, g);
    assertEquals(2, cnn.finalSide()); // 34 -> 32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2
    int n = 2;
    float[] images = new float[n * size * size * 3];
    Random random = new Random(3);
    for (int i = 0; i < images.length; i++) images[i] = random.nextFloat();
    float[] labels = {1, 0, 1, 0, 1, 0};
    float[] ones = new float[g];
    Arrays.fill(ones, 1f);
    Map<String, float[]> weights = new LinkedHashMap<>();
    List<float[]> means = new ArrayList<>();
    List<float[]> vars = new ArrayList<>();
    try (Graph graph = new Graph()) {
      Trainer.TrainGraph tg = Trainer.buildTrainGraph(graph, cnn, g, ones, 1e-3f, 0.5f, 1);
      assertEquals(6, tg.fwd().means().size());
      try (Session s = new Session(graph)) {
        s.initialize();
        try (TFloat32 x = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(images, true, false));
            TFloat32 y = TFloat32.tensorOf(Shape.of(n, g), DataBuffers.of(labels, true, false))) {
          Session.Runner runner = s.runner().feed(tg.x(), x).feed(tg.y(), y).addTarget(tg.trainOp()).fetch(tg.loss());
          for (int k = 0; k < 6; k++) runner.fetch(tg.fwd().means().get(k)).fetch(tg.fwd().variances().get(k));
          try (Result r = runner.run()) {
            float loss = ((TFloat32) r.get(0)).getFloat();
            assertTrue(loss > 0 && Float.isFinite(loss), "loss " + loss);
            for (int k = 0; k < 6; k++) {
              means.add(toArray((TFloat32) r.get(1 + 2 * k)));
              vars.add(toArray((TFloat32) r.get(2 + 2 * k)));
            }
          }
        }
        Session.Runner runner = s.runner();
        for (var v : tg.vars().values()) runner.fetch(v);
        try (Result r = runner.run()) {
          int k = 0;
          for (String name : tg.vars().keySet()) weights.put(name, toArray((TFloat32) r.get(k++)));
        }
      }
    }
    assertEquals(List.of(16, 32, 64, 128, 128, 128), means.stream().map(a -> a.length).toList());
    Network.Frozen frozen = cnn.freezeWeights(weights, means, vars);
    Path out = dir.resolve("seed-model");
    try (FrozenModel model = new FrozenModel(cnn, frozen, g, org.tensorflow.proto.ConfigProto.getDefaultInstance())) {
      float[] direct = model.predict(images, n);
      model.export(out);
      Map<String, Double> thresholds = new LinkedHashMap<>();
      for (String genre : List.of("A", "B", "C")) thresholds.put(genre, 0.5);
      ModelSpec spec = new ModelSpec(SeedCnn.ARCH, "0.0.1", size, size, List.of("A", "B", "C"), thresholds, 1, 2, Map.of());
      ModelContract.check(Files.readAllBytes(out.resolve("saved_model.pb")), spec, out.toString());
      try (PosterModel loaded = PosterModel.load(out, spec, 1, 1)) {
        float[] scores = loaded.predict(images, n);
        assertEquals(n * g, scores.length);
        for (int i = 0; i < scores.length; i++) {
          assertTrue(scores[i] >= 0 && scores[i] <= 1, "score " + scores[i]); // 2-image batch-norm moments may saturate
          assertEquals(direct[i], scores[i], 1e-6);
        }
      }
    }
  }

  /**
   * The exported graph folds each batch norm into the next layer; its logits must be those of the
   * plain graph (conv, ReLU, pool, then per-channel scale and shift), here with random weights and
   * scales of both signs on a 34 px network.
   */
  @Test
  void foldedBatchNormGivesTheLogitsOfThePlainGraph() {
    int size = 34;
    int g = 3;
    int n = 3;
    SeedCnn cnn = new SeedCnn(size, g);
    Map<String, float[]> w = cnn.initialValues(5);
    Random random = new Random(11);
    for (float[] v : w.values()) {
      for (int i = 0; i < v.length; i++) v[i] += (float) (random.nextGaussian() * 0.05);
    }
    List<float[]> scales = new ArrayList<>();
    List<float[]> shifts = new ArrayList<>();
    for (int c : cnn.batchNormChannels()) {
      float[] scale = new float[c];
      float[] shift = new float[c];
      for (int i = 0; i < c; i++) {
        scale[i] = (float) (random.nextGaussian() * 1.5);
        shift[i] = (float) random.nextGaussian();
      }
      scales.add(scale);
      shifts.add(shift);
    }
    SeedCnn.Frozen frozen = new SeedCnn.Frozen(w, scales, shifts);
    float[] images = new float[n * size * size * 3];
    for (int i = 0; i < images.length; i++) images[i] = random.nextFloat();

    float[] folded;
    try (Graph graph = new Graph()) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(graph);
      var logits = cnn.frozenLogits(tf, tf.constant(Shape.of(n, size, size, 3), DataBuffers.of(images, true, false)), frozen);
      int muls = 0;
      for (var it = graph.operations(); it.hasNext(); ) muls += it.next().type().equals("Mul") ? 1 : 0;
      assertEquals(0, muls, "the exported graph has no per-channel scale left");
      try (Session s = new Session(graph); Result r = s.runner().fetch(logits).run()) {
        folded = toArray((TFloat32) r.get(0));
      }
    }
    float[] plain;
    try (Graph graph = new Graph()) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(graph);
      var logits = plainLogits(tf, tf.constant(Shape.of(n, size, size, 3), DataBuffers.of(images, true, false)), cnn, frozen);
      try (Session s = new Session(graph); Result r = s.runner().fetch(logits).run()) {
        plain = toArray((TFloat32) r.get(0));
      }
    }
    assertEquals(n * g, folded.length);
    double largest = 0;
    for (float v : plain) largest = Math.max(largest, Math.abs(v));
    assertTrue(largest > 0.1, "logits are not all near zero: " + largest);
    for (int i = 0; i < plain.length; i++) assertEquals(plain[i], folded[i], 1e-4 * Math.max(1, largest), "logit " + i);
  }

  /** The seed network as it was exported before folding: a scale and a shift after every block. */
  private static org.tensorflow.Operand<TFloat32> plainLogits(org.tensorflow.op.Ops tf, org.tensorflow.Operand<TFloat32> images,
      SeedCnn cnn, SeedCnn.Frozen f) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (PosterCnn.Param p : cnn.params()) shapes.put(p.name(), p.shape());
    java.util.function.Function<String, org.tensorflow.Operand<TFloat32>> c =
        name -> PosterCnn.constant(tf, shapes.get(name), f.weights().get(name));
    java.util.function.BiFunction<org.tensorflow.Operand<TFloat32>, Integer, org.tensorflow.Operand<TFloat32>> affine = (x, k) ->
        tf.math.add(tf.math.mul(x, PosterCnn.constant(tf, new long[] {f.scales().get(k).length}, f.scales().get(k))),
            PosterCnn.constant(tf, new long[] {f.shifts().get(k).length}, f.shifts().get(k)));
    org.tensorflow.Operand<TFloat32> x = images;
    int bn = 0;
    for (int b = 0; b < 4; b++) {
      x = tf.nn.relu(tf.nn.biasAdd(tf.nn.conv2d(x, c.apply("conv" + b + "/kernel"), List.of(1L, 1L, 1L, 1L), "VALID"),
          c.apply("conv" + b + "/bias")));
      if (b > 0) x = tf.nn.maxPool(x, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
      x = affine.apply(x, bn++);
    }
    x = tf.reshape(x, tf.constant(new long[] {-1, cnn.flattenedSize()}));
    for (int d = 0; d < 2; d++) {
      x = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, c.apply("dense" + d + "/kernel")), c.apply("dense" + d + "/bias")));
      x = affine.apply(x, bn++);
    }
    return tf.math.add(tf.linalg.matMul(x, c.apply("output/kernel")), c.apply("output/bias"));
  }

  private static float[] toArray(TFloat32 t) {
    float[] a = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(a, false, false));
    return a;
  }
}
