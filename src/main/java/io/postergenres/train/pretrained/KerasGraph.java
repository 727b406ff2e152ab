package io.postergenres.train.pretrained;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Builds the inference graph of a Keras functional model read by {@link TfjsWeights} in TensorFlow
 * Java ops, with every weight a constant. Batch normalization uses its moving statistics and is
 * folded into the convolution before it when that convolution feeds only the batch norm (as in
 * MobileNetV2), otherwise applied as a per-channel scale and shift.
 *
 * <p>Layers: InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU (with
 * max_value, so ReLU6), Activation (relu, relu6, linear, softmax, sigmoid), Add, Concatenate
 * (channel axis), AveragePooling2D, MaxPooling2D, GlobalAveragePooling2D, Flatten, Dense and
 * Dropout (inference: identity). Channels last only: enough for MobileNetV2 and InceptionV3.
 */
public final class KerasGraph {
  private final Map<String, JsonNode> layers = new LinkedHashMap<>();
  private final Map<String, List<String>> inputsOf = new HashMap<>();
  private final Map<String, Integer> consumers = new HashMap<>();
  private final TfjsWeights weights;
  private final String inputLayer;

  public KerasGraph(TfjsWeights weights) {
    this.weights = weights;
    String input = null;
    for (JsonNode layer : weights.layers()) {
      String name = layer.path("name").asText(layer.path("config").path("name").asText());
      layers.put(name, layer);
      List<String> in = new ArrayList<>();
      JsonNode nodes = layer.path("inbound_nodes");
      if (nodes.size() > 1) throw new IllegalArgumentException("layer " + name + " is used more than once; shared layers are not supported");
      if (nodes.size() == 1) {
        for (JsonNode ref : nodes.get(0)) {
          in.add(ref.get(0).asText());
          consumers.merge(ref.get(0).asText(), 1, Integer::sum);
        }
      }
      inputsOf.put(name, in);
      if (layer.path("class_name").asText().equals("InputLayer")) {
        if (input != null) throw new IllegalArgumentException("models with more than one input are not supported");
        input = name;
      }
    }
    if (input == null) throw new IllegalArgumentException("the model has no InputLayer");
    this.inputLayer = input;
  }

  /** Height and width of the model's input (from the InputLayer's batch_input_shape), -1 if unknown. */
  public int[] inputSize() {
    JsonNode s = layers.get(inputLayer).path("config").path("batch_input_shape");
    return new int[] {s.path(1).asInt(-1), s.path(2).asInt(-1)};
  }

  /** Layer names in topological (file) order. */
  public List<String> layerNames() {
    return new ArrayList<>(layers.keySet());
  }

  /** The output of layer {@code output} for {@code image} fed to the input layer. */
  public Operand<TFloat32> build(Ops tf, Operand<TFloat32> image, String output) {
    if (!layers.containsKey(output)) throw new IllegalArgumentException("the model has no layer " + output);
    return build(tf, image, output, new HashMap<>());
  }

  /**
   * As {@link #build(Ops, Operand, String)}, sharing the layers already built in {@code done} (one
   * map per image operand), so several outputs of one network are built once.
   */
  public Operand<TFloat32> build(Ops tf, Operand<TFloat32> image, String output, Map<String, Operand<TFloat32>> done) {
    if (!layers.containsKey(output)) throw new IllegalArgumentException("the model has no layer " + output);
    done.putIfAbsent(inputLayer, image);
    return node(tf, output, done);
  }

