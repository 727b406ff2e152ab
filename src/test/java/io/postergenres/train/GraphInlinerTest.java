package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class GraphInlinerTest {

  /**
   * A frozen model (image 2x2x3 -> mean, concatenated with its double -> dense 2 -> sigmoid), exported as the job expects, then
   * inlined into a graph that feeds it a 4x4 image average-pooled to 2x2: the scores are those of
   * the same arithmetic done by hand, and only the model's own ops were copied (no save/restore).
   */
  @Test
  void inlinedModelComputesItsScoresOnTheNewInput(@TempDir Path dir) throws Exception {
    Random r = new Random(3);
    float[] kernel = new float[12];
    for (int i = 0; i < 12; i++) kernel[i] = (float) r.nextGaussian();
    float[] bias = {0.3f, -0.2f};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2, 2, 3)));
      Operand<TFloat32> mean = tf.math.mean(image, tf.constant(new int[] {1, 2}));
      Operand<TFloat32> both = tf.concat(List.of(mean, tf.math.mul(mean, tf.constant(2f))), tf.constant(1));
      Operand<TFloat32> logits = tf.nn.biasAdd(tf.linalg.matMul(both, tf.constant(Shape.of(6, 2), DataBuffers.of(kernel, true, false))),
          tf.constant(bias));
      Operand<TFloat32> scores = tf.withName("scores").math.sigmoid(logits);
      try (Session s = new Session(g)) {
        Signature sig = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
        SavedModelBundle.exporter(dir.toString()).withTags(ModelContract.TAG).withFunction(SessionFunction.create(sig, s)).export();
      }
    }
    ModelSpec spec = new ModelSpec("tiny", "1", 2, 2, List.of("A", "B"), Map.of("A", 0.5, "B", 0.5), 1, 2, Map.of());

    float[] big = new float[2 * 4 * 4 * 3];
    for (int i = 0; i < big.length; i++) big[i] = r.nextFloat();
    float[] got = new float[4];
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4, 4, 3)));
      Operand<TFloat32> pooled = tf.nn.avgPool(x, List.of(1L, 2L, 2L, 1L), List.of(1L, 2L, 2L, 1L), "VALID");
      Operand<TFloat32> y = GraphInliner.scores(tf, dir, spec, pooled, "member");
      List<String> copied = GraphInliner.opTypes(g, "member");
      assertTrue(copied.contains("MatMul") && copied.contains("ConcatV2") && copied.contains("Sigmoid"), "model ops copied: " + copied);
      assertTrue(copied.stream().noneMatch(t -> t.contains("Save") || t.contains("Restore") || t.equals("Placeholder")),
          "only what the scores need: " + copied);
      try (Session s = new Session(g);
          TFloat32 in = TFloat32.tensorOf(Shape.of(2, 4, 4, 3), DataBuffers.of(big, true, false));
          Result res = s.runner().feed(x, in).fetch(y).run()) {
        ((TFloat32) res.get(0)).copyTo(DataBuffers.of(got, false, false));
      }
    }
    float[] want = new float[4];
    for (int n = 0; n < 2; n++) {
      float[] m = new float[3];
      for (int p = 0; p < 16; p++) for (int c = 0; c < 3; c++) m[c] += big[n * 48 + p * 3 + c] / 16; // mean of the 2x2 pools = mean of all
      for (int o = 0; o < 2; o++) {
        double z = bias[o];
        for (int c = 0; c < 3; c++) z += m[c] * kernel[c * 2 + o] + 2 * m[c] * kernel[(c + 3) * 2 + o];
        want[n * 2 + o] = (float) (1 / (1 + Math.exp(-z)));
      }
    }
    assertArrayEquals(want, got, 1e-5f);
    assertEquals(4, got.length);
  }
}
