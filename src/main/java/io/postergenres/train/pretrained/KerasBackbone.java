package io.postergenres.train.pretrained;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A pretrained Keras network of the {@code nsfwjs} npm package (4.4.0, MIT), converted by {@link
 * TfjsWeights} and {@link KerasGraph} into frozen TensorFlow Java ops, used as a feature extractor:
 * {@code dist/models/mobilenet_v2} (MobileNetV2, 224x224) or {@code dist/models/inception_v3}
 * (InceptionV3, 299x299).
 *
 * <p>nsfwjs feeds its models RGB divided by 255 ({@code [0, 1]}; its {@code core.js}: {@code
 * img.toFloat().div(255)}, bilinear resize), which is exactly our model contract's input, so no
 * rescaling is needed inside the graph ({@link InputScaling#UNIT}). The Keras ImageNet convention
 * {@code [-1, 1]} is available as {@link InputScaling#SYMMETRIC}.
 *
 * <p>The features of an image are the global average pools of the chosen layers' outputs,
 * concatenated, optionally with {@link #PIXELS} (the image averaged over a 4x4 grid: where the
 * colours are, 48 values). By default the last feature layer ({@code out_relu}, 1280 channels for
 * MobileNetV2; {@code mixed10}, 2048 for InceptionV3). nsfwjs' own head (5-way softmax over
 * Drawing, Hentai, Neutral, Porn, Sexy) is only used to check the port.
 */
public final class KerasBackbone {
  public static final String CLASSIFIER_LAYER = "dense_3";
  public static final String[] NSFW_CLASSES = {"Drawing", "Hentai", "Neutral", "Porn", "Sexy"};
  /** Pseudo-layer: the input image averaged over a 4x4 grid (48 colour-layout features). */
  public static final String PIXELS = "pixels";
  static final int PIXEL_GRID = 4;

  /** The networks this class knows, told apart by a layer only each has. */
  public enum Kind {
    MOBILENET_V2("MobileNetV2 (alpha 1.0)", "out_relu", 224,
        "Keras MobileNetV2 with ImageNet weights, fine-tuned by the nsfwjs authors as a 5-class NSFW classifier "
            + "(layers up to block_10 frozen at their ImageNet values, block_11 to Conv_1 fine-tuned)"),
    INCEPTION_V3("InceptionV3", "mixed10", 299,
        "Keras InceptionV3 with ImageNet weights, fine-tuned by the nsfwjs authors as a 5-class NSFW classifier");

    final String title;
    final String lastFeatureLayer;
    final int defaultSize;
    final String origin;

    Kind(String title, String lastFeatureLayer, int defaultSize, String origin) {
      this.title = title;
      this.lastFeatureLayer = lastFeatureLayer;
      this.defaultSize = defaultSize;
      this.origin = origin;
    }

    public String lastFeatureLayer() {
      return lastFeatureLayer;
    }
  }

  /** How our [0,1] input is mapped before the backbone. */
  public enum InputScaling {
    /** [0, 1], as nsfwjs feeds it (the default). */
    UNIT,
    /** 2x - 1: [-1, 1], the Keras ImageNet preprocessing of both networks. */
    SYMMETRIC
  }

  private final Path dir;
  private final TfjsWeights weights;
  private final KerasGraph graph;
  private final InputScaling scaling;
  private final Kind kind;
  private final List<String> featureLayers;
  private final int height;
  private final int width;
  /** A second network whose pooled layers follow this one's in the features; null: none. */
  private GraphBackbone second;
  /** The size this network sees: the fed image resized in the graph; 0, 0: as fed. */
  private int networkHeight;
  private int networkWidth;

  /** The backbone in {@code dir} with its default feature layer. */
  public KerasBackbone(Path dir, InputScaling scaling) throws IOException {
    this(dir, scaling, List.of());
  }

  /** The backbone in {@code dir}; {@code featureLayers} empty means its last feature layer. */
  public KerasBackbone(Path dir, InputScaling scaling, List<String> featureLayers) throws IOException {
    this(dir, scaling, featureLayers, 0, 0);
  }

  /**
   * The backbone fed {@code height x width} images (0, 0: its own square size). Both networks are
   * convolutional up to their global pools, so any size from 32 pixels works; a poster's own 2:3
   * shape keeps its title and faces unstretched.
   */
  public KerasBackbone(Path dir, InputScaling scaling, List<String> featureLayers, int height, int width) throws IOException {
    if (height < 0 || width < 0 || (height == 0) != (width == 0) || (height > 0 && (height < 8 || width < 8))) {
      throw new IOException("input size must be 8x8 or more, got " + height + "x" + width);
    }
    this.dir = dir;
    this.weights = TfjsWeights.read(dir);
    this.graph = new KerasGraph(weights);
    this.scaling = scaling;
    List<String> names = graph.layerNames();
    Kind found = null;
    for (Kind k : Kind.values()) if (names.contains(k.lastFeatureLayer)) found = k;
    if (found == null) {
      throw new IOException(dir + ": neither nsfwjs' MobileNetV2 (layer out_relu) nor its InceptionV3 (layer mixed10)");
    }
    this.kind = found;
    this.featureLayers = featureLayers.isEmpty() ? List.of(found.lastFeatureLayer) : List.copyOf(featureLayers);
    int[] own = graph.inputSize();
    int square = own[0] > 0 ? own[0] : found.defaultSize;
    this.height = height > 0 ? height : square;
    this.width = width > 0 ? width : square;
    for (String layer : this.featureLayers) {
      grid(layer);
      if (!layer.equals(PIXELS) && !names.contains(layerName(layer))) {
        throw new IOException(dir + ": " + found.title + " has no layer '" + layer + "' (layers ending a block, e.g. "
            + names.stream().filter(n -> n.endsWith("_add") || n.startsWith("mixed") || n.endsWith("_relu")).limit(12).toList() + ")");
      }
    }
  }

  public Path dir() {
    return dir;
  }

  /** Appends {@code other}'s pooled layers to the features (null: this backbone's alone). */
  public KerasBackbone withSecond(GraphBackbone other) {
    this.second = other;
    return this;
  }

  /**
   * Feeds this network (not the second, nor the {@code pixels} grid) a {@code height x width} copy
   * of the image, resized inside the graph (bilinear): a network whose features hold at a smaller
   * size costs less there while the second keeps the full input. 0, 0: the image as fed.
   */
  public KerasBackbone withNetworkSize(int height, int width) {
    if (height < 0 || width < 0 || (height == 0) != (width == 0) || (height > 0 && (height < 8 || width < 8))) {
      throw new IllegalArgumentException("the backbone's own size must be 8x8 or more, got " + height + "x" + width);
    }
    boolean same = height == this.height && width == this.width;
    this.networkHeight = same ? 0 : height;
    this.networkWidth = same ? 0 : width;
    return this;
  }

  /** {height, width} this network sees: its own size when set, else the fed image's. */
  public int[] networkSize() {
    return networkHeight > 0 ? new int[] {networkHeight, networkWidth} : new int[] {height, width};
  }

  /** The second network, or null. */
  public GraphBackbone second() {
    return second;
  }

  public TfjsWeights weights() {
    return weights;
  }

  public InputScaling scaling() {
    return scaling;
  }

  public Kind kind() {
    return kind;
  }

  public List<String> featureLayers() {
    return featureLayers;
  }

  /** Input height = width of the network as published (224 for MobileNetV2, 299 for InceptionV3). */
  public int imageSize() {
    int[] s = graph.inputSize();
    return s[0] > 0 ? s[0] : kind.defaultSize;
  }

  /** The height of the images this backbone is fed. */
  public int height() {
    return height;
  }

  /** The width of the images this backbone is fed. */
  public int width() {
    return width;
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

  /**
   * Features [N, F] of images [N, size, size, 3]: the global average pool of each feature layer,
   * concatenated in the order given. Only the layers needed are built.
   */
  public Operand<TFloat32> features(Ops tf, Operand<TFloat32> image) {
    Operand<TFloat32> seen = networkHeight == 0 ? image
        : tf.image.resizeBilinear(image, tf.constant(new int[] {networkHeight, networkWidth}), ResizeBilinear.halfPixelCenters(true));
    Operand<TFloat32> in = scaled(tf, seen);
    List<Operand<TFloat32>> parts = new ArrayList<>();
    Map<String, Operand<TFloat32>> built = new HashMap<>();
    for (String layer : featureLayers) {
      if (layer.equals(PIXELS)) {
        long cellH = height / PIXEL_GRID;
        long cellW = width / PIXEL_GRID;
        Operand<TFloat32> grid = tf.nn.avgPool(image, List.of(1L, cellH, cellW, 1L), List.of(1L, cellH, cellW, 1L), "VALID");
        parts.add(tf.reshape(grid, tf.constant(new long[] {-1, PIXEL_GRID * PIXEL_GRID * 3})));
      } else {
        Operand<TFloat32> out = graph.build(tf, in, layerName(layer), built);
        int grid = grid(layer);
        if (grid == 1) {
          parts.add(tf.math.mean(out, tf.constant(new int[] {1, 2})));
        } else {
          // Area resize to grid x grid: each cell the exact mean over its part of the map, so where
          // on the poster a feature fires (title at the foot, a face at the top) survives pooling.
          Operand<TFloat32> cells = tf.image.resizeArea(out, tf.constant(new int[] {grid, grid}));
          parts.add(tf.reshape(cells, tf.constant(new long[] {-1, grid * grid * out.shape().size(3)})));
        }
      }
    }
    if (second != null) parts.add(second.features(tf, image));
    return parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(1));
  }

  /** The layer of a feature spec: {@code block_9_add@2} is layer {@code block_9_add}. */
  static String layerName(String spec) {
    int at = spec.indexOf('@');
    return at < 0 ? spec : spec.substring(0, at);
  }

  /**
   * The pooling grid of a feature spec: {@code layer} is pooled globally (1), {@code layer@N} over
   * an N x N grid of cells (N x N x channels features).
   */
  static int grid(String spec) {
    int at = spec.indexOf('@');
    if (at < 0) return 1;
    try {
      int n = Integer.parseInt(spec.substring(at + 1));
      if (n >= 1 && n <= 8) return n;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("feature layer '" + spec + "': the grid after @ must be 1 to 8, e.g. block_9_add@2");
  }

  /** nsfwjs' own 5-way softmax, for checking the port. */
  public Operand<TFloat32> nsfwClassifier(Ops tf, Operand<TFloat32> image) {
    return graph.build(tf, scaled(tf, image), CLASSIFIER_LAYER);
  }

  /** Runs the classifier or the features, frozen, over [n, height, width, 3] images; returns n x outputs values. */
  public float[] run(boolean classifier, float[] images, int n, int outputs) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, height, width, 3)));
      Operand<TFloat32> y = classifier ? nsfwClassifier(tf, x) : features(tf, x);
      try (Session s = new Session(g);
          TFloat32 in = TFloat32.tensorOf(Shape.of(n, height, width, 3), DataBuffers.of(images, true, false));
          Result r = s.runner().feed(x, in).fetch(y).run()) {
        float[] out = new float[n * outputs];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
        return out;
      }
    }
  }

  /** Where the weights came from, for model.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    String size = networkHeight == 0 ? height + "x" + width + " input, height x width"
        : height + "x" + width + " input resized to " + networkHeight + "x" + networkWidth + " in the graph (bilinear), height x width";
    m.put("name", kind.title + " (" + size + "), feature extractor: global average pools of " + featureLayers + " concatenated");
    m.put("weights_origin", "npm package nsfwjs 4.4.0 (MIT licence, https://github.com/infinitered/nsfwjs), " + dir.getFileName()
        + " (TensorFlow.js layers model, weights stored quantized as uint8 with min/scale): " + kind.origin);
    m.put("conversion", "read and dequantized by io.postergenres.train.pretrained.TfjsWeights, built as frozen TensorFlow "
        + "constants by KerasGraph (batch norm folded into the convolutions with its moving statistics) at training time; "
        + "nsfwjs' own 5-class head (dense_1..dense_3) is not used");
    m.put("backbone_weights_read_from", weights.format());
    m.put("backbone_parameters", backboneParameterCount());
    m.put("feature_layers", featureLayers);
    m.put("input_scaling", scaling == InputScaling.UNIT ? "[0,1] as fed (what nsfwjs feeds)" : "2x-1 inside the graph ([-1,1])");
    m.put("trainable", false);
    if (second != null) m.put("second_backbone", second.describe());
    return m;
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
