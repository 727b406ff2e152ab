package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.train.GraphInliner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** TF.js graph models read as TensorFlow graphs: a small one built here, and the real CenterNet against TF.js. */
class GraphBackboneTest {
  // x [N,4,4,2] -> depthwise 3x3 (+bias, Relu6) -> conv 1x1 to 3 channels (+bias, Relu) -> mean over H, W.
  private static final float[] DW = new float[3 * 3 * 2]; // [3,3,2,1], stored as float16
  private static final float[] DW_BIAS = {0.25f, -0.5f};
  private static final float[] PW = {0.5f, -1f, 0.25f, 1.5f, 0.75f, -0.5f}; // [1,1,2,3]
  private static final float[] PW_BIAS = {0.1f, 0.2f, -0.3f};

  static {
    for (int i = 0; i < DW.length; i++) DW[i] = ((i * 7) % 11 - 5) / 8f; // exact in float16
  }

  /** A graph model as tensorflowjs_converter writes one, with {@code fused} on the depthwise node. */
  static Path writeModel(Path dir, String fused, String generatedBy) throws IOException {
    String b64Bias = base64("BiasAdd");
    String dwFused = "{\"list\":{\"s\":[" + String.join(",", java.util.Arrays.stream(fused.split(",")).map(GraphBackboneTest::base64)
        .map(s -> "\"" + s + "\"").toList()) + "]}}";
    String json = """
        {"format":"graph-model","generatedBy":"%s","convertedBy":"test",
         "modelTopology":{"node":[
          {"name":"images","op":"Placeholder","attr":{"dtype":{"type":"DT_FLOAT"},"shape":{"shape":{"dim":[{"size":"-1"},{"size":"4"},{"size":"4"},{"size":"2"}]}}}},
          {"name":"dw/w","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"},"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{}}}}},
          {"name":"dw/b","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"},"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{}}}}},
          {"name":"pw/w","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"},"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{}}}}},
          {"name":"pw/b","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"},"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{}}}}},
          {"name":"axes","op":"Const","attr":{"dtype":{"type":"DT_INT32"},"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{}}}}},
          {"name":"dw","op":"FusedDepthwiseConv2dNative","input":["images","dw/w","dw/b"],"attr":{"T":{"type":"DT_FLOAT"},
            "strides":{"list":{"i":["1","1","1","1"]}},"padding":{"s":"U0FNRQ=="},"data_format":{"s":"TkhXQw=="},
            "dilations":{"list":{"i":["1","1","1","1"]}},"fused_ops":%s,"num_args":{"i":"1"}}},
          {"name":"pw","op":"_FusedConv2D","input":["dw","pw/w","pw/b","^images"],"attr":{"T":{"type":"DT_FLOAT"},
            "strides":{"list":{"i":["1","1","1","1"]}},"padding":{"s":"VkFMSUQ="},"data_format":{"s":"TkhXQw=="},
            "dilations":{"list":{"i":["1","1","1","1"]}},"use_cudnn_on_gpu":{"b":true},"epsilon":{"f":0},
            "fused_ops":{"list":{"s":["%s","UmVsdQ=="]}},"num_args":{"i":"1"}}},
          {"name":"pooled","op":"Mean","input":["pw","axes"],"attr":{"T":{"type":"DT_FLOAT"},"Tidx":{"type":"DT_INT32"},"keep_dims":{"b":false}}}
         ]},
         "weightsManifest":[{"paths":["group1-shard1of1.bin"],"weights":[
          {"name":"dw/w","shape":[3,3,2,1],"dtype":"float32","quantization":{"dtype":"float16"}},
          {"name":"dw/b","shape":[2],"dtype":"float32"},
          {"name":"pw/w","shape":[1,1,2,3],"dtype":"float32"},
          {"name":"pw/b","shape":[3],"dtype":"float32"},
          {"name":"axes","shape":[2],"dtype":"int32"}]}]}
        """.formatted(generatedBy, dwFused, b64Bias);
    Files.writeString(dir.resolve("model.json"), json);
    ByteBuffer b = ByteBuffer.allocate(DW.length * 2 + (DW_BIAS.length + PW.length + PW_BIAS.length) * 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : DW) b.putShort(toHalf(v));
    for (float[] a : List.of(DW_BIAS, PW, PW_BIAS)) for (float v : a) b.putFloat(v);
    b.putInt(1).putInt(2);
    Files.write(dir.resolve("group1-shard1of1.bin"), b.array());
    return dir.resolve("model.json");
  }

