package io.postergenres.train.pretrained;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model file read as what building it as a TensorFlow graph needs: the nodes in order,
 * their attributes, and constant tensors. Reads the protobuf wire format directly (the few fields
 * of ModelProto, GraphProto, NodeProto, AttributeProto and TensorProto used here) with
 * protobuf-java's {@link CodedInputStream}, so no ONNX library or generated classes are needed.
 */
final class OnnxModel {
  static final int FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10, DOUBLE = 11;

  /** A constant tensor: its shape and values (floats for float types, longs for integer types). */
  record Tensor(String name, long[] dims, int dataType, float[] floats, long[] longs) {
    boolean isFloat() {
      return floats != null;
    }
  }

  /** An attribute: whichever of its fields the node uses. */
  record Attr(String name, float f, long i, byte[] s, Tensor t, float[] floats, long[] ints) {
    String string() {
      return s == null ? null : new String(s, StandardCharsets.UTF_8);
    }
  }

  record Node(String opType, List<String> inputs, List<String> outputs, Map<String, Attr> attrs) {
    long i(String name, long dflt) {
      Attr a = attrs.get(name);
      return a == null ? dflt : a.i();
    }

    float f(String name, float dflt) {
      Attr a = attrs.get(name);
      return a == null ? dflt : a.f();
    }

    long[] ints(String name, long[] dflt) {
      Attr a = attrs.get(name);
      return a == null || a.ints() == null ? dflt : a.ints();
    }

    String s(String name, String dflt) {
      Attr a = attrs.get(name);
      return a == null || a.s() == null ? dflt : a.string();
    }

    /** The i-th input's name, or null where absent (ONNX marks an omitted optional input with ""). */
    String input(int i) {
      return i < inputs.size() && !inputs.get(i).isEmpty() ? inputs.get(i) : null;
    }
  }

  final List<Node> nodes = new ArrayList<>();
  final Map<String, Tensor> initializers = new LinkedHashMap<>();
  final List<String> inputs = new ArrayList<>();
  final List<String> outputs = new ArrayList<>();
  long opset;

  static OnnxModel parse(byte[] bytes) {
    try {
      OnnxModel m = new OnnxModel();
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setRecursionLimit(256);
      in.setSizeLimit(Integer.MAX_VALUE);
      for (int tag; (tag = in.readTag()) != 0; ) {
        switch (WireFormat.getTagFieldNumber(tag)) {
          case 7 -> m.readGraph(sub(in));
          case 8 -> {
            CodedInputStream o = sub(in);
            String domain = "";
            long version = 0;
            for (int t; (t = o.readTag()) != 0; ) {
              switch (WireFormat.getTagFieldNumber(t)) {
                case 1 -> domain = o.readString();
                case 2 -> version = o.readInt64();
                default -> o.skipField(t);
              }
            }
            if (domain.isEmpty() || domain.equals("ai.onnx")) m.opset = version;
          }
          default -> in.skipField(tag);
        }
      }
      return m;
    } catch (IOException e) {
      throw new IllegalArgumentException("not a readable ONNX model: " + e.getMessage(), e);
    }
  }

  /** The length-delimited message at the stream's position, as a stream of its own. */
  private static CodedInputStream sub(CodedInputStream in) throws IOException {
    return in.readBytes().newCodedInput();
  }

