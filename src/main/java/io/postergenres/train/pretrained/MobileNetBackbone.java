package io.postergenres.train.pretrained;

import io.postergenres.image.Preprocessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The MobileNetV2 of the {@code nsfwjs} npm package (4.4.0, MIT; {@code dist/models/mobilenet_v2}),
 * converted by {@link TfjsWeights} and {@link KerasGraph} into frozen TensorFlow Java ops.
 *
 * <p>nsfwjs feeds this model RGB divided by 255 ({@code [0, 1]}) at 224x224 (its {@code
 * core.js}: {@code img.toFloat().div(255)}, bilinear resize to 224), which is exactly our model
 * contract's input, so no rescaling is needed inside the graph ({@link InputScaling#UNIT}). The
 * Keras ImageNet convention {@code [-1, 1]} is available as {@link InputScaling#SYMMETRIC}.
 *
 * <p>The feature extractor is the network up to {@code out_relu} (last 1x1 conv, 1280 channels,
 * ReLU6) followed by a global average pool: 1280 features per image. nsfwjs' own head ({@code
 * dense_1..dense_3}, 5-way softmax over Drawing, Hentai, Neutral, Porn, Sexy) is only used to
 * check the port.
 */
public final class MobileNetBackbone {
  public static final String FEATURE_LAYER = "out_relu";
  public static final String CLASSIFIER_LAYER = "dense_3";
  public static final int FEATURES = 1280;
  public static final String[] NSFW_CLASSES = {"Drawing", "Hentai", "Neutral", "Porn", "Sexy"};

  /** How our [0,1] input is mapped before the backbone. */
  public enum InputScaling {
    /** [0, 1], as nsfwjs feeds it (the default). */
    UNIT,
    /** 2x - 1: [-1, 1], the Keras MobileNetV2 ImageNet preprocessing. */
    SYMMETRIC
  }

  private final Path dir;
  private final TfjsWeights weights;
  private final KerasGraph graph;
  private final InputScaling scaling;

  public MobileNetBackbone(Path dir, InputScaling scaling) throws IOException {
    this.dir = dir;
    this.weights = TfjsWeights.read(dir);
    this.graph = new KerasGraph(weights);
    this.scaling = scaling;
    if (!graph.layerNames().contains(FEATURE_LAYER)) {
      throw new IOException(dir + ": not nsfwjs' MobileNetV2 (no layer " + FEATURE_LAYER + ")");
    }
  }

  public Path dir() {
    return dir;
  }

  public TfjsWeights weights() {
    return weights;
  }

  public InputScaling scaling() {
    return scaling;
  }

  /** Input height = width (224 for nsfwjs). */
  public int imageSize() {
    int[] s = graph.inputSize();
    return s[0] > 0 ? s[0] : 224;
  }

  /** Scalars in the backbone's weights (conv kernels, batch-norm gammas, betas and moving statistics). */
  public long backboneParameterCount() {
    long n = 0;
    for (var e : weights.weights().entrySet()) if (!e.getKey().startsWith("dense_")) n += e.getValue().size();
    return n;
  }

  private Operand<TFloat32> scaled(Ops tf, Operand<TFloat32> image) {
    return scaling == InputScaling.SYMMETRIC ? tf.math.sub(tf.math.mul(image, tf.constant(2f)), tf.constant(1f)) : image;
  }

  /** Features [N, 1280]: global average pool of {@code out_relu}. */
  public Operand<TFloat32> features(Ops tf, Operand<TFloat32> image) {
    return tf.math.mean(graph.build(tf, scaled(tf, image), FEATURE_LAYER), tf.constant(new int[] {1, 2}));
  }

  /** nsfwjs' own 5-way softmax, for checking the port. */
  public Operand<TFloat32> nsfwClassifier(Ops tf, Operand<TFloat32> image) {
    return graph.build(tf, scaled(tf, image), CLASSIFIER_LAYER);
  }

  /** Runs {@code fn} of a frozen graph over [n, size, size, 3] images; returns n x width values. */
  public float[] run(boolean classifier, float[] images, int n, int width) {
    int size = imageSize();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
      Operand<TFloat32> y = classifier ? nsfwClassifier(tf, x) : features(tf, x);
      try (Session s = new Session(g);
          TFloat32 in = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(images, true, false));
          Result r = s.runner().feed(x, in).fetch(y).run()) {
        float[] out = new float[n * width];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
        return out;
      }
    }
  }

  /** Where the weights came from, for model.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", "MobileNetV2 (alpha 1.0, 224x224), feature extractor up to out_relu + global average pool (1280 features)");
    m.put("weights_origin", "npm package nsfwjs 4.4.0 (MIT licence, https://github.com/infinitered/nsfwjs), "
        + "dist/models/mobilenet_v2 (TensorFlow.js layers model, weights stored quantized as uint8 with min/scale): "
        + "Keras MobileNetV2 with ImageNet weights, fine-tuned by the nsfwjs authors as a 5-class NSFW classifier "
        + "(layers up to block_10 frozen at their ImageNet values, block_11 to Conv_1 fine-tuned)");
    m.put("conversion", "read and dequantized by io.postergenres.train.pretrained.TfjsWeights, built as frozen TensorFlow "
        + "constants by KerasGraph (batch norm folded into the convolutions with its moving statistics) at training time; "
        + "nsfwjs' own 5-class head (dense_1..dense_3) is not used");
    m.put("backbone_weights_read_from", weights.format());
    m.put("backbone_parameters", backboneParameterCount());
    m.put("input_scaling", scaling == InputScaling.UNIT ? "[0,1] as fed (what nsfwjs feeds)" : "2x-1 inside the graph ([-1,1])");
    m.put("trainable", false);
    return m;
  }

  /**
   * Checks the port: nsfwjs' 5-way softmax for each image given (through the shared Preprocessor)
   * and for a synthetic gradient image. Usage: {@code MobileNetBackbone MODEL_DIR [IMAGE...]}.
   */
  public static void main(String[] args) throws Exception {
    MobileNetBackbone b = new MobileNetBackbone(Path.of(args[0]), InputScaling.UNIT);
    int size = b.imageSize();
    System.out.printf(Locale.ROOT, "read %s: %d weights, %d backbone parameters, input %d%n", b.weights.format(),
        b.weights.weights().size(), b.backboneParameterCount(), size);
    int n = args.length;
    float[] images = new float[n * size * size * 3];
    syntheticImage(images, 0, size);
    Preprocessor pre = new Preprocessor(size, size, 50_000_000L);
    for (int i = 1; i < n; i++) pre.preprocessInto(Files.readAllBytes(Path.of(args[i])), images, i * size * size * 3);
    float[] p = b.run(true, images, n, 5);
    for (int i = 0; i < n; i++) {
      StringBuilder s = new StringBuilder(i == 0 ? "synthetic" : args[i]);
      double sum = 0;
      for (int k = 0; k < 5; k++) {
        s.append(String.format(Locale.ROOT, "  %s %.6f", NSFW_CLASSES[k], p[i * 5 + k]));
        sum += p[i * 5 + k];
      }
      System.out.println(s.append(String.format(Locale.ROOT, "  sum %.6f", sum)));
    }
  }

  /** A deterministic test image: value(y, x, c) = ((x * 3 + y * 5 + c * 7) % 256) / 255. */
  public static void syntheticImage(float[] dest, int offset, int size) {
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        for (int c = 0; c < 3; c++) dest[offset + (y * size + x) * 3 + c] = ((x * 3 + y * 5 + c * 7) % 256) / 255f;
      }
    }
  }
}
