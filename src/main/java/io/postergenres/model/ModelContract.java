package io.postergenres.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Checks a SavedModel against the project's model contract: tag {@code serve}, signature {@code
 * serving_default}, one float32 input [N, H, W, 3] and one float32 output [N, G]. Works on the
 * parsed {@code saved_model.pb}, so the driver can check a model without loading its weights.
 */
public final class ModelContract {
  public static final String TAG = "serve";
  public static final String SIGNATURE = "serving_default";

  private ModelContract() {}

  /** The input and output tensor names of a conforming signature. */
  public record Endpoints(String inputKey, String inputTensor, String outputKey, String outputTensor) {}

  /** Parses {@code saved_model.pb} bytes and checks them against {@code spec}. */
  public static Endpoints check(byte[] savedModelPb, ModelSpec spec, String where) {
    SavedModel savedModel;
    try {
      savedModel = SavedModel.parseFrom(savedModelPb);
    } catch (Exception e) {
      throw new ModelException(where + ": saved_model.pb is not a TensorFlow SavedModel (" + e.getMessage() + ")", e);
    }
    for (MetaGraphDef graph : savedModel.getMetaGraphsList()) {
      if (graph.getMetaInfoDef().getTagsList().contains(TAG)) {
        return check(graph, spec, where);
      }
    }
    throw new ModelException(where + ": the SavedModel has no meta graph tagged '" + TAG + "'; export it with tag 'serve'");
  }

