package io.postergenres.text;

import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/** Runs a frozen graph on one float32 input, for tests of graph rewrites and converters. */
public final class GraphRun {
  private GraphRun() {}

  /** Node {@code output} of {@code def} for {@code x} of {@code shape} fed to node {@code input}, as a flat array. */
  public static float[] run(GraphDef def, String input, Shape shape, float[] x, String output) {
    try (Graph g = new Graph()) {
      g.importGraphDef(def);
      try (Session s = new Session(g); TFloat32 in = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false));
          Result r = s.runner().feed(input, in).fetch(output).run()) {
        TFloat32 out = (TFloat32) r.get(0);
        float[] v = new float[(int) out.shape().size()];
        out.copyTo(DataBuffers.of(v, false, false));
        return v;
      }
    }
  }
}
