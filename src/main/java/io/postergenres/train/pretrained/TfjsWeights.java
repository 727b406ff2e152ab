package io.postergenres.train.pretrained;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a TensorFlow.js layers model: the Keras topology and the weights of its weights manifest,
 * dequantized to float32.
 *
 * <p>Two layouts are read. The standard one written by {@code tensorflowjs_converter}: {@code
 * model.json} (JSON with {@code modelTopology} and {@code weightsManifest}) beside binary shard
 * files. And the bundled one of the {@code nsfwjs} npm package: {@code model.min.js}, a JavaScript
 * module whose export is the same object as a (minified) JavaScript object literal, beside shard
 * modules {@code <path>.min.js} whose export is the shard's bytes as a base64 string.
 *
 * <p>Shard bytes are concatenated in manifest order (groups, then paths); each weight takes {@code
 * product(shape)} elements of its stored dtype: float32 (little endian), int32, or quantized uint8
 * / uint16 ({@code min + scale * q}) or float16, all returned as float32.
 */
public final class TfjsWeights {
  /** One weight: its shape and row-major values. */
  public record Tensor(long[] shape, float[] values) {
    public long size() {
      long n = 1;
      for (long d : shape) n *= d;
      return n;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode topology;
  private final Map<String, Tensor> weights;
  private final String format;

  private TfjsWeights(JsonNode topology, Map<String, Tensor> weights, String format) {
    this.topology = topology;
    this.weights = Collections.unmodifiableMap(weights);
    this.format = format;
  }

  /** The {@code modelTopology} object (Keras model config). */
  public JsonNode topology() {
    return topology;
  }

  /** Weights by name ({@code layer/kernel}, ...), in manifest order. */
  public Map<String, Tensor> weights() {
    return weights;
  }

  /** Which layout was read: {@code model.json} or {@code model.min.js}. */
  public String format() {
    return format;
  }

  public Tensor weight(String name) {
    Tensor t = weights.get(name);
    if (t == null) throw new IllegalArgumentException("the TF.js model has no weight " + name);
    return t;
  }

  /** The Keras layers of the topology ({@code model_config.config.layers}). */
  public List<JsonNode> layers() {
    JsonNode config = topology.path("model_config").path("config");
    JsonNode layers = config.path("layers");
    if (!layers.isArray()) throw new IllegalArgumentException("modelTopology has no model_config.config.layers");
    List<JsonNode> out = new java.util.ArrayList<>();
    layers.forEach(out::add);
    return out;
  }

  /** Reads the model in {@code dir} ({@code model.json} if present, else {@code model.min.js}). */
  public static TfjsWeights read(Path dir) throws IOException {
    Path json = dir.resolve("model.json");
    Path js = dir.resolve("model.min.js");
    JsonNode root;
    String format;
    if (Files.isRegularFile(json)) {
      root = JSON.readTree(json.toFile());
      format = "model.json";
    } else if (Files.isRegularFile(js)) {
      root = JSON.readTree(JsLiteral.toJson(JsLiteral.exportedObject(Files.readString(js, StandardCharsets.UTF_8))));
      format = "model.min.js";
    } else {
      throw new IOException(dir + " holds neither model.json nor model.min.js (a TensorFlow.js layers model)");
    }
    return read(dir, root, format);
  }

  /**
   * The weights of a TF.js model (layers or graph: both keep them the same way) whose JSON, already
   * parsed, is {@code root}; its shards in {@code dir}. {@code format} names it in messages.
   */
  static TfjsWeights read(Path dir, JsonNode root, String format) throws IOException {
    JsonNode topology = root.path("modelTopology");
    JsonNode manifest = root.path("weightsManifest");
    if (topology.isMissingNode() || !manifest.isArray()) {
      throw new IOException(dir + "/" + format + ": not a TF.js model (needs modelTopology and weightsManifest)");
    }
    Map<String, Tensor> weights = new LinkedHashMap<>();
    for (JsonNode group : manifest) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (JsonNode p : group.path("paths")) bytes.write(readShard(dir, p.asText()));
      ByteBuffer buf = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
      for (JsonNode w : group.path("weights")) {
        String name = w.path("name").asText();
        long[] shape = new long[w.path("shape").size()];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = w.path("shape").get(i).asLong();
          n *= shape[i];
        }
        if (n > Integer.MAX_VALUE) throw new IOException("weight " + name + " is too large");
        float[] values = new float[(int) n];
        JsonNode q = w.path("quantization");
        String dtype = q.isMissingNode() ? w.path("dtype").asText("float32") : q.path("dtype").asText();
        try {
          switch (dtype) {
            case "float32" -> {
              for (int i = 0; i < n; i++) values[i] = buf.getFloat();
            }
            case "int32" -> {
              for (int i = 0; i < n; i++) values[i] = buf.getInt();
            }
            case "uint8", "uint16" -> {
              float min = (float) q.path("min").asDouble();
              float scale = (float) q.path("scale").asDouble();
              boolean u8 = dtype.equals("uint8");
              for (int i = 0; i < n; i++) {
                int v = u8 ? buf.get() & 0xFF : buf.getShort() & 0xFFFF;
                values[i] = min + scale * v;
              }
            }
            case "float16" -> {
              for (int i = 0; i < n; i++) values[i] = halfToFloat(buf.getShort());
            }
            default -> throw new IOException("weight " + name + ": unsupported dtype " + dtype);
          }
        } catch (java.nio.BufferUnderflowException e) {
          throw new IOException("weight shards of " + dir + " end before weight " + name + " (" + n + " x " + dtype + ")");
        }
        weights.put(name, new Tensor(shape, values));
      }
      if (buf.hasRemaining()) {
        throw new IOException("weight shards of " + dir + " hold " + buf.remaining() + " bytes more than the manifest lists");
      }
    }
    return new TfjsWeights(topology, weights, format);
  }

  private static final Pattern BASE64_EXPORT = Pattern.compile("exports\\s*=\\s*\"([A-Za-z0-9+/=]*)\"");

  /** A shard's bytes: a binary file {@code path}, or a module {@code path.min.js} exporting base64. */
  static byte[] readShard(Path dir, String path) throws IOException {
    Path bin = inside(dir, path);
    if (Files.isRegularFile(bin)) return Files.readAllBytes(bin);
    for (String ext : List.of(".min.js", ".js")) {
      Path js = inside(dir, path + ext);
      if (Files.isRegularFile(js)) {
        Matcher m = BASE64_EXPORT.matcher(Files.readString(js, StandardCharsets.ISO_8859_1));
        if (!m.find()) throw new IOException(js + " exports no base64 string");
        return Base64.getDecoder().decode(m.group(1));
      }
    }
    throw new IOException("weight shard " + path + " not found in " + dir);
  }

  /**
   * {@code dir/path}, refused unless it stays inside {@code dir} (after {@code ..} and, for a file
   * that exists, symbolic links): a backbone's model.json names its shards, and must not name
   * {@code ../../etc/passwd}.
   */
  static Path inside(Path dir, String path) throws IOException {
    Path root = dir.toAbsolutePath().normalize();
    Path p = root.resolve(path).normalize();
    if (!p.startsWith(root)) throw new IOException("weight shard path '" + path + "' leaves the backbone's directory " + dir);
    if (Files.exists(p) && !p.toRealPath().startsWith(root.toRealPath())) {
      throw new IOException("weight shard '" + path + "' links outside the backbone's directory " + dir);
    }
    return p;
  }

  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0) {
      float v = mant * (1f / (1 << 24));
      return sign != 0 ? -v : v;
    }
    if (exp == 31) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
