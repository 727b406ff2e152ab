package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class KerasGraphTest {
  private static final int H = 4;
  private static final int C = 2;
  private static final int K = 3;

  /**
   * A tiny MobileNetV2-like block: input 4x4x2 -> conv 1x1 (3) -> BN -> ReLU6 -> depthwise 3x3 same
   * -> BN -> add with the ReLU6 output -> global average pool -> dense 2 softmax; compared with a
   * plain-Java computation of the same network.
   */
  @Test
  void buildsConvDepthwiseBatchNormAddPoolDenseLikeKeras(@TempDir Path dir) throws IOException {
    Random r = new Random(7);
    float[] c1 = rand(r, C * K, 1);
    float[][] bn1 = {rand(r, K, 0.5f, 1.5f), rand(r, K, 1), rand(r, K, 1), rand(r, K, 0.5f, 2f)}; // gamma, beta, mean, var
    float[] dw = rand(r, 9 * K, 1);
    float[][] bn2 = {rand(r, K, 0.5f, 1.5f), rand(r, K, 1), rand(r, K, 1), rand(r, K, 0.5f, 2f)};
    float[] fcK = rand(r, K * 2, 1);
    float[] fcB = rand(r, 2, 1);
    List<Object[]> ws = List.of(
        new Object[] {"c1/kernel", new int[] {1, 1, C, K}, c1},
        new Object[] {"bn1/gamma", new int[] {K}, bn1[0]}, new Object[] {"bn1/beta", new int[] {K}, bn1[1]},
        new Object[] {"bn1/moving_mean", new int[] {K}, bn1[2]}, new Object[] {"bn1/moving_variance", new int[] {K}, bn1[3]},
        new Object[] {"dw/depthwise_kernel", new int[] {3, 3, K, 1}, dw},
        new Object[] {"bn2/gamma", new int[] {K}, bn2[0]}, new Object[] {"bn2/beta", new int[] {K}, bn2[1]},
        new Object[] {"bn2/moving_mean", new int[] {K}, bn2[2]}, new Object[] {"bn2/moving_variance", new int[] {K}, bn2[3]},
        new Object[] {"fc/kernel", new int[] {K, 2}, fcK}, new Object[] {"fc/bias", new int[] {2}, fcB});
    String layers = "["
        + layer("in", "InputLayer", "\"batch_input_shape\":[null," + H + "," + H + "," + C + "]")
        + "," + layer("c1", "Conv2D", "\"filters\":3,\"kernel_size\":[1,1],\"strides\":[1,1],\"padding\":\"same\",\"use_bias\":false,\"activation\":\"linear\"", "in")
        + "," + layer("bn1", "BatchNormalization", "\"axis\":-1,\"epsilon\":0.001", "c1")
        + "," + layer("r1", "ReLU", "\"max_value\":6", "bn1")
        + "," + layer("dw", "DepthwiseConv2D", "\"kernel_size\":[3,3],\"strides\":[1,1],\"padding\":\"same\",\"use_bias\":false,\"activation\":\"linear\"", "r1")
        + "," + layer("bn2", "BatchNormalization", "\"axis\":-1,\"epsilon\":0.001", "dw")
        + "," + layer("add", "Add", "", "r1", "bn2")
        + "," + layer("gap", "GlobalAveragePooling2D", "", "add")
        + "," + layer("fc", "Dense", "\"units\":2,\"activation\":\"softmax\",\"use_bias\":true", "gap")
        + "]";
    writeModel(dir, layers, ws);
    TfjsWeights weights = TfjsWeights.read(dir);
    KerasGraph kg = new KerasGraph(weights);
    assertArrayEquals(new int[] {H, H}, kg.inputSize());

    float[] image = rand(r, 2 * H * H * C, 1); // two images
    float[] got;
    int biasAdds = 0;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, H, H, C)));
      Operand<TFloat32> y = kg.build(tf, x, "fc");
      for (Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) if (it.next().type().equals("BiasAdd")) biasAdds++;
      try (Session s = new Session(g);
          TFloat32 in = TFloat32.tensorOf(Shape.of(2, H, H, C), DataBuffers.of(image, true, false));
          Result res = s.runner().feed(x, in).fetch(y).run()) {
        got = new float[4];
        ((TFloat32) res.get(0)).copyTo(DataBuffers.of(got, false, false));
      }
    }
    assertEquals(3, biasAdds, "both batch norms folded into their convolutions (plus the dense bias)");

    float[] want = new float[4];
    for (int n = 0; n < 2; n++) {
      float[] a = new float[H * H * K];
      for (int p = 0; p < H * H; p++) {
        for (int k = 0; k < K; k++) {
          float v = 0;
          for (int c = 0; c < C; c++) v += image[n * H * H * C + p * C + c] * c1[c * K + k];
          a[p * K + k] = Math.min(6f, Math.max(0f, bn(v, bn1, k)));
        }
      }
      float[] pooled = new float[K];
      for (int yy = 0; yy < H; yy++) {
        for (int xx = 0; xx < H; xx++) {
          for (int k = 0; k < K; k++) {
            float v = 0;
            for (int dy = -1; dy <= 1; dy++) {
              for (int dx = -1; dx <= 1; dx++) {
                int sy = yy + dy;
                int sx = xx + dx;
                if (sy < 0 || sx < 0 || sy >= H || sx >= H) continue;
                v += a[(sy * H + sx) * K + k] * dw[((dy + 1) * 3 + (dx + 1)) * K + k];
              }
            }
            pooled[k] += (a[(yy * H + xx) * K + k] + bn(v, bn2, k)) / (H * H);
          }
        }
      }
      double[] logit = new double[2];
      for (int o = 0; o < 2; o++) {
        logit[o] = fcB[o];
        for (int k = 0; k < K; k++) logit[o] += pooled[k] * fcK[k * 2 + o];
      }
      double m = Math.max(logit[0], logit[1]);
      double e0 = Math.exp(logit[0] - m);
      double e1 = Math.exp(logit[1] - m);
      want[n * 2] = (float) (e0 / (e0 + e1));
      want[n * 2 + 1] = (float) (e1 / (e0 + e1));
    }
    assertArrayEquals(want, got, 1e-5f);
  }

  /**
   * An InceptionV3-like block, read as a backbone: input 4x4x3 -> [conv 1x1 (no bias) -> BN without
   * scale -> Activation relu] and [max pool 3x3 stride 1 same] -> Concatenate ("mixed10") ->
   * features = average pools of the relu branch and of mixed10, then the 4x4 pixel grid; compared
   * with plain Java.
   */
  @Test
  void backboneFeaturesConcatenatePooledLayersAndPixels(@TempDir Path dir) throws IOException {
    int c = 3;
    Random r = new Random(11);
    float[] k1 = rand(r, c * K, 1);
    float[][] bn = {null, rand(r, K, 1), rand(r, K, 1), rand(r, K, 0.5f, 2f)}; // no gamma (scale: false)
    List<Object[]> ws = List.of(
        new Object[] {"conv/kernel", new int[] {1, 1, c, K}, k1},
        new Object[] {"bn/beta", new int[] {K}, bn[1]},
        new Object[] {"bn/moving_mean", new int[] {K}, bn[2]}, new Object[] {"bn/moving_variance", new int[] {K}, bn[3]});
    String layers = "["
        + layer("in", "InputLayer", "\"batch_input_shape\":[null," + H + "," + H + "," + c + "]")
        + "," + layer("conv", "Conv2D", "\"filters\":3,\"kernel_size\":[1,1],\"strides\":[1,1],\"padding\":\"valid\",\"use_bias\":false,\"activation\":\"linear\"", "in")
        + "," + layer("bn", "BatchNormalization", "\"axis\":3,\"epsilon\":0.001,\"scale\":false", "conv")
        + "," + layer("act", "Activation", "\"activation\":\"relu\"", "bn")
        + "," + layer("pool", "MaxPooling2D", "\"pool_size\":[3,3],\"strides\":[1,1],\"padding\":\"same\"", "in")
        + "," + layer("mixed10", "Concatenate", "\"axis\":-1", "act", "pool")
        + "]";
    writeModel(dir, layers, ws);
    KerasBackbone b = new KerasBackbone(dir, KerasBackbone.InputScaling.UNIT, List.of("act", "mixed10", KerasBackbone.PIXELS));
    assertEquals(KerasBackbone.Kind.INCEPTION_V3, b.kind());
    float[] image = new float[H * H * c];
    for (int i = 0; i < image.length; i++) image[i] = r.nextFloat();
    int width = K + (K + c) + 48;
    float[] got = b.run(false, image, 1, width);

    float[] want = new float[width];
    for (int p = 0; p < H * H; p++) {
      int y = p / H;
      int x = p % H;
      for (int k = 0; k < K; k++) {
        float v = 0;
        for (int ch = 0; ch < c; ch++) v += image[p * c + ch] * k1[ch * K + k];
        float scale = (float) (1 / Math.sqrt(bn[3][k] + 1e-3));
        float relu = Math.max(0f, (v - bn[2][k]) * scale + bn[1][k]);
        want[k] += relu / (H * H); // "act"
        want[K + k] += relu / (H * H); // mixed10, first part
      }
      for (int ch = 0; ch < c; ch++) {
        float m = Float.NEGATIVE_INFINITY;
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int sy = y + dy;
            int sx = x + dx;
            if (sy >= 0 && sx >= 0 && sy < H && sx < H) m = Math.max(m, image[(sy * H + sx) * c + ch]);
          }
        }
        want[2 * K + ch] += m / (H * H); // mixed10, max-pool part
      }
    }
    // 4x4 input, 4x4 grid: the pixel features are the image itself.
    System.arraycopy(image, 0, want, K + K + c, 48);
    assertArrayEquals(want, got, 1e-5f);
    assertThrows(IOException.class, () -> new KerasBackbone(dir, KerasBackbone.InputScaling.UNIT, List.of("no_such_layer")));
  }

  @Test
  void aNetworkSizeFeedsTheNetworkAResizedCopyAndLeavesThePixelsAlone(@TempDir Path dir) throws IOException {
    int c = 3;
    int n = 8; // the network's own size; the image fed is twice that
    Random r = new Random(12);
    List<Object[]> ws = List.of(
        new Object[] {"conv/kernel", new int[] {1, 1, c, K}, rand(r, c * K, 1)},
        new Object[] {"bn/beta", new int[] {K}, rand(r, K, 1)},
        new Object[] {"bn/moving_mean", new int[] {K}, rand(r, K, 1)},
        new Object[] {"bn/moving_variance", new int[] {K}, rand(r, K, 0.5f, 2f)});
    String layers = "["
        + layer("in", "InputLayer", "\"batch_input_shape\":[null," + n + "," + n + "," + c + "]")
        + "," + layer("conv", "Conv2D", "\"filters\":3,\"kernel_size\":[1,1],\"strides\":[1,1],\"padding\":\"valid\",\"use_bias\":false,\"activation\":\"linear\"", "in")
        + "," + layer("bn", "BatchNormalization", "\"axis\":3,\"epsilon\":0.001,\"scale\":false", "conv")
        + "," + layer("mixed10", "Activation", "\"activation\":\"relu\"", "bn")
        + "]";
    writeModel(dir, layers, ws);
    List<String> features = List.of("mixed10", KerasBackbone.PIXELS);
    // A 16x16 image made of 2x2 blocks: halved bilinearly (half-pixel centres) it is exactly the 8x8 image of the blocks;
    // the pixel grid (4x4 cells) is taken from the image as fed, and its cells average the same blocks.
    float[] small = new float[n * n * c];
    for (int i = 0; i < small.length; i++) small[i] = r.nextFloat();
    float[] large = new float[4 * n * n * c];
    for (int y = 0; y < 2 * n; y++) {
      for (int x = 0; x < 2 * n; x++) System.arraycopy(small, ((y / 2) * n + x / 2) * c, large, (y * 2 * n + x) * c, c);
    }
    KerasBackbone direct = new KerasBackbone(dir, KerasBackbone.InputScaling.UNIT, features, n, n);
    KerasBackbone resized = new KerasBackbone(dir, KerasBackbone.InputScaling.UNIT, features, 2 * n, 2 * n).withNetworkSize(n, n);
    int width = K + 48;
    assertArrayEquals(direct.run(false, small, 1, width), resized.run(false, large, 1, width), 1e-5f);
    assertArrayEquals(new int[] {n, n}, resized.networkSize());
    assertTrue(resized.describe().get("name").toString().contains("16x16 input resized to 8x8 in the graph"), resized.describe().toString());
    assertArrayEquals(new int[] {n, n}, direct.withNetworkSize(n, n).networkSize(), "its own input size is no resize");
    assertThrows(IllegalArgumentException.class, () -> direct.withNetworkSize(4, 0));
  }

  /** The npm package whose MobileNetV2 the port is checked on, exactly this version. */
  static final String NSFWJS = "nsfwjs@4.4.0";
  /** The registry's integrity (sha512 of the tarball) for {@link #NSFWJS}: another tarball is refused. */
  static final String NSFWJS_INTEGRITY =
      "sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA==";
  static final Path NSFWJS_DIR = Path.of("target", "npm", "nsfwjs-4.4.0");

  /**
   * nsfwjs 4.4.0's MobileNetV2 directory: {@code POSTER_GENRES_NSFWJS} (or the system property
   * {@code poster.genres.nsfwjs}) when set; else the registry's tarball of exactly that version,
   * fetched once into {@code target/npm} with {@code npm pack} (the package alone, a 25 MB tarball, not its
   * dependencies) when npm is on the PATH, its sha512 checked against the pinned integrity. The
   * reason it is unavailable goes into {@code why}.
   */
  static Path nsfwjsMobileNetV2(StringBuilder why) throws IOException, InterruptedException {
    String where = System.getProperty("poster.genres.nsfwjs", System.getenv("POSTER_GENRES_NSFWJS"));
    if (where != null) return Path.of(where);
    Path model = NpmTarball.fetch(NSFWJS, NSFWJS_INTEGRITY, NSFWJS_DIR, "package/dist/models/mobilenet_v2", why);
    if (model == null) why.append("; or set POSTER_GENRES_NSFWJS to node_modules/nsfwjs/dist/models/mobilenet_v2");
    return model;
  }

  /**
   * The real nsfwjs 4.4.0 MobileNetV2 ({@link #nsfwjsMobileNetV2}: fetched with npm, so it runs in
   * CI) against TensorFlow.js: the reference softmax and pooled features are what TensorFlow.js
   * 4.22.0 (CPU backend, nsfwjs's own loader on the same files) gives for {@link
   * KerasBackbone#syntheticImage}, computed by {@code src/test/tfjs/nsfwjs-reference.mjs}.
   */
  @Test
  void realNsfwjsMobileNetV2MatchesTensorFlowJs() throws Exception {
    StringBuilder why = new StringBuilder();
    Path model = nsfwjsMobileNetV2(why);
    assumeTrue(model != null && Files.isDirectory(model), why::toString);
    String where = model.toString();
    KerasBackbone b = new KerasBackbone(Path.of(where), KerasBackbone.InputScaling.UNIT);
    assertEquals(224, b.imageSize());
    assertEquals(266, b.weights().weights().size());
    int size = b.imageSize();
    float[] image = new float[size * size * 3];
    KerasBackbone.syntheticImage(image, 0, size);
    float[] p = b.run(true, image, 1, 5);
    assertArrayEquals(new float[] {0.033402f, 0.032348f, 0.765976f, 0.161803f, 0.006470f}, p, 1e-4f);
    float[] f = b.run(false, image, 1, 1280);
    double sum = 0;
    for (float v : f) sum += v;
    assertEquals(86.5697, sum, 0.01, "sum of the 1280 pooled out_relu features (TensorFlow.js: 86.5697)");
    assertEquals(4.231618f, f[1279], 1e-3f);
  }

  private static float bn(float v, float[][] bn, int k) {
    return (float) ((v - bn[2][k]) / Math.sqrt(bn[3][k] + 0.001) * bn[0][k] + bn[1][k]);
  }

  static String layer(String name, String type, String config, String... inputs) {
    List<String> refs = new ArrayList<>();
    for (String in : inputs) refs.add("[\"" + in + "\",0,0,{}]");
    return "{\"name\":\"" + name + "\",\"class_name\":\"" + type + "\",\"config\":{\"name\":\"" + name + "\""
        + (config.isEmpty() ? "" : "," + config) + "},\"inbound_nodes\":" + (inputs.length == 0 ? "[]" : "[[" + String.join(",", refs) + "]]") + "}";
  }

  static void writeModel(Path dir, String layers, List<Object[]> ws) throws IOException {
    StringBuilder specs = new StringBuilder();
    int total = 0;
    for (Object[] w : ws) total += ((float[]) w[2]).length;
    ByteBuffer buf = ByteBuffer.allocate(total * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (Object[] w : ws) {
      if (specs.length() > 0) specs.append(',');
      int[] shape = (int[]) w[1];
      specs.append("{\"name\":\"").append(w[0]).append("\",\"shape\":").append(java.util.Arrays.toString(shape)).append(",\"dtype\":\"float32\"}");
      for (float v : (float[]) w[2]) buf.putFloat(v);
    }
    Files.write(dir.resolve("w.bin"), buf.array());
    Files.writeString(dir.resolve("model.json"), "{\"modelTopology\":{\"model_config\":{\"class_name\":\"Model\",\"config\":{\"layers\":"
        + layers + "}}},\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[" + specs + "]}]}");
  }

  private static float[] rand(Random r, int n, float scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
    return a;
  }

  private static float[] rand(Random r, int n, float lo, float hi) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = lo + r.nextFloat() * (hi - lo);
    assertTrue(hi > lo);
    return a;
  }
}
