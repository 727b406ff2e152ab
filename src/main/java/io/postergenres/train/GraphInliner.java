package io.postergenres.train;

import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.ExecutionEnvironment;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.OperationBuilder;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

/**
 * Copies one of our exported models (a SavedModel whose weights are all constants, as every model
 * this project trains is) into another graph, with its image input replaced by an operand of that
 * graph: how an ensemble becomes one SavedModel that the job loads like any other. Only the ops
 * that the model's scores depend on are copied, under a name prefix, attributes as they are.
 */
public final class GraphInliner {
  private static final Set<String> STATEFUL = Set.of("VarHandleOp", "VariableV2", "Variable", "ReadVariableOp",
      "AssignVariableOp", "RestoreV2", "SaveV2");

  /** Ops whose first argument is a list of N tensors (the ones our exports use). */
  private static final Set<String> LIST_FIRST = Set.of("ConcatV2", "Pack", "AddN");

  private GraphInliner() {}

  /** The model in {@code dir} (its model.json read as {@code spec}) applied to {@code image}: its scores [N, G]. */
  public static Operand<TFloat32> scores(Ops tf, Path dir, ModelSpec spec, Operand<TFloat32> image, String prefix) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    MetaGraphDef meta = null;
    for (MetaGraphDef m : SavedModel.parseFrom(Files.readAllBytes(pb)).getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(ModelContract.TAG)) meta = m;
    }
    if (meta == null) throw new ModelException(pb + ": no meta graph tagged '" + ModelContract.TAG + "'");
    ModelContract.Endpoints ends = ModelContract.check(meta, spec, dir.toString());
    String outputNode = nodeName(ends.outputTensor());
    List<Output<?>> out = inline(tf, meta.getGraphDef(), nodeName(ends.inputTensor()), image, List.of(outputNode), prefix, pb.toString());
    @SuppressWarnings("unchecked")
    Output<TFloat32> scores = (Output<TFloat32>) graphOutput(out.get(0), outputIndex(ends.outputTensor()));
    return scores;
  }

  /**
   * Copies into {@code tf}'s graph, under {@code prefix}, the ops of {@code def} that {@code outputs}
   * (node names) are computed from, with node {@code inputNode} replaced by {@code input}; returns
   * the first output of each of {@code outputs}' ops. {@code where} names the graph in errors.
   */
  public static List<Output<?>> inline(Ops tf, GraphDef def, String inputNode, Operand<?> input, List<String> outputs, String prefix,
      String where) {
    Map<String, NodeDef> nodes = new HashMap<>();
    for (NodeDef n : def.getNodeList()) nodes.put(n.getName(), n);
    ExecutionEnvironment env = tf.scope().env();
    if (!(env instanceof Graph graph)) throw new IllegalArgumentException("inlining needs a graph, not " + env);

    Map<String, GraphOperation> built = new HashMap<>();
    // Depth-first, iteratively: a node is built once all its inputs are.
    Deque<String> stack = new ArrayDeque<>();
    for (String o : outputs) stack.push(o);
    while (!stack.isEmpty()) {
      String name = stack.peek();
      if (built.containsKey(name) || name.equals(inputNode)) {
        stack.pop();
        continue;
      }
      NodeDef n = nodes.get(name);
      if (n == null) throw new ModelException(where + ": node " + name + " is referenced but not defined");
      if (STATEFUL.contains(n.getOp())) {
        throw new ModelException(where + ": node " + name + " (" + n.getOp() + ") holds variables; only frozen models (all weights constants) can be inlined");
      }
      boolean ready = true;
      for (String in : n.getInputList()) {
        if (in.startsWith("^")) continue; // control edges: nothing in a frozen inference graph needs them
        String src = nodeName(in);
        if (!built.containsKey(src) && !src.equals(inputNode)) {
          stack.push(src);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop();
      OperationBuilder b = graph.opBuilder(n.getOp(), prefix + "/" + name, tf.scope());
      List<Output<?>> ins = new java.util.ArrayList<>();
      for (String in : n.getInputList()) {
        if (in.startsWith("^")) continue;
        String src = nodeName(in);
        ins.add(src.equals(inputNode) ? input.asOutput() : built.get(src).output(outputIndex(in)));
      }
      // A NodeDef lists its inputs flat; ops whose first argument is a list take those as one list.
      int listed = LIST_FIRST.contains(n.getOp()) ? (int) n.getAttrOrThrow("N").getI() : 0;
      if (listed > 0) b.addInputList(ins.subList(0, listed).toArray(new Output<?>[0]));
      for (Output<?> o : ins.subList(listed, ins.size())) b.addInput(o);
      for (Map.Entry<String, AttrValue> a : n.getAttrMap().entrySet()) {
        if (!a.getKey().startsWith("_")) b.setAttr(a.getKey(), a.getValue());
      }
      built.put(name, (GraphOperation) b.build());
    }
    List<Output<?>> result = new java.util.ArrayList<>();
    for (String o : outputs) result.add(o.equals(inputNode) ? input.asOutput() : built.get(o).output(0));
    return result;
  }

  private static Output<?> graphOutput(Output<?> first, int index) {
    return index == 0 ? first : ((GraphOperation) first.op()).output(index);
  }

  /** The number of ops {@link #scores} copies is what it needs; listed for tests. */
  static List<String> opTypes(Graph graph, String prefix) {
    List<String> types = new java.util.ArrayList<>();
    graph.operations().forEachRemaining(op -> {
      if (op.name().startsWith(prefix + "/")) types.add(op.type());
    });
    return types;
  }

  /** The node of a tensor name or control input: {@code ^n}, {@code n:1} and {@code n} are node {@code n}. */
  public static String nodeName(String tensor) {
    String t = tensor.startsWith("^") ? tensor.substring(1) : tensor;
    int colon = t.indexOf(':');
    return colon < 0 ? t : t.substring(0, colon);
  }

  private static int outputIndex(String tensor) {
    int colon = tensor.indexOf(':');
    return colon < 0 ? 0 : Integer.parseInt(tensor.substring(colon + 1));
  }
}