  /**
   * The TensorFlow ops an image classifier needs: tensors, arithmetic, activations, convolutions,
   * pooling, normalisation, resizing, reductions. A graph with any other op (file, network,
   * process, queue, string or control-flow ops: {@code WriteFile}, {@code ReadFile}, {@code
   * SaveV2}, {@code PyFunc}, ...) is refused before TensorFlow loads it: {@code --model} is trusted
   * input, and this keeps a model directory from doing more than scoring images.
   */
  public static final Set<String> ALLOWED_OPS = Set.of(
      // graph plumbing and tensors
      "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "IdentityN", "NoOp", "StopGradient", "Cast", "Bitcast",
      "Reshape", "Squeeze", "ExpandDims", "Shape", "ShapeN", "Size", "Rank", "Pack", "Unpack", "Concat", "ConcatV2",
      "Split", "SplitV", "Slice", "StridedSlice", "Transpose", "Pad", "PadV2", "MirrorPad", "Tile", "Fill", "Range",
      "ZerosLike", "OnesLike", "Gather", "GatherV2", "GatherNd", "BroadcastTo", "BroadcastArgs", "Reverse", "ReverseV2",
      "Select", "SelectV2", "Where", "OneHot", "TopKV2", "ArgMax", "ArgMin", "Einsum", "Cumsum",
      // arithmetic
      "Add", "AddV2", "AddN", "Sub", "Mul", "Div", "RealDiv", "DivNoNan", "FloorDiv", "FloorMod", "Mod", "Maximum",
      "Minimum", "Neg", "Abs", "Sign", "Square", "SquaredDifference", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Expm1",
      "Log", "Log1p", "Pow", "Floor", "Ceil", "Round", "Rint", "Erf", "ClipByValue", "MatMul", "BatchMatMul",
      "BatchMatMulV2", "BatchMatMulV3", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual",
      "LogicalAnd", "LogicalOr", "LogicalNot", "IsNan", "IsFinite",
      // activations
      "Sigmoid", "Tanh", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Softsign", "Softmax", "LogSoftmax",
      // neural network layers
      "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "BiasAdd", "FusedBatchNorm",
      "FusedBatchNormV2", "FusedBatchNormV3", "LRN", "MaxPool", "MaxPoolV2", "AvgPool", "MaxPool3D", "AvgPool3D",
      "ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea", "Mean", "Sum", "Max", "Min", "Prod",
      "All", "Any", "L2Loss",
      // frozen graphs read once at load: variables from the model's own directory
      "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "VariableV2", "Assign", "RestoreV2");

  /** Checks a loaded model's meta graph against {@code spec}. */
  public static Endpoints check(MetaGraphDef graph, ModelSpec spec, String where) {
    checkOps(graph, where);
    Map<String, SignatureDef> signatures = graph.getSignatureDefMap();
    SignatureDef sig = signatures.get(SIGNATURE);
    if (sig == null) {
      throw new ModelException(where + ": no signature '" + SIGNATURE + "' (found " + signatures.keySet() + ")");
    }
    List<String> p = new ArrayList<>();
    if (sig.getInputsCount() != 1) p.add("it must have exactly one input, found " + sig.getInputsMap().keySet());
    if (sig.getOutputsCount() != 1) p.add("it must have exactly one output, found " + sig.getOutputsMap().keySet());
    if (!p.isEmpty()) throw new ModelException(where + ": signature '" + SIGNATURE + "' breaks the contract: " + String.join("; ", p));

    Map.Entry<String, TensorInfo> in = sig.getInputsMap().entrySet().iterator().next();
    Map.Entry<String, TensorInfo> out = sig.getOutputsMap().entrySet().iterator().next();
    checkTensor(p, "input", in.getValue(), new long[] {-1, spec.inputHeight(), spec.inputWidth(), 3});
    checkTensor(p, "output", out.getValue(), new long[] {-1, spec.genres().size()});
    if (!p.isEmpty()) throw new ModelException(where + ": signature '" + SIGNATURE + "' breaks the contract: " + String.join("; ", p));
    return new Endpoints(in.getKey(), in.getValue().getName(), out.getKey(), out.getValue().getName());
  }

  /** Refuses a graph (or a function of its library) holding an op outside {@link #ALLOWED_OPS}. */
  static void checkOps(MetaGraphDef graph, String where) {
    Map<String, String> refused = new TreeMap<>();
    for (NodeDef node : graph.getGraphDef().getNodeList()) {
      if (!ALLOWED_OPS.contains(node.getOp())) refused.putIfAbsent(node.getOp(), node.getName());
    }
    for (FunctionDef f : graph.getGraphDef().getLibrary().getFunctionList()) {
      for (NodeDef node : f.getNodeDefList()) {
        if (!ALLOWED_OPS.contains(node.getOp())) refused.putIfAbsent(node.getOp(), f.getSignature().getName() + "/" + node.getName());
      }
    }
    if (!refused.isEmpty()) {
      StringBuilder b = new StringBuilder();
      refused.forEach((op, node) -> b.append(b.length() == 0 ? "" : ", ").append(op).append(" (node '").append(node).append("')"));
      throw new ModelException(where + ": the graph uses TensorFlow ops an image classifier does not need: " + b
          + "; only tensor, arithmetic and neural-network ops are allowed (a model must not read or write files, "
          + "start processes or reach the network)");
    }
  }

  private static void checkTensor(List<String> p, String role, TensorInfo info, long[] expected) {
    if (info.getDtype() != DataType.DT_FLOAT) {
      p.add(role + " must be float32, is " + info.getDtype());
    }
    if (!info.hasTensorShape() || info.getTensorShape().getUnknownRank()) {
      return; // unknown rank: checked at the first batch
    }
    TensorShapeProto shape = info.getTensorShape();
    if (shape.getDimCount() != expected.length) {
      p.add(role + " must have rank " + expected.length + " " + describe(expected) + ", has rank " + shape.getDimCount());
      return;
    }
    for (int i = 1; i < expected.length; i++) {
      long d = shape.getDim(i).getSize();
      if (d != -1 && d != expected[i]) {
        p.add(role + " dimension " + i + " is " + d + " but model.json implies " + expected[i] + " " + describe(expected));
      }
    }
  }

  private static String describe(long[] dims) {
    StringBuilder b = new StringBuilder("[N");
    for (int i = 1; i < dims.length; i++) b.append(", ").append(dims[i]);
    return b.append(']').toString();
  }
}
