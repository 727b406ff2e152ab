package io.postergenres.convert;

import com.google.protobuf.ByteString;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Converts a frozen SavedModel (weights as float32 {@code Const} nodes of the meta graph's
 * graph_def) to half-precision storage: every float Const with more than {@code minElements}
 * elements becomes a DT_HALF Const plus a {@code Cast} to float32 that takes the original node's
 * name, so every consumer, the signature and the model contract (float32 in, float32 out) are
 * unchanged while the stored weights take half the bytes. Small constants (biases, shapes,
 * scalars) stay float32.
 */
public final class Fp16Converter {
  private static final Logger LOG = LoggerFactory.getLogger(Fp16Converter.class);
  public static final int DEFAULT_MIN_ELEMENTS = 64;
  static final String SUFFIX = "/fp16";

  private Fp16Converter() {}

  /** What a conversion did. */
  public record Stats(int constsConverted, long elementsConverted, int constsKept, long bytesBefore, long bytesAfter) {}

  /** A converted saved_model.pb. */
  public record Converted(byte[] savedModel, Stats stats) {}

  // ------------------------------------------------------------------ half precision

  /** float32 to IEEE 754 binary16 bits, rounding to nearest, ties to even (as Float.floatToFloat16 of Java 20). */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xFF;
    int mant = bits & 0x7FFFFF;
    if (exp == 0xFF) { // Inf or NaN (keep NaN quiet and non-zero)
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15; // rebias
    if (e >= 0x1F) return (short) (sign | 0x7C00); // overflow: infinity
    if (e <= 0) { // subnormal half, or zero
      if (e < -10) return (short) sign; // below half of the smallest subnormal: signed zero
      int m = mant | 0x800000; // implicit leading 1
      int shift = 14 - e; // 14..24
      int half = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) != 0)) half++;
      return (short) (sign | half); // a carry into the exponent field gives the smallest normal, correctly
    }
    int half = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) half++; // a carry may round up to infinity, correctly
    return (short) (sign | half);
  }

  /** IEEE 754 binary16 bits to float32 (exact). */
  public static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  // ------------------------------------------------------------------ graph rewrite

  /** Rewrites every meta graph of a saved_model.pb. */
  public static Converted convert(byte[] savedModelPb, int minElements) throws IOException {
    SavedModel model = SavedModel.parseFrom(savedModelPb);
    SavedModel.Builder out = model.toBuilder();
    int converted = 0;
    int kept = 0;
    long elements = 0;
    for (int m = 0; m < model.getMetaGraphsCount(); m++) {
      MetaGraphDef meta = model.getMetaGraphs(m);
      HalvedGraph halved = halve(meta.getGraphDef(), minElements);
      converted += halved.constsConverted();
      kept += halved.constsKept();
      elements += halved.elementsConverted();
      MetaGraphDef.Builder mb = meta.toBuilder().setGraphDef(halved.graph());
      if (meta.hasMetaInfoDef() && meta.getMetaInfoDef().hasStrippedOpList()) {
        boolean hasCast = meta.getMetaInfoDef().getStrippedOpList().getOpList().stream().anyMatch(o -> o.getName().equals("Cast"));
        if (!hasCast && halved.constsConverted() > 0) mb.getMetaInfoDefBuilder().getStrippedOpListBuilder().addOp(castOpDef());
      }
      out.setMetaGraphs(m, mb.build());
    }
    byte[] bytes = out.build().toByteArray();
    return new Converted(bytes, new Stats(converted, elements, kept, savedModelPb.length, bytes.length));
  }

  /** A graph whose large float32 constants are stored as float16, with how many were. */
  public record HalvedGraph(GraphDef graph, int constsConverted, long elementsConverted, int constsKept) {}

  /**
   * Stores every float32 constant of more than {@code minElements} elements as float16 followed by
   * a Cast back to float32 under the constant's own name, so the graph computes in float32 and
   * everything that used the constant still finds it.
   */
  public static HalvedGraph halve(GraphDef graph, int minElements) {
    int converted = 0;
    int kept = 0;
    long elements = 0;
    Set<String> names = new HashSet<>();
    for (NodeDef n : graph.getNodeList()) names.add(n.getName());
    GraphDef.Builder g = graph.toBuilder().clearNode();
    for (NodeDef node : graph.getNodeList()) {
      float[] values = largeFloatConst(node, minElements);
      if (values == null) {
        if (node.getOp().equals("Const") && dtype(node) == DataType.DT_FLOAT) kept++;
        g.addNode(node);
        continue;
      }
      String halfName = node.getName() + SUFFIX;
      for (int k = 2; names.contains(halfName); k++) halfName = node.getName() + SUFFIX + "_" + k;
      names.add(halfName);
      TensorShapeProto shape = node.getAttrOrThrow("value").getTensor().getTensorShape();
      ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) buf.putShort(floatToHalf(v));
      TensorProto halfTensor = TensorProto.newBuilder()
          .setDtype(DataType.DT_HALF)
          .setTensorShape(shape)
          .setTensorContent(ByteString.copyFrom(buf.array()))
          .build();
      NodeDef.Builder halfConst = NodeDef.newBuilder()
          .setName(halfName)
          .setOp("Const")
          .setDevice(node.getDevice())
          .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_HALF).build())
          .putAttr("value", AttrValue.newBuilder().setTensor(halfTensor).build());
      for (String in : node.getInputList()) halfConst.addInput(in); // control inputs of the original, if any
      NodeDef.Builder cast = NodeDef.newBuilder()
          .setName(node.getName())
          .setOp("Cast")
          .setDevice(node.getDevice())
          .addInput(halfName)
          .putAttr("SrcT", AttrValue.newBuilder().setType(DataType.DT_HALF).build())
          .putAttr("DstT", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
          .putAttr("Truncate", AttrValue.newBuilder().setB(false).build());
      if (node.containsAttr("_output_shapes")) cast.putAttr("_output_shapes", node.getAttrOrThrow("_output_shapes"));
      g.addNode(halfConst.build());
      g.addNode(cast.build());
      converted++;
      elements += values.length;
    }
    return new HalvedGraph(g.build(), converted, elements, kept);
  }

  private static DataType dtype(NodeDef node) {
    AttrValue a = node.getAttrMap().get("dtype");
    return a == null ? null : a.getType();
  }

  /** The values of a float32 Const of more than {@code minElements} elements; null for any other node. */
  static float[] largeFloatConst(NodeDef node, int minElements) {
    if (!node.getOp().equals("Const") || dtype(node) != DataType.DT_FLOAT || !node.containsAttr("value")) return null;
    TensorProto t = node.getAttrOrThrow("value").getTensor();
    if (t.getDtype() != DataType.DT_FLOAT || t.getTensorShape().getUnknownRank()) return null;
    long n = 1;
    for (TensorShapeProto.Dim d : t.getTensorShape().getDimList()) n *= d.getSize();
    if (n <= minElements || n > Integer.MAX_VALUE) return null;
    float[] values = new float[(int) n];
    if (!t.getTensorContent().isEmpty()) {
      if (t.getTensorContent().size() != n * 4) return null;
      t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    } else if (t.getFloatValCount() == n) {
      for (int i = 0; i < n; i++) values[i] = t.getFloatVal(i);
    } else {
      return null; // a splat (one value repeated) is already small
    }
    return values;
  }

  private static OpDef castOpDef() {
    return OpDef.newBuilder()
        .setName("Cast")
        .addInputArg(OpDef.ArgDef.newBuilder().setName("x").setTypeAttr("SrcT"))
        .addOutputArg(OpDef.ArgDef.newBuilder().setName("y").setTypeAttr("DstT"))
        .addAttr(OpDef.AttrDef.newBuilder().setName("SrcT").setType("type"))
        .addAttr(OpDef.AttrDef.newBuilder().setName("DstT").setType("type"))
        .addAttr(OpDef.AttrDef.newBuilder().setName("Truncate").setType("bool")
            .setDefaultValue(AttrValue.newBuilder().setB(false)))
        .build();
  }

  // ------------------------------------------------------------------ model directories

  /** What {@link #convertDir} wrote. */
  public record DirResult(Path output, ModelSpec spec, Stats stats, long dirBytesBefore, long dirBytesAfter) {}

  /**
   * Writes the fp16 copy of model directory {@code src} into {@code dst} (new or empty): converted
   * saved_model.pb, model.json with version suffixed "-fp16" and the conversion in its source, every
   * other file copied. The result is checked as the labelling job checks a model.
   */
  public static DirResult convertDir(Path src, Path dst, int minElements) throws IOException {
    ModelPackage in = ModelPackage.read(src.toAbsolutePath().toString(), new Configuration());
    ModelSpec spec = in.spec();
    Converted c = convert(Files.readAllBytes(src.resolve("saved_model.pb")), minElements);
    Files.createDirectories(dst);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(src)) {
      files = walk.sorted().toList();
    }
    for (Path f : files) {
      Path rel = src.relativize(f);
      Path target = dst.resolve(rel.toString());
      if (Files.isDirectory(f)) {
        Files.createDirectories(target);
      } else if (!rel.toString().equals("saved_model.pb") && !rel.toString().equals(ModelSpec.FILE_NAME)
          && !rel.toString().equals("evaluation.json")) { // an evaluation describes the source model, not this one
        Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.write(dst.resolve("saved_model.pb"), c.savedModel());
    Map<String, Object> source = new LinkedHashMap<>(spec.source() == null ? Map.of() : spec.source());
    source.remove(ModelSpec.SAME_SCORES_AS); // the float16 copy's scores are not those versions' (they differ by up to 0.01)
    Map<String, Object> conversion = new LinkedHashMap<>();
    conversion.put("from", src.toString());
    conversion.put("from_version", spec.version());
    conversion.put("from_fingerprint", in.fingerprint());
    conversion.put("precision", "fp16 storage: float32 Const nodes of more than " + minElements
        + " elements stored as IEEE half (round to nearest even) and cast to float32 in the graph; input and output stay float32");
    conversion.put("consts_converted", c.stats().constsConverted());
    conversion.put("weights_converted", c.stats().elementsConverted());
    conversion.put("saved_model_bytes_before", c.stats().bytesBefore());
    conversion.put("saved_model_bytes_after", c.stats().bytesAfter());
    source.put("conversion", conversion);
    // Everything else of model.json as it was: the genres, thresholds and the rule that uses them (rank_by).
    ModelSpec out = spec.withVersion(spec.version() + "-fp16").withSource(source);
    Files.write(dst.resolve(ModelSpec.FILE_NAME), out.toJson());
    ModelPackage check = ModelPackage.read(dst.toAbsolutePath().toString(), new Configuration());
    LOG.info("Wrote {} ({} float constants as fp16, {} kept float32)", dst, c.stats().constsConverted(), c.stats().constsKept());
    return new DirResult(dst, out, c.stats(), in.sizeBytes(), check.sizeBytes());
  }

  // ------------------------------------------------------------------ comparison

  /** How two models' scores compare on the same posters. */
  public record Agreement(int posters, int unreadable, int top3Same, int top1Same, int genresSame, double maxAbsDiff,
      double meanAbsDiff) {
    public double top3Rate() {
      return posters == 0 ? Double.NaN : (double) top3Same / posters;
    }
  }

  /** Scores {@code posters} with both models (loaded with their own model.json) and compares. */
  public static Agreement compare(Path modelA, Path modelB, List<Path> posters, int batchSize, int threads, long maxPixels)
      throws IOException {
    ModelSpec specA = ModelSpec.parse(Files.readAllBytes(modelA.resolve(ModelSpec.FILE_NAME)), modelA.toString());
    ModelSpec specB = ModelSpec.parse(Files.readAllBytes(modelB.resolve(ModelSpec.FILE_NAME)), modelB.toString());
    if (!specA.genres().equals(specB.genres()) || specA.inputHeight() != specB.inputHeight() || specA.inputWidth() != specB.inputWidth()) {
      throw new IOException(modelA + " and " + modelB + " differ in genres or input size; they cannot be compared");
    }
    int g = specA.genres().size();
    GenreRules rules = GenreRules.of(specA);
    Preprocessor pre = new Preprocessor(specA.inputHeight(), specA.inputWidth(), maxPixels);
    int per = pre.floatsPerImage();
    int n = 0, unreadable = 0, top3 = 0, top1 = 0, same = 0;
    double maxDiff = 0, sumDiff = 0;
    try (PosterModel a = PosterModel.load(modelA, specA, threads, Math.min(2, threads));
        PosterModel b = PosterModel.load(modelB, specB, threads, Math.min(2, threads))) {
      float[] batch = new float[batchSize * per];
      for (int from = 0; from < posters.size(); from += batchSize) {
        int k = 0;
        for (Path p : posters.subList(from, Math.min(posters.size(), from + batchSize))) {
          try {
            pre.preprocessInto(Files.readAllBytes(p), batch, k * per);
            k++;
          } catch (PosterException | IOException e) {
            unreadable++;
          }
        }
        if (k == 0) continue;
        float[] sa = a.predict(batch, k);
        float[] sb = b.predict(batch, k);
        for (int i = 0; i < k; i++) {
          int[] ta = top(sa, i * g, g, 3);
          int[] tb = top(sb, i * g, g, 3);
          if (Arrays.equals(sortedCopy(ta), sortedCopy(tb))) top3++;
          if (ta[0] == tb[0]) top1++;
          if (rules.assign(sa, i * g).equals(rules.assign(sb, i * g))) same++;
          for (int j = 0; j < g; j++) {
            double d = Math.abs(sa[i * g + j] - sb[i * g + j]);
            maxDiff = Math.max(maxDiff, d);
            sumDiff += d;
          }
        }
        n += k;
      }
    }
    return new Agreement(n, unreadable, top3, top1, same, maxDiff, n == 0 ? Double.NaN : sumDiff / ((double) n * g));
  }

  private static int[] top(float[] s, int offset, int g, int k) {
    Integer[] order = new Integer[g];
    for (int j = 0; j < g; j++) order[j] = j;
    Arrays.sort(order, (p, q) -> Float.compare(s[offset + q], s[offset + p]));
    int[] out = new int[Math.min(k, g)];
    for (int j = 0; j < out.length; j++) out[j] = order[j];
    return out;
  }

  private static int[] sortedCopy(int[] a) {
    int[] c = a.clone();
    Arrays.sort(c);
    return c;
  }

  /**
   * The posters a model was validated on: the entries of its validation.txt, resolved against the
   * root its first comment line names (or {@code fallbackRoot}); those that exist.
   */
  public static List<Path> validationPosters(Path modelDir, Path fallbackRoot) throws IOException {
    Path list = modelDir.resolve("validation.txt");
    if (!Files.isRegularFile(list)) return List.of();
    List<String> lines = Files.readAllLines(list);
    Path root = fallbackRoot;
    List<Path> out = new ArrayList<>();
    for (String line : lines) {
      String s = line.trim();
      int at = s.indexOf("relative to ");
      if (s.startsWith("#")) {
        if (at >= 0 && root == null) root = Path.of(s.substring(at + "relative to ".length()).trim());
        continue;
      }
      if (s.isEmpty()) continue;
      Path p = Path.of(s);
      if (!p.isAbsolute() && root != null) p = root.resolve(p);
      if (Files.isRegularFile(p)) out.add(p);
    }
    return out;
  }

  /** Image files under {@code dir}, recursively, sorted. */
  public static List<Path> imagesUnder(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png|gif|bmp)"))
          .sorted()
          .toList();
    }
  }

  /** Bytes of every file under {@code dir}. */
  public static long dirBytes(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    }
  }
}
