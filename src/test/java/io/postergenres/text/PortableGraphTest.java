package io.postergenres.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/** Depthwise convolutions of unequal strides, as text stages before the converter's mend stored them, on any CPU. */
class PortableGraphTest {
  private static final int C = 2, H = 7, W = 5, K = 3;

  /** x [1, 7, 5, 2] -> depthwise 3x3, strides 2 down and 1 across, VALID -> y, as a frozen graph. */
  private static GraphDef stridedGraph(float[] kernel, long rowStride, long colStride) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, H, W, C)));
      tf.withName("y").nn.depthwiseConv2dNative(x, tf.constant(Shape.of(K, K, C, 1), DataBuffers.of(kernel, true, false)),
          List.of(1L, rowStride, colStride, 1L), "VALID");
      return g.toGraphDef();
    }
  }

  @Test
  void aDepthwiseConvolutionOfUnequalStridesGivesTheSameValuesOnEveryCpu() {
    float[] kernel = new float[K * K * C];
    for (int i = 0; i < kernel.length; i++) kernel[i] = (i % 5) * 0.5f - 1f;
    float[] x = new float[H * W * C];
    for (int i = 0; i < x.length; i++) x[i] = (i * 13 % 9) - 4f;
    GraphDef rewritten = PortableGraph.withEqualStrides(stridedGraph(kernel, 2, 1));
    assertEquals(1, rewritten.getNodeList().stream().filter(n -> n.getOp().equals("StridedSlice")).count());
    float[] y = GraphRun.run(rewritten, "x", Shape.of(1, H, W, C), x, "y");
    int oh = (H - K) / 2 + 1, ow = W - K + 1; // 3 rows, 3 columns
    assertEquals(oh * ow * C, y.length);
    for (int r = 0; r < oh; r++) for (int c = 0; c < ow; c++) for (int ch = 0; ch < C; ch++) {
      float sum = 0;
      for (int i = 0; i < K; i++) for (int j = 0; j < K; j++) sum += kernel[(i * K + j) * C + ch] * x[((r * 2 + i) * W + c + j) * C + ch];
      assertEquals(sum, y[(r * ow + c) * C + ch], 1e-5f, "row " + r + ", column " + c + ", channel " + ch);
    }
  }

  @Test
  void aGraphWithoutThemIsLeftAsItIs() {
    GraphDef equal = stridedGraph(new float[K * K * C], 2, 2);
    assertSame(equal, PortableGraph.withEqualStrides(equal));
  }
}
