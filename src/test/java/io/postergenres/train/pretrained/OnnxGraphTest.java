package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.postergenres.text.GraphRun;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** ONNX models as TensorFlow graphs: a small one written here, and PaddleOCR's two against ONNX Runtime. */
class OnnxGraphTest {
  // ---------------------------------------------------------------- a model written by the test

  /** Protobuf fields, written the way ONNX files hold them. */
  private static final class Proto {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long v) {
      key(field, 0);
      raw(v);
      return this;
    }

    Proto bytes(int field, byte[] b) {
      key(field, 2);
      raw(b.length);
      out.writeBytes(b);
      return this;
    }

    Proto string(int field, String s) {
      return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto p) {
      return bytes(field, p.out.toByteArray());
    }

    Proto float32(int field, float f) {
      key(field, 5);
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f).array());
      return this;
    }

    private void key(int field, int type) {
      raw((long) field << 3 | type);
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) (v & 0x7F) | 0x80);
        v >>>= 7;
      }
      out.write((int) v);
    }
  }

  private static Proto floatTensor(String name, long[] dims, float[] v) {
    Proto t = new Proto();
    for (long d : dims) t.varint(1, d);
    t.varint(2, OnnxModel.FLOAT).string(8, name);
    ByteBuffer raw = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) raw.putFloat(x);
    return t.bytes(9, raw.array());
  }

  private static Proto node(String op, String[] in, String out, Proto... attrs) {
    Proto n = new Proto();
    for (String i : in) n.string(1, i);
    n.string(2, out).string(4, op);
    for (Proto a : attrs) n.message(5, a);
    return n;
  }

  /**
   * x [1,2,2,2] -> 1x1 convolution (2 -> 1 channel, weights 0.5 and -1, bias 0.25) -> HardSigmoid
   * (alpha 0.5, beta 0.5) -> y, or {@code op} in place of HardSigmoid.
   */
  private static byte[] smallModel(String op) {
    Proto graph = new Proto()
        .message(1, node("Conv", new String[] {"x", "w", "b"}, "c"))
        .message(1, node(op, new String[] {"c"}, "y", new Proto().string(1, "alpha").float32(2, 0.5f),
            new Proto().string(1, "beta").float32(2, 0.5f)))
        .message(5, floatTensor("w", new long[] {1, 2, 1, 1}, new float[] {0.5f, -1f}))
        .message(5, floatTensor("b", new long[] {1}, new float[] {0.25f}))
        .message(11, new Proto().string(1, "x"))
        .message(12, new Proto().string(1, "y"));
    return new Proto().varint(1, 7).message(7, graph).message(8, new Proto().varint(2, 11)).out.toByteArray();
  }

  private static float[] run(OnnxModel m, float[] x, long... shape) {
    return run(m, Shape.of(shape), x, shape);
  }

  /** {@code x} of {@code shape} through the frozen graph converted for inputs of {@code declared} (-1: known when it runs). */
  private static float[] run(OnnxModel m, Shape declared, float[] x, long... shape) {
    return GraphRun.run(OnnxGraph.toGraphDef(m, "converted_input", declared, "converted_output"), "converted_input", Shape.of(shape), x, "converted_output");
  }

  @Test
  void aSmallModelComputesWhatItsOpsSay() {
    OnnxModel m = OnnxModel.parse(smallModel("HardSigmoid"));
    assertEquals(11, m.opset);
    assertEquals(java.util.List.of("x"), m.inputs);
    float[] x = {1, 2, 3, 4, /* channel 2 */ 0, 1, -2, 8};
    float[] y = run(m, x, 1, 2, 2, 2);
    for (int i = 0; i < 4; i++) {
      float conv = 0.5f * x[i] - x[4 + i] + 0.25f;
      assertEquals(Math.max(0f, Math.min(1f, 0.5f * conv + 0.5f)), y[i], 1e-6f, "pixel " + i);
    }
  }

  @Test
  void anOpItDoesNotKnowIsRefusedByName() {
    OnnxModel m = OnnxModel.parse(smallModel("Einsum"));
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OnnxGraph.build(tf, m, tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1, 2, 2, 2)))));
      assertTrue(e.getMessage().contains("Einsum") && e.getMessage().contains("not supported"), e.getMessage());
    }
  }

  private static Proto ints(String name, long... v) {
    Proto a = new Proto().string(1, name);
    for (long x : v) a.varint(8, x);
    return a.varint(20, 7);
  }

  /**
   * A depthwise convolution (2 channels, 3x3, one padding pixel each side) with strides 2 down and 1
   * across, as PaddleOCR's recogniser has: TensorFlow's own depthwise kernel, the one a CPU without
   * AVX-512 runs, refuses unequal strides ("only supports equal length strides"), so the converted
   * graph holds the rewrite of {@code text.PortableGraph}.
   */
  @Test
  void aDepthwiseConvolutionWithUnequalStridesComputesOnEveryCpu() {
    float[] w = new float[2 * 9];
    for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.25f - 0.5f;
    Proto graph = new Proto()
        .message(1, node("Conv", new String[] {"x", "w"}, "y", new Proto().string(1, "group").varint(3, 2).varint(20, 2), ints("strides", 2, 1), ints("pads", 1, 1, 1, 1),
            ints("kernel_shape", 3, 3)))
        .message(5, floatTensor("w", new long[] {2, 1, 3, 3}, w))
        .message(11, new Proto().string(1, "x"))
        .message(12, new Proto().string(1, "y"));
    OnnxModel m = OnnxModel.parse(new Proto().varint(1, 7).message(7, graph).message(8, new Proto().varint(2, 11)).out.toByteArray());
    int c = 2, h = 5, wd = 4;
    float[] x = new float[c * h * wd];
    for (int i = 0; i < x.length; i++) x[i] = (i * 37 % 11) - 5f;
    assertEquals(1, OnnxGraph.toGraphDef(m, "in", Shape.of(1, c, h, wd), "out").getNodeList().stream()
        .filter(n -> n.getOp().equals("StridedSlice")).count(), "the converter's graph keeps every second row of a stride-1 convolution");
    float[] y = run(m, x, 1, c, h, wd);
    int oh = (h + 2 - 3) / 2 + 1, ow = wd; // 3 rows (0, 2, 4), 4 columns
    assertEquals(c * oh * ow, y.length);
    for (int ch = 0; ch < c; ch++) for (int r = 0; r < oh; r++) for (int col = 0; col < ow; col++) {
      float sum = 0;
      for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
        int yy = r * 2 - 1 + i, xx = col - 1 + j;
        if (yy >= 0 && yy < h && xx >= 0 && xx < wd) sum += w[ch * 9 + i * 3 + j] * x[(ch * h + yy) * wd + xx];
      }
      assertEquals(sum, y[(ch * oh + r) * ow + col], 1e-5f, "channel " + ch + ", row " + r + ", column " + col);
    }
  }

  // ---------------------------------------------------------------- PaddleOCR against ONNX Runtime

  /** A white card with two lines of glyph-like strokes, NCHW; the formula of src/test/onnx/paddleocr-reference.mjs. */
  static float[] card(int h, int w) {
    float[] x = new float[3 * h * w];
    for (int y = 0; y < h; y++) {
      for (int c = 0; c < w; c++) {
        boolean line = (y >= h / 4 && y < h / 4 + h / 6) || (y >= h / 2 && y < h / 2 + h / 5);
        boolean ink = line && c >= 8 && c < w - 8 && (c / 3) % 3 != 0 && (c / 12) % 5 != 4 && (y + c) % 7 != 0;
        float v = ink ? 0.1f : 0.95f;
        for (int ch = 0; ch < 3; ch++) x[ch * h * w + y * w + c] = v - 0.05f * ch;
      }
    }
    return x;
  }

  /** One of PaddleOCR's networks ({@code det} or {@code rec}), fetched with npm into target/npm once; the test is skipped without it. */
  private static OnnxModel paddleOcr(String which) throws Exception {
    StringBuilder why = new StringBuilder();
    Path assets = NpmTarball.paddleOcr(why);
    assumeTrue(assets != null, () -> "skipped: PaddleOCR's models are not available: " + why);
    return OnnxModel.parse(Files.readAllBytes(assets.resolve("ch_PP-OCRv4_" + which + "_infer.onnx")));
  }

  @Test
  void paddleOcrTextDetectionIsWhatOnnxRuntimeComputes() throws Exception {
    OnnxModel m = paddleOcr("det");
    int h = 96;
    int w = 160;
    float[] y = run(m, card(h, w), 1, 3, h, w);
    assertEquals(h * w, y.length);
    double[] rowSums = new double[h];
    double sum = 0;
    int above = 0;
    for (int i = 0; i < y.length; i++) {
      rowSums[i / w] += y[i];
      sum += y[i];
      if (y[i] > 0.5f) above++;
    }
    // ONNX Runtime 1.30.0: the text map's sum, pixels over 0.5, and the sums of the rows with text
    assertEquals(2159.08914, sum, 0.05);
    assertEquals(2162, above, 3);
    double[] lineOne = {130.9153, 133.0326, 134.3659, 134.0032, 133.9878, 133.4597, 131.9423, 104.6983};
    double[] lineTwo = {129.3697, 133.7157, 133.6939, 133.9888, 133.9767, 133.4455, 132.4302, 130.4714, 61.5921};
    for (int r = 0; r < h; r++) {
      double expected = r >= 29 && r < 37 ? lineOne[r - 29] : r >= 54 && r < 63 ? lineTwo[r - 54] : 0;
      assertEquals(expected, rowSums[r], 0.01, "row " + r);
    }
    // built for posters of any size (the sizes of its upsampling known only when it runs): the same map
    float[] any = run(m, Shape.of(1, 3, -1, -1), card(h, w), 1, 3, h, w);
    for (int i = 0; i < y.length; i++) assertEquals(y[i], any[i], 1e-5f, "pixel " + i);
  }

  @Test
  void paddleOcrTextRecognitionIsWhatOnnxRuntimeComputes() throws Exception {
    OnnxModel m = paddleOcr("rec");
    float[] y = run(m, card(48, 160), 1, 3, 48, 160);
    int steps = 20;
    int classes = 6625;
    assertEquals(steps * classes, y.length);
    // ONNX Runtime 1.30.0: the most likely character at each of the 20 steps (0 is CTC's blank) and some probabilities
    int[] path = new int[steps];
    for (int t = 0; t < steps; t++) {
      for (int k = 1; k < classes; k++) if (y[t * classes + k] > y[t * classes + path[t]]) path[t] = k;
    }
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 6624, 0, 0, 0, 0, 0, 0, 6624, 6624, 0, 0, 0, 0, 93}, path);
    // built for lines of any width: the same probabilities
    float[] any = run(m, Shape.of(1, 3, 48, -1), card(48, 160), 1, 3, 48, 160);
    for (int i = 0; i < y.length; i += 97) assertEquals(y[i], any[i], 1e-5f, "probability " + i);
    int[] at = {0, 19880, 59640, 99400, 119250};
    float[] expected = {0.903839f, 0.000002f, 0.001487f, 0.000769f, 0.989355f};
    for (int k = 0; k < at.length; k++) assertEquals(expected[k], y[at[k]], 2e-5f, "probability " + at[k]);
  }
}
