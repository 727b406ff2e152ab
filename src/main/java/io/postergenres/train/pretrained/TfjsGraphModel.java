package io.postergenres.train.pretrained;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.postergenres.train.GraphInliner;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a TensorFlow.js graph model ({@code tensorflowjs_converter --output_format tfjs_graph_model}:
 * a GraphDef written as JSON, its constants' values in the weight shards) as a GraphDef that
 * TensorFlow itself runs.
 *
 * <p>The converter fuses ops for TF.js's kernels: {@code _FusedConv2D} and {@code _FusedMatMul}
 * (which TensorFlow registers, as internal ops of its grappler) and {@code
 * FusedDepthwiseConv2dNative} (which it does not). Each is written back as the plain op followed by
 * what was fused into it ({@code BiasAdd}, then {@code Relu}, {@code Relu6}, {@code Elu}, {@code
 * LeakyRelu}, {@code Sigmoid} or {@code Tanh}); anything else fused is refused with its name.
 * Weights stored quantised (float16, uint8, uint16) are dequantised to float32.
 */
public final class TfjsGraphModel {
  private static final Map<String, String> UNFUSED = Map.of(
      "_FusedConv2D", "Conv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative", "_FusedMatMul", "MatMul");
  /** The attributes each plain op takes from its fused form. */
  private static final Map<String, Set<String>> KEPT_ATTRS = Map.of(
      "Conv2D", Set.of("T", "strides", "padding", "data_format", "dilations", "explicit_paddings", "use_cudnn_on_gpu"),
      "DepthwiseConv2dNative", Set.of("T", "strides", "padding", "data_format", "dilations", "explicit_paddings"),
      "MatMul", Set.of("T", "transpose_a", "transpose_b"));
  private static final Set<String> ACTIVATIONS = Set.of("Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh");

  private final Path source;
  private final GraphDef graph;
  private final String generatedBy;
  private final String convertedBy;
  private final long parameters;

  private TfjsGraphModel(Path source, GraphDef graph, String generatedBy, String convertedBy, long parameters) {
    this.source = source;
    this.graph = graph;
    this.generatedBy = generatedBy;
    this.convertedBy = convertedBy;
    this.parameters = parameters;
  }

  /** The model whose JSON is {@code modelJson}, its weight shards beside it. */
  public static TfjsGraphModel read(Path modelJson) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(modelJson.toFile());
    } catch (JacksonException e) {
      throw new IOException(modelJson + " is not JSON: " + e.getOriginalMessage(), e);
    } catch (FileNotFoundException e) {
      throw new IOException(modelJson + " is not a file (a TensorFlow.js graph model's JSON)", e);
    }
    JsonNode nodes = root.path("modelTopology").path("node");
    if (!"graph-model".equals(root.path("format").asText("graph-model")) || !nodes.isArray()) {
      throw new IOException(modelJson + ": not a TensorFlow.js graph model (needs format graph-model and modelTopology.node)");
    }
    TfjsWeights weights = TfjsWeights.read(modelJson.toAbsolutePath().getParent(), root, modelJson.getFileName().toString());
    GraphDef.Builder g = GraphDef.newBuilder();
    long parameters = 0;
    for (JsonNode n : nodes) {
      String name = n.path("name").asText();
      String op = n.path("op").asText();
      List<String> inputs = new ArrayList<>();
      n.path("input").forEach(i -> inputs.add(i.asText()));
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      var fields = n.path("attr").fields();
      while (fields.hasNext()) {
        var e = fields.next();
        if (!(op.equals("Const") && e.getKey().equals("value"))) attrs.put(e.getKey(), attr(e.getValue(), modelJson, name));
      }
      if (op.equals("Const")) {
        TfjsWeights.Tensor t = weights.weights().get(name);
        if (t == null) throw new IOException(modelJson + ": constant " + name + " has no values in the weights manifest");
        AttrValue dtype = attrs.get("dtype");
        DataType type = dtype == null ? DataType.DT_FLOAT : dtype.getType();
        attrs.put("value", AttrValue.newBuilder().setTensor(tensor(t, type, modelJson, name)).build());
        if (type == DataType.DT_FLOAT) parameters += t.size();
        g.addNode(node(name, op, inputs, attrs));
      } else if (UNFUSED.containsKey(op)) {
        unfuse(g, name, op, inputs, attrs, modelJson);
      } else {
        g.addNode(node(name, op, inputs, attrs));
      }
    }
    return new TfjsGraphModel(modelJson, g.build(), root.path("generatedBy").asText(""), root.path("convertedBy").asText(""), parameters);
  }

  /** The model as TensorFlow ops, every weight a constant. */
  public GraphDef graph() {
    return graph;
  }

  public Path source() {
    return source;
  }

  /** Who made the model ({@code generatedBy}: often its project's address). */
  public String generatedBy() {
    return generatedBy;
  }

  /** Who converted it to TF.js ({@code convertedBy}). */
  public String convertedBy() {
    return convertedBy;
  }

  /** Float scalars in its constants. */
  public long parameters() {
    return parameters;
  }

  /** The nodes {@code outputs} are computed from, without control edges: what inference needs of the graph. */
  public static GraphDef prune(GraphDef graph, Collection<String> outputs) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
    Set<String> keep = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(outputs);
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!keep.add(name)) continue;
      NodeDef n = byName.get(name);
      if (n == null) throw new IllegalArgumentException("the graph has no node " + name);
      for (String in : n.getInputList()) if (!in.startsWith("^")) todo.push(GraphInliner.nodeName(in));
    }
    GraphDef.Builder b = GraphDef.newBuilder();
    for (NodeDef n : graph.getNodeList()) {
      if (!keep.contains(n.getName())) continue;
      NodeDef.Builder nb = n.toBuilder().clearInput();
      for (String in : n.getInputList()) if (!in.startsWith("^")) nb.addInput(in);
      b.addNode(nb);
    }
    return b.build();
  }

  /** A fused op as its plain op, then a BiasAdd and an activation as fused; the last keeps the name. */
  private static void unfuse(GraphDef.Builder g, String name, String op, List<String> inputs, Map<String, AttrValue> attrs, Path where)
      throws IOException {
    String base = UNFUSED.get(op);
    List<String> fused = new ArrayList<>();
    AttrValue fusedOps = attrs.get("fused_ops");
    if (fusedOps != null) for (ByteString s : fusedOps.getList().getSList()) fused.add(s.toStringUtf8());
    List<String> data = inputs.stream().filter(s -> !s.startsWith("^")).toList();
    int args = attrs.containsKey("num_args") ? (int) attrs.get("num_args").getI() : data.size() - 2;
    if (data.size() != 2 + args) throw new IOException(where + ": node " + name + " (" + op + ") has " + data.size() + " inputs for " + args + " fused arguments");
    for (int k = 0; k < fused.size(); k++) {
      String f = fused.get(k);
      boolean ok = (k == 0 && f.equals("BiasAdd")) || (ACTIVATIONS.contains(f) && k == fused.size() - 1 && k <= 1);
      if (!ok) throw new IOException(where + ": node " + name + " (" + op + ") fuses " + fused + "; only BiasAdd then an activation "
          + ACTIVATIONS + " can be written back as TensorFlow ops");
    }
    if (fused.contains("BiasAdd") != (args == 1)) throw new IOException(where + ": node " + name + " (" + op + ") fuses " + fused + " with " + args + " arguments");
    Map<String, AttrValue> baseAttrs = new LinkedHashMap<>();
    attrs.forEach((k, v) -> {
      if (KEPT_ATTRS.get(base).contains(k)) baseAttrs.put(k, v);
    });
    AttrValue t = attrs.getOrDefault("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build());
    String current = fused.isEmpty() ? name : name + "/" + base;
    List<String> baseInputs = new ArrayList<>(data.subList(0, 2));
    inputs.stream().filter(s -> s.startsWith("^")).forEach(baseInputs::add);
    g.addNode(node(current, base, baseInputs, baseAttrs));
    for (int k = 0; k < fused.size(); k++) {
      String step = fused.get(k);
      String out = k == fused.size() - 1 ? name : name + "/" + step;
      Map<String, AttrValue> a = new LinkedHashMap<>();
      a.put("T", t);
      List<String> in = new ArrayList<>(List.of(current));
      if (step.equals("BiasAdd")) {
        in.add(data.get(2));
        if (attrs.containsKey("data_format")) a.put("data_format", attrs.get("data_format"));
      }
      if (step.equals("LeakyRelu") && attrs.containsKey("leakyrelu_alpha")) a.put("alpha", attrs.get("leakyrelu_alpha"));
      g.addNode(node(out, step, in, a));
      current = out;
    }
  }

  private static NodeDef node(String name, String op, List<String> inputs, Map<String, AttrValue> attrs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(inputs).putAllAttr(attrs).build();
  }

  private static TensorProto tensor(TfjsWeights.Tensor t, DataType type, Path where, String name) throws IOException {
    float[] v = t.values();
    ByteBuffer b;
    switch (type) {
      case DT_FLOAT -> {
        b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
      }
      case DT_INT32 -> {
        b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putInt(Math.round(x));
      }
      case DT_BOOL -> {
        b = ByteBuffer.allocate(v.length);
        for (float x : v) b.put((byte) (x != 0 ? 1 : 0));
      }
      default -> throw new IOException(where + ": constant " + name + " is " + type + "; only float32, int32 and bool constants are read");
    }
    b.flip();
    return TensorProto.newBuilder().setDtype(type).setTensorShape(shape(t.shape())).setTensorContent(ByteString.copyFrom(b)).build();
  }

  static TensorShapeProto shape(long[] dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    return b.build();
  }

  private static TensorShapeProto shape(JsonNode j) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    if (j.path("unknownRank").asBoolean(false)) return b.setUnknownRank(true).build();
    for (JsonNode d : j.path("dim")) b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d.path("size").asLong(0)));
    return b.build();
  }

  /** An attribute in the protobuf JSON mapping the converter writes (64-bit integers as strings, bytes as base64). */
  private static AttrValue attr(JsonNode j, Path where, String node) throws IOException {
    AttrValue.Builder b = AttrValue.newBuilder();
    try {
      if (j.has("type")) return b.setType(DataType.valueOf(j.get("type").asText())).build();
      if (j.has("shape")) return b.setShape(shape(j.get("shape"))).build();
      if (j.has("i")) return b.setI(Long.parseLong(j.get("i").asText())).build();
      if (j.has("f")) return b.setF((float) j.get("f").asDouble()).build();
      if (j.has("b")) return b.setB(j.get("b").asBoolean()).build();
      if (j.has("s")) return b.setS(ByteString.copyFrom(Base64.getDecoder().decode(j.get("s").asText()))).build();
      if (j.has("func")) throw new IOException(where + ": node " + node + " calls a function; graphs with functions are not read");
      if (j.has("list")) {
        AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
        JsonNode lj = j.get("list");
        for (JsonNode s : lj.path("s")) l.addS(ByteString.copyFrom(Base64.getDecoder().decode(s.asText())));
        for (JsonNode s : lj.path("i")) l.addI(Long.parseLong(s.asText()));
        for (JsonNode s : lj.path("f")) l.addF((float) s.asDouble());
        for (JsonNode s : lj.path("b")) l.addB(s.asBoolean());
        for (JsonNode s : lj.path("type")) l.addType(DataType.valueOf(s.asText()));
        for (JsonNode s : lj.path("shape")) l.addShape(shape(s));
        return b.setList(l).build();
      }
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": node " + node + " has an attribute TensorFlow cannot read: " + j, e);
    }
    return b.build();
  }
}