  /** float16 of a value that float16 holds exactly (zero or a normal number with 10 mantissa bits). */
  private static short toHalf(float v) {
    if (v == 0f) return 0;
    int bits = Float.floatToIntBits(v);
    int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
    return (short) (((bits >>> 16) & 0x8000) | (exp << 10) | ((bits >>> 13) & 0x3FF));
  }

  private static String base64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  private static float[] image(int n, int h, int w) {
    float[] x = new float[n * h * w * 3];
    for (int k = 0; k < n; k++) for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++) for (int c = 0; c < 3; c++) {
      x[((k * h + y) * w + xx) * 3 + c] = ((xx * 3 + y * 5 + c * 7 + k * 11) % 256) / 255f;
    }
    return x;
  }

  @Test
  void fusedOpsAreWrittenBackAsTensorFlowOpsThatComputeTheSame(@TempDir Path dir) throws Exception {
    Path json = writeModel(dir, "BiasAdd,Relu6", "test");
    TfjsGraphModel model = TfjsGraphModel.read(json);
    List<String> ops = model.graph().getNodeList().stream().map(n -> n.getOp()).toList();
    assertTrue(ops.containsAll(List.of("DepthwiseConv2dNative", "BiasAdd", "Relu6", "Conv2D", "Relu")), ops.toString());
    assertTrue(ops.stream().noneMatch(o -> o.contains("Fused")), ops.toString());
    assertEquals(DW.length + DW_BIAS.length + PW.length + PW_BIAS.length, model.parameters());
    float[] x = new float[2 * 4 * 4 * 2];
    for (int i = 0; i < x.length; i++) x[i] = ((i * 13) % 17 - 8) / 4f;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4, 4, 2)));
      List<Output<?>> out = GraphInliner.inline(tf, model.graph(), "images", in, List.of("pooled"), "m", json.toString());
      // The same network from TensorFlow's own ops.
      Operand<TFloat32> dw = tf.nn.relu6(tf.nn.biasAdd(tf.nn.depthwiseConv2dNative(in, tf.constant(Shape.of(3, 3, 2, 1), DataBuffers.of(DW)),
          List.of(1L, 1L, 1L, 1L), "SAME"), tf.constant(DW_BIAS)));
      Operand<TFloat32> pw = tf.nn.relu(tf.nn.biasAdd(tf.nn.conv2d(dw, tf.constant(Shape.of(1, 1, 2, 3), DataBuffers.of(PW)),
          List.of(1L, 1L, 1L, 1L), "VALID"), tf.constant(PW_BIAS)));
      Operand<TFloat32> want = tf.math.mean(pw, tf.constant(new int[] {1, 2}));
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(2, 4, 4, 2), DataBuffers.of(x));
          Result r = s.runner().feed(in, t).fetch(out.get(0)).fetch(want).run()) {
        float[] got = new float[6];
        float[] expected = new float[6];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(got, false, false));
        ((TFloat32) r.get(1)).copyTo(DataBuffers.of(expected, false, false));
        assertArrayEquals(expected, got, 1e-6f);
        assertTrue(java.util.Arrays.stream(new double[] {got[0], got[1], got[2], got[3], got[4], got[5]}).anyMatch(v -> v > 0.01),
            "a network whose output is all zero would compare equal too");
      }
    }
  }

  @Test
  void whatCannotBeWrittenBackIsRefusedByName(@TempDir Path dir) throws Exception {
    Path json = writeModel(dir, "BiasAdd,Prelu", "test");
    IOException e = assertThrows(IOException.class, () -> TfjsGraphModel.read(json));
    assertTrue(e.getMessage().contains("node dw") && e.getMessage().contains("Prelu"), e.getMessage());
    Files.writeString(dir.resolve("layers.json"), "{\"format\":\"layers-model\",\"modelTopology\":{},\"weightsManifest\":[]}");
    e = assertThrows(IOException.class, () -> TfjsGraphModel.read(dir.resolve("layers.json")));
    assertTrue(e.getMessage().contains("not a TensorFlow.js graph model"), e.getMessage());
    e = assertThrows(IOException.class, () -> TfjsGraphModel.read(dir.resolve("absent.json")));
    assertTrue(e.getMessage().contains("absent.json"), e.getMessage());
    Path unknown = writeModel(Files.createDirectories(dir.resolve("other")), "BiasAdd,Relu6", "https://example.org/some-net");
    e = assertThrows(IOException.class, () -> GraphBackbone.read(unknown));
    assertTrue(e.getMessage().contains("https://example.org/some-net") && e.getMessage().contains("centernet"), e.getMessage());
  }

  /** @vladmandic/human 3.3.6, whose models/centernet.json is the second backbone of the default model. */
  static final String HUMAN = "@vladmandic/human@3.3.6";
  static final String HUMAN_INTEGRITY =
      "sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+teCv6A==";

  /** Its CenterNet's JSON: POSTER_GENRES_CENTERNET when set, else fetched with npm into target/npm (28 MB, once). */
  static Path centernet(StringBuilder why) throws IOException, InterruptedException {
    String where = System.getProperty("poster.genres.centernet", System.getenv("POSTER_GENRES_CENTERNET"));
    if (where != null) return Path.of(where);
    Path models = NpmTarball.fetch(HUMAN, HUMAN_INTEGRITY, Path.of("target", "npm", "human-3.3.6"), "package/models", why);
    if (models == null) why.append("; or set POSTER_GENRES_CENTERNET to node_modules/@vladmandic/human/models/centernet.json");
    return models == null ? null : models.resolve("centernet.json");
  }

  /**
   * The real CenterNet against TensorFlow.js 4.22.0 (CPU backend, the model loaded from the same
   * files, the placeholder's shape relaxed to take 320x224): the pooled layers of two synthetic
   * images, first four channels of each layer and the sum over its channels.
   */
  @Test
  void centernetFeaturesAreWhatTensorFlowJsComputes() throws Exception {
    StringBuilder why = new StringBuilder();
    Path json = centernet(why);
    assumeTrue(json != null, () -> "skipped: the real CenterNet is not available: " + why);
    GraphBackbone bb = GraphBackbone.read(json);
    assertEquals("centernet", bb.preset().name());
    int[] widths = {72, 32, 96, 64, 88, 528, 720, 120, 480};
    float[][][] first4 = {
        {{2.60041f, 1.939697f, 1.085122f, 1.599571f}, {2.605171f, 1.895857f, 1.127317f, 1.591057f}},
        {{3.182108f, -5.528885f, -6.659866f, 12.452593f}, {3.140087f, -5.889196f, -7.606264f, 12.884441f}},
        {{1.340589f, 1.143928f, 0.128073f, 0.215283f}, {1.363404f, 1.144283f, 0.122032f, 0.246875f}},
        {{-5.442788f, -2.795782f, 0.695046f, -13.108773f}, {-5.902474f, -2.378675f, 0.41647f, -12.974856f}},
        {{0.680477f, -2.540238f, 4.392526f, -3.688969f}, {0.234645f, -2.405517f, 4.231029f, -3.399371f}},
        {{0.135226f, 0.106704f, -0.027089f, -0.148356f}, {0.130918f, 0.108935f, -0.007232f, -0.134974f}},
        {{1.110777f, -0.264673f, -0.068029f, 0.854427f}, {1.061107f, -0.25677f, 0.160431f, 1.227005f}},
        {{-7.378936f, -1.628517f, 6.192126f, -3.310614f}, {-7.972118f, -4.160196f, 3.920874f, -3.873308f}},
        {{0.086086f, -0.22224f, -0.213178f, -0.141711f}, {-0.017068f, -0.165114f, -0.233477f, -0.135845f}}};
    double[][] sums = {{344.5591, 344.8814}, {0.1013, 0.7816}, {90.0446, 90.3981}, {17.7845, 16.4092}, {-0.6649, 3.7105},
        {-9.5452, -11.8158}, {9.9248, 7.8519}, {-21.7305, -30.8153}, {-61.6984, -65.9149}};
    int h = 320;
    int w = 224;
    int f = java.util.Arrays.stream(widths).sum();
    float[] got = new float[2 * f];
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w, 3)));
      Operand<TFloat32> feats = bb.features(tf, in);
      assertEquals(f, feats.shape().size(1));
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(2, h, w, 3), DataBuffers.of(image(2, h, w)));
          Result r = s.runner().feed(in, t).fetch(feats).run()) {
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(got, false, false));
      }
    }
    int off = 0;
    for (int layer = 0; layer < widths.length; layer++) {
      for (int n = 0; n < 2; n++) {
        double sum = 0;
        for (int c = 0; c < widths[layer]; c++) sum += got[n * f + off + c];
        for (int c = 0; c < 4; c++) {
          float want = first4[layer][n][c];
          float v = got[n * f + off + c];
          assertEquals(want, v, 2e-3 * Math.max(1, Math.abs(want)),
              String.format(Locale.ROOT, "%s image %d channel %d", bb.preset().featureNodes().get(layer), n, c));
        }
        assertEquals(sums[layer][n], sum, 0.02 + 1e-3 * Math.abs(sums[layer][n]), bb.preset().featureNodes().get(layer) + " sum, image " + n);
      }
      off += widths[layer];
    }
  }
}
