package io.postergenres.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

  /** Checks a loaded model's meta graph against {@code spec}. */
  public static Endpoints check(MetaGraphDef graph, ModelSpec spec, String where) {
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