  /** A repeated field's values, packed (one length-delimited run) or one per tag. */
  private static void repeated(CodedInputStream in, int tag, java.util.function.Consumer<CodedInputStream> one) throws IOException {
    if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
      CodedInputStream packed = sub(in);
      while (!packed.isAtEnd()) one.accept(packed);
    } else {
      one.accept(in);
    }
  }

  private static long int64(CodedInputStream in) {
    try {
      return in.readInt64();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static float float32(CodedInputStream in) {
    try {
      return in.readFloat();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void readGraph(CodedInputStream g) throws IOException {
    for (int tag; (tag = g.readTag()) != 0; ) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> nodes.add(readNode(sub(g)));
        case 5 -> {
          Tensor t = readTensor(sub(g));
          initializers.put(t.name(), t);
        }
        case 11 -> inputs.add(valueName(sub(g)));
        case 12 -> outputs.add(valueName(sub(g)));
        default -> g.skipField(tag);
      }
    }
    inputs.removeIf(initializers::containsKey);
  }

  private static String valueName(CodedInputStream v) throws IOException {
    String name = null;
    for (int tag; (tag = v.readTag()) != 0; ) {
      if (WireFormat.getTagFieldNumber(tag) == 1) name = v.readString();
      else v.skipField(tag);
    }
    return name;
  }

  private static Node readNode(CodedInputStream n) throws IOException {
    List<String> in = new ArrayList<>(), out = new ArrayList<>();
    String op = null;
    Map<String, Attr> attrs = new LinkedHashMap<>();
    for (int tag; (tag = n.readTag()) != 0; ) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> in.add(n.readString());
        case 2 -> out.add(n.readString());
        case 4 -> op = n.readString();
        case 5 -> {
          Attr a = readAttr(sub(n));
          attrs.put(a.name(), a);
        }
        default -> n.skipField(tag);
      }
    }
    return new Node(op, in, out, attrs);
  }

  private static Attr readAttr(CodedInputStream a) throws IOException {
    String name = null;
    float f = 0;
    long i = 0;
    byte[] s = null;
    Tensor t = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    for (int tag; (tag = a.readTag()) != 0; ) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> name = a.readString();
        case 2 -> f = a.readFloat();
        case 3 -> i = a.readInt64();
        case 4 -> s = a.readByteArray();
        case 5 -> t = readTensor(sub(a));
        case 7 -> repeated(a, tag, x -> floats.add(float32(x)));
        case 8 -> repeated(a, tag, x -> ints.add(int64(x)));
        default -> a.skipField(tag);
      }
    }
    float[] fl = floats.isEmpty() ? null : new float[floats.size()];
    for (int k = 0; fl != null && k < fl.length; k++) fl[k] = floats.get(k);
    long[] in = ints.isEmpty() ? null : ints.stream().mapToLong(Long::longValue).toArray();
    return new Attr(name, f, i, s, t, fl, in);
  }

  static Tensor readTensor(CodedInputStream t) throws IOException {
    List<Long> dims = new ArrayList<>();
    int type = 0;
    String name = "";
    byte[] raw = null;
    List<Float> floatData = new ArrayList<>();
    List<Long> intData = new ArrayList<>();
    for (int tag; (tag = t.readTag()) != 0; ) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> repeated(t, tag, x -> dims.add(int64(x)));
        case 2 -> type = t.readInt32();
        case 4 -> repeated(t, tag, x -> floatData.add(float32(x)));
        case 5, 7 -> repeated(t, tag, x -> intData.add(int64(x)));
        case 8 -> name = t.readString();
        case 9 -> raw = t.readByteArray();
        default -> t.skipField(tag);
      }
    }
    long[] d = dims.stream().mapToLong(Long::longValue).toArray();
    long count = 1;
    for (long x : d) count *= x;
    int n = (int) count;
    if (type == FLOAT || type == FLOAT16 || type == DOUBLE) {
      float[] v = new float[n];
      if (raw != null) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < n; k++) {
          v[k] = switch (type) {
            case FLOAT -> b.getFloat();
            case FLOAT16 -> TfjsWeights.halfToFloat(b.getShort());
            default -> (float) b.getDouble();
          };
        }
      } else {
        for (int k = 0; k < n; k++) v[k] = floatData.get(k);
      }
      return new Tensor(name, d, type, v, null);
    }
    long[] v = new long[n];
    if (raw != null) {
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < n; k++) v[k] = type == INT64 ? b.getLong() : type == INT32 ? b.getInt() : b.get();
    } else {
      for (int k = 0; k < n; k++) v[k] = intData.get(k);
    }
    return new Tensor(name, d, type, null, v);
  }
}
