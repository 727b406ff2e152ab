package io.postergenres.train.pretrained;

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
 * of ModelProto, GraphProto, NodeProto, AttributeProto and TensorProto used here), so no ONNX
 * library is needed.
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
    OnnxModel m = new OnnxModel();
    Wire w = new Wire(bytes, 0, bytes.length);
    while (w.more()) {
      int field = w.tag();
      if (field == 7 && w.type == 2) m.readGraph(w.sub());
      else if (field == 8 && w.type == 2) {
        Wire o = w.sub();
        String domain = "";
        long version = 0;
        while (o.more()) {
          int f = o.tag();
          if (f == 1) domain = o.string();
          else if (f == 2) version = o.varint();
          else o.skip();
        }
        if (domain.isEmpty() || domain.equals("ai.onnx")) m.opset = version;
      } else w.skip();
    }
    return m;
  }

  private void readGraph(Wire g) {
    while (g.more()) {
      int f = g.tag();
      switch (f) {
        case 1 -> nodes.add(readNode(g.sub()));
        case 5 -> {
          Tensor t = readTensor(g.sub());
          initializers.put(t.name(), t);
        }
        case 11 -> inputs.add(valueName(g.sub()));
        case 12 -> outputs.add(valueName(g.sub()));
        default -> g.skip();
      }
    }
    inputs.removeIf(initializers::containsKey);
  }

  private static String valueName(Wire v) {
    String name = null;
    while (v.more()) {
      if (v.tag() == 1) name = v.string();
      else v.skip();
    }
    return name;
  }

  private static Node readNode(Wire n) {
    List<String> in = new ArrayList<>(), out = new ArrayList<>();
    String op = null;
    Map<String, Attr> attrs = new LinkedHashMap<>();
    while (n.more()) {
      switch (n.tag()) {
        case 1 -> in.add(n.string());
        case 2 -> out.add(n.string());
        case 4 -> op = n.string();
        case 5 -> {
          Attr a = readAttr(n.sub());
          attrs.put(a.name(), a);
        }
        default -> n.skip();
      }
    }
    return new Node(op, in, out, attrs);
  }

  private static Attr readAttr(Wire a) {
    String name = null;
    float f = 0;
    long i = 0;
    byte[] s = null;
    Tensor t = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    while (a.more()) {
      int field = a.tag();
      switch (field) {
        case 1 -> name = a.string();
        case 2 -> f = a.fixed32Float();
        case 3 -> i = a.varint();
        case 4 -> s = a.bytes();
        case 5 -> t = readTensor(a.sub());
        case 7 -> {
          if (a.type == 2) {
            Wire p = a.sub();
            while (p.more()) floats.add(p.rawFloat());
          } else floats.add(a.fixed32Float());
        }
        case 8 -> {
          if (a.type == 2) {
            Wire p = a.sub();
            while (p.more()) ints.add(p.rawVarint());
          } else ints.add(a.varint());
        }
        default -> a.skip();
      }
    }
    float[] fl = floats.isEmpty() ? null : new float[floats.size()];
    for (int k = 0; fl != null && k < fl.length; k++) fl[k] = floats.get(k);
    long[] in = ints.isEmpty() ? null : ints.stream().mapToLong(Long::longValue).toArray();
    return new Attr(name, f, i, s, t, fl, in);
  }

  static Tensor readTensor(Wire t) {
    List<Long> dims = new ArrayList<>();
    int type = 0;
    String name = "";
    byte[] raw = null;
    List<Float> floatData = new ArrayList<>();
    List<Long> intData = new ArrayList<>();
    while (t.more()) {
      int f = t.tag();
      switch (f) {
        case 1 -> {
          if (t.type == 2) {
            Wire p = t.sub();
            while (p.more()) dims.add(p.rawVarint());
          } else dims.add(t.varint());
        }
        case 2 -> type = (int) t.varint();
        case 4 -> {
          if (t.type == 2) {
            Wire p = t.sub();
            while (p.more()) floatData.add(p.rawFloat());
          } else floatData.add(t.fixed32Float());
        }
        case 5, 7 -> {
          if (t.type == 2) {
            Wire p = t.sub();
            while (p.more()) intData.add(p.rawVarint());
          } else intData.add(t.varint());
        }
        case 8 -> name = t.string();
        case 9 -> raw = t.bytes();
        default -> t.skip();
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

  /** A protobuf message's bytes, read field by field. */
  static final class Wire {
    private final byte[] b;
    private int pos;
    private final int end;
    int type;

    Wire(byte[] b, int from, int to) {
      this.b = b;
      this.pos = from;
      this.end = to;
    }

    boolean more() {
      return pos < end;
    }

    int tag() {
      long k = rawVarint();
      type = (int) (k & 7);
      return (int) (k >>> 3);
    }

    long rawVarint() {
      long r = 0;
      for (int s = 0; ; s += 7) {
        int c = b[pos++] & 0xFF;
        r |= (long) (c & 0x7F) << s;
        if (c < 0x80) return r;
      }
    }

    long varint() {
      return rawVarint();
    }

    float rawFloat() {
      int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
      pos += 4;
      return Float.intBitsToFloat(v);
    }

    float fixed32Float() {
      return rawFloat();
    }

    Wire sub() {
      int len = (int) rawVarint();
      Wire w = new Wire(b, pos, pos + len);
      pos += len;
      return w;
    }

    byte[] bytes() {
      int len = (int) rawVarint();
      byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + len);
      pos += len;
      return out;
    }

    String string() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    void skip() {
      switch (type) {
        case 0 -> rawVarint();
        case 1 -> pos += 8;
        case 2 -> {
          int len = (int) rawVarint(); // not pos += rawVarint(): that adds to pos as it was before the length
          pos += len;
        }
        case 5 -> pos += 4;
        default -> throw new IllegalStateException("wire type " + type);
      }
    }
  }
}
