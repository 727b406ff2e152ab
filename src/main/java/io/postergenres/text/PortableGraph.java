package io.postergenres.text;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Rewrites a frozen graph into ops that every CPU's kernels run. TensorFlow's own depthwise
 * convolution kernel, the one a CPU without AVX-512 gets, refuses strides that differ between rows
 * and columns ("Current implementation only supports equal length strides"), which PaddleOCR's
 * recogniser has (2 down, 1 across); the oneDNN kernel of an AVX-512 CPU runs them. The ONNX
 * converter ({@code train.pretrained.OnnxGraph}) rewrites each one, and the reader rewrites stages
 * stored before it did on loading: the same convolution at stride 1, then every stride-th row and
 * column kept, under the node's own name. The values are the same; that layer does the work of
 * stride 1.
 */
public final class PortableGraph {
  static final String DEPTHWISE = "DepthwiseConv2dNative";

  private PortableGraph() {}

  /** {@code graph} with every depthwise convolution of unequal strides rewritten; the graph itself when it has none. */
  public static GraphDef withEqualStrides(GraphDef graph) {
    List<NodeDef> nodes = new ArrayList<>(graph.getNodeCount());
    boolean changed = false;
    for (NodeDef node : graph.getNodeList()) {
      List<Long> strides = node.getOp().equals(DEPTHWISE) && node.containsAttr("strides")
          ? node.getAttrOrThrow("strides").getList().getIList() : List.of();
      int rows = node.containsAttr("data_format") && node.getAttrOrThrow("data_format").getS().toStringUtf8().equals("NCHW") ? 2 : 1;
      if (strides.size() != 4 || strides.get(rows).equals(strides.get(rows + 1))) {
        nodes.add(node);
        continue;
      }
      changed = true;
      String name = node.getName();
      String conv = name + "/stride_1";
      AttrValue ones = AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addAllI(List.of(1L, 1L, 1L, 1L))).build();
      nodes.add(node.toBuilder().setName(conv).putAttr("strides", ones).build());
      nodes.add(int32Const(name + "/begin", new long[] {0, 0, 0, 0}, node.getDevice()));
      nodes.add(int32Const(name + "/end", new long[] {0, 0, 0, 0}, node.getDevice()));
      nodes.add(int32Const(name + "/steps", strides.stream().mapToLong(Long::longValue).toArray(), node.getDevice()));
      nodes.add(NodeDef.newBuilder().setName(name).setOp("StridedSlice").setDevice(node.getDevice())
          .addInput(conv).addInput(name + "/begin").addInput(name + "/end").addInput(name + "/steps")
          .putAttr("T", node.getAttrOrThrow("T"))
          .putAttr("Index", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
          .putAttr("begin_mask", AttrValue.newBuilder().setI(15).build())
          .putAttr("end_mask", AttrValue.newBuilder().setI(15).build())
          .putAttr("ellipsis_mask", AttrValue.newBuilder().setI(0).build())
          .putAttr("new_axis_mask", AttrValue.newBuilder().setI(0).build())
          .putAttr("shrink_axis_mask", AttrValue.newBuilder().setI(0).build())
          .build());
    }
    return changed ? graph.toBuilder().clearNode().addAllNode(nodes).build() : graph;
  }

  private static NodeDef int32Const(String name, long[] values, String device) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)));
    for (long v : values) t.addIntVal((int) v);
    return NodeDef.newBuilder().setName(name).setOp("Const").setDevice(device)
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build())
        .build();
  }
}