  private Operand<TFloat32> node(Ops tf, String name, Map<String, Operand<TFloat32>> done) {
    Operand<TFloat32> have = done.get(name);
    if (have != null) return have;
    JsonNode layer = layers.get(name);
    JsonNode c = layer.path("config");
    String type = layer.path("class_name").asText();
    List<String> in = inputsOf.get(name);
    if (in.isEmpty()) throw new IllegalArgumentException("layer " + name + " has no input");
    Operand<TFloat32> result;
    switch (type) {
      case "BatchNormalization" -> {
        String prev = in.get(0);
        String prevType = layers.get(prev).path("class_name").asText();
        float[][] bn = batchNorm(name, c);
        if ((prevType.equals("Conv2D") || prevType.equals("DepthwiseConv2D")) && consumers.get(prev) == 1
            && !done.containsKey(prev) && layers.get(prev).path("config").path("activation").asText("linear").equals("linear")) {
          result = conv(tf, prev, node(tf, inputsOf.get(prev).get(0), done), bn);
        } else {
          Operand<TFloat32> x = node(tf, prev, done);
          result = tf.math.add(tf.math.mul(x, tf.constant(bn[0])), tf.constant(bn[1]));
        }
      }
      case "Conv2D", "DepthwiseConv2D" -> result = conv(tf, name, node(tf, in.get(0), done), null);
      case "ZeroPadding2D" -> {
        JsonNode p = c.path("padding");
        int[][] pads = new int[4][2];
        if (p.isInt()) {
          pads[1] = new int[] {p.asInt(), p.asInt()};
          pads[2] = new int[] {p.asInt(), p.asInt()};
        } else if (p.get(0).isInt()) {
          pads[1] = new int[] {p.get(0).asInt(), p.get(0).asInt()};
          pads[2] = new int[] {p.get(1).asInt(), p.get(1).asInt()};
        } else {
          pads[1] = new int[] {p.get(0).get(0).asInt(), p.get(0).get(1).asInt()};
          pads[2] = new int[] {p.get(1).get(0).asInt(), p.get(1).get(1).asInt()};
        }
        result = tf.pad(node(tf, in.get(0), done), tf.constant(pads), tf.constant(0f));
      }
      case "ReLU" -> {
        checkChannelsLast(name, c);
        if (c.path("negative_slope").asDouble(0) != 0 || c.path("threshold").asDouble(0) != 0) {
          throw new IllegalArgumentException("ReLU " + name + ": negative_slope and threshold must be 0");
        }
        Operand<TFloat32> x = node(tf, in.get(0), done);
        JsonNode max = c.path("max_value");
        if (max.isNumber() && max.asDouble() == 6) result = tf.nn.relu6(x);
        else if (max.isNumber()) result = tf.math.minimum(tf.nn.relu(x), tf.constant((float) max.asDouble()));
        else result = tf.nn.relu(x);
      }
      case "Activation" -> result = activation(tf, name, c.path("activation").asText(), node(tf, in.get(0), done));
      case "Add" -> {
        Operand<TFloat32> x = node(tf, in.get(0), done);
        for (int i = 1; i < in.size(); i++) x = tf.math.add(x, node(tf, in.get(i), done));
        result = x;
      }
      case "Concatenate" -> {
        int axis = c.path("axis").asInt(-1);
        if (axis != -1 && axis != 3) throw new IllegalArgumentException("Concatenate " + name + ": only the channel axis is supported");
        List<Operand<TFloat32>> parts = new ArrayList<>();
        for (String i : in) parts.add(node(tf, i, done));
        result = tf.concat(parts, tf.constant(3));
      }
      case "AveragePooling2D", "MaxPooling2D" -> {
        checkChannelsLast(name, c);
        JsonNode ps = c.path("pool_size");
        JsonNode st = c.path("strides").isArray() ? c.path("strides") : ps;
        List<Long> window = List.of(1L, ps.get(0).asLong(), ps.get(1).asLong(), 1L);
        List<Long> strides = List.of(1L, st.get(0).asLong(), st.get(1).asLong(), 1L);
        String padding = c.path("padding").asText("valid").toUpperCase(Locale.ROOT);
        Operand<TFloat32> x = node(tf, in.get(0), done);
        result = type.equals("MaxPooling2D") ? tf.nn.maxPool(x, tf.constant(new int[] {1, ps.get(0).asInt(), ps.get(1).asInt(), 1}),
            tf.constant(new int[] {1, st.get(0).asInt(), st.get(1).asInt(), 1}), padding) : tf.nn.avgPool(x, window, strides, padding);
      }
      case "GlobalAveragePooling2D" -> result = tf.math.mean(node(tf, in.get(0), done), tf.constant(new int[] {1, 2}));
      case "Flatten" -> result = tf.reshape(node(tf, in.get(0), done), tf.constant(new long[] {-1, flatSize(name, done, in.get(0))}));
      case "Dropout" -> result = node(tf, in.get(0), done);
      case "Dense" -> {
        Operand<TFloat32> x = node(tf, in.get(0), done);
        TfjsWeights.Tensor k = weights.weight(name + "/kernel");
        Operand<TFloat32> y = tf.linalg.matMul(x, constant(tf, k));
        if (c.path("use_bias").asBoolean(true)) y = tf.nn.biasAdd(y, constant(tf, weights.weight(name + "/bias")));
        result = activation(tf, name, c.path("activation").asText("linear"), y);
      }
      default -> throw new IllegalArgumentException("layer " + name + ": unsupported Keras layer type " + type);
    }
    done.put(name, result);
    return result;
  }

  private long flatSize(String name, Map<String, Operand<TFloat32>> done, String in) {
    Shape s = done.get(in).shape();
    long n = 1;
    for (int i = 1; i < s.numDimensions(); i++) {
      if (s.size(i) < 0) throw new IllegalArgumentException("Flatten " + name + " needs a static input shape, got " + s);
      n *= s.size(i);
    }
    return n;
  }

