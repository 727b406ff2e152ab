package io.postergenres.train;

import io.postergenres.model.ModelContract;
import java.nio.file.Path;
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
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The inference graph of a {@link Network} with frozen (constant) weights: image [-1,H,W,3] float32
 * in, sigmoid scores [-1,G] out. Used both to score validation posters during training and, by
 * {@link #export}, as the SavedModel that the labelling job loads, so what was measured is what is
 * shipped.
 */
final class FrozenModel implements AutoCloseable {
  static final String INPUT = "image";
  static final String OUTPUT = "scores";

  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> image;
  private final Operand<TFloat32> scores;
  private final int size;
  private final int genres;

  FrozenModel(Network cnn, Network.Frozen weights, int genres, ConfigProto config) {
    this.size = cnn.imageSize();
    this.genres = genres;
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      image = tf.withName(INPUT).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
      scores = tf.withName(OUTPUT).math.sigmoid(cnn.frozenLogits(tf, image, weights));
      session = new Session(graph, config);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** Scores {@code n} images held in {@code batch} from index 0; n x G scores, row-major. */
  float[] predict(float[] batch, int n) {
    long per = (long) size * size * 3;
    float[] out = new float[n * genres];
    try (TFloat32 input = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(batch, true, false).narrow(n * per));
        Result r = session.runner().feed(image, input).fetch(scores).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
    }
    return out;
  }

  /** Writes the SavedModel (tag serve, signature serving_default) into {@code dir}. */
  void export(Path dir) throws java.io.IOException {
    Signature signature =
        Signature.builder().key(ModelContract.SIGNATURE).input(INPUT, image).output(OUTPUT, scores).build();
    SavedModelBundle.exporter(dir.toString())
        .withTags(ModelContract.TAG)
        .withFunction(SessionFunction.create(signature, session))
        .export();
  }

  @Override
  public void close() {
    try {
      session.close();
    } finally {
      graph.close();
    }
  }
}