  private static void checkChannelsLast(String name, JsonNode c) {
    String f = c.path("data_format").asText("channels_last");
    if (!f.equals("channels_last")) throw new IllegalArgumentException("layer " + name + ": only channels_last is supported");
  }

  private static Operand<TFloat32> activation(Ops tf, String name, String a, Operand<TFloat32> x) {
    return switch (a) {
      case "linear", "" -> x;
      case "relu" -> tf.nn.relu(x);
      case "relu6" -> tf.nn.relu6(x);
      case "softmax" -> tf.nn.softmax(x);
      case "sigmoid" -> tf.math.sigmoid(x);
      default -> throw new IllegalArgumentException("layer " + name + ": unsupported activation " + a);
    };
  }

  /** Per-channel {scale, shift} of an inference batch norm: gamma / sqrt(var + eps), beta - mean * scale. */
  private float[][] batchNorm(String name, JsonNode c) {
    int axis = c.path("axis").isArray() ? c.path("axis").get(0).asInt() : c.path("axis").asInt(-1);
    if (axis != -1 && axis != 3) throw new IllegalArgumentException("BatchNormalization " + name + ": only the channel axis is supported");
    float eps = (float) c.path("epsilon").asDouble(1e-3);
    float[] mean = weights.weight(name + "/moving_mean").values();
    float[] var = weights.weight(name + "/moving_variance").values();
    int ch = mean.length;
    float[] gamma = c.path("scale").asBoolean(true) ? weights.weight(name + "/gamma").values() : null;
    float[] beta = c.path("center").asBoolean(true) ? weights.weight(name + "/beta").values() : null;
    float[] scale = new float[ch];
    float[] shift = new float[ch];
    for (int i = 0; i < ch; i++) {
      scale[i] = (float) ((gamma == null ? 1 : gamma[i]) / Math.sqrt(var[i] + eps));
      shift[i] = (beta == null ? 0 : beta[i]) - mean[i] * scale[i];
    }
    return new float[][] {scale, shift};
  }

  /** A Conv2D or DepthwiseConv2D layer, with a following batch norm {scale, shift} folded in when given. */
  private Operand<TFloat32> conv(Ops tf, String name, Operand<TFloat32> x, float[][] bn) {
    JsonNode layer = layers.get(name);
    JsonNode c = layer.path("config");
    checkChannelsLast(name, c);
    boolean depthwise = layer.path("class_name").asText().equals("DepthwiseConv2D");
    JsonNode dil = c.path("dilation_rate");
    if (dil.isArray() && (dil.get(0).asInt() != 1 || dil.get(1).asInt() != 1)) {
      throw new IllegalArgumentException("layer " + name + ": dilation is not supported");
    }
    TfjsWeights.Tensor k = weights.weight(name + (depthwise ? "/depthwise_kernel" : "/kernel"));
    long[] shape = k.shape();
    float[] kernel = k.values().clone();
    int outChannels = (int) (depthwise ? shape[2] * shape[3] : shape[3]);
    float[] bias = new float[outChannels];
    boolean hasBias = c.path("use_bias").asBoolean(true);
    if (hasBias) bias = weights.weight(name + "/bias").values().clone();
    if (bn != null) {
      if (bn[0].length != outChannels) throw new IllegalArgumentException("batch norm after " + name + " has " + bn[0].length + " channels, not " + outChannels);
      // Both layouts ([kh,kw,in,out] and [kh,kw,in,mult]) put the output channel index last in row-major order.
      for (int i = 0; i < kernel.length; i++) kernel[i] *= bn[0][i % outChannels];
      for (int o = 0; o < outChannels; o++) bias[o] = bias[o] * bn[0][o] + bn[1][o];
    }
    JsonNode st = c.path("strides");
    List<Long> strides = List.of(1L, st.get(0).asLong(), st.get(1).asLong(), 1L);
    String padding = c.path("padding").asText("valid").toUpperCase(Locale.ROOT);
    Operand<TFloat32> w = tf.constant(Shape.of(shape), DataBuffers.of(kernel, true, false));
    Operand<TFloat32> y = depthwise ? tf.nn.depthwiseConv2dNative(x, w, strides, padding) : tf.nn.conv2d(x, w, strides, padding);
    if (hasBias || bn != null) y = tf.nn.biasAdd(y, tf.constant(bias));
    return activation(tf, name, c.path("activation").asText("linear"), y);
  }

  private static Operand<TFloat32> constant(Ops tf, TfjsWeights.Tensor t) {
    return tf.constant(Shape.of(t.shape()), DataBuffers.of(t.values(), true, false));
  }
}
