package io.postergenres.model;

import io.postergenres.text.TextStage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * A loaded model: a TensorFlow session plus its {@link ModelSpec}. {@link #predict} is thread-safe
 * (TensorFlow sessions take concurrent runs), so one instance serves every task of a JVM. The
 * owner closes it; every tensor made in {@link #predict} is closed before it returns.
 */
public final class PosterModel implements AutoCloseable {
  private final SavedModelBundle bundle;
  private final Session session;
  private final ModelSpec spec;
  private final ModelContract.Endpoints endpoints;
  private final int genreCount;
  private final boolean bf16;
  private volatile TextStage text;

  private PosterModel(SavedModelBundle bundle, ModelSpec spec, ModelContract.Endpoints endpoints, boolean bf16) {
    this.bf16 = bf16;
    this.bundle = bundle;
    this.session = bundle.session();
    this.spec = spec;
    this.endpoints = endpoints;
    this.genreCount = spec.genres().size();
  }

  /**
   * Loads a SavedModel from a local directory.
   *
   * @param intraOpThreads threads one op may use (0: TensorFlow picks, all cores)
   * @param interOpThreads ops run at once (0: TensorFlow picks)
   */
  public static PosterModel load(Path dir, ModelSpec spec, int intraOpThreads, int interOpThreads) {
    return load(dir, spec, intraOpThreads, interOpThreads, false);
  }

  /**
   * As {@link #load(Path, ModelSpec, int, int)}; with {@code bf16}, TensorFlow's graph optimizer
   * rewrites float32 ops that oneDNN runs in bfloat16 to do so (auto mixed precision): faster on
   * CPUs with AVX512_BF16/AMX, but how far the scores move depends on the CPU; {@link ModelCache}
   * checks it with {@link Bf16Check} before using such a session.
   */
  public static PosterModel load(Path dir, ModelSpec spec, int intraOpThreads, int interOpThreads, boolean bf16) {
    ConfigProto.Builder builder =
        ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(intraOpThreads)
            .setInterOpParallelismThreads(interOpThreads);
    // With TensorFlow's GPU native library (GPU executors), take GPU memory as the session needs it
    // rather than all of it up front, so a second executor or process on the node still finds some.
    // The CPU library ignores it.
    builder.getGpuOptionsBuilder().setAllowGrowth(true);
    if (bf16) {
      builder.getGraphOptionsBuilder().getRewriteOptionsBuilder()
          .setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
    }
    ConfigProto config = builder.build();
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(ModelContract.TAG).withConfigProto(config).load();
    } catch (RuntimeException e) {
      throw new ModelException("TensorFlow cannot load the SavedModel in " + dir + ": " + e.getMessage(), e);
    }
    try {
      ModelContract.Endpoints endpoints = ModelContract.check(bundle.metaGraphDef(), spec, dir.toString());
      return new PosterModel(bundle, spec, endpoints, bf16);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  public ModelSpec spec() {
    return spec;
  }

  /** Whether this session lets TensorFlow rewrite float ops to bfloat16. */
  public boolean bf16() {
    return bf16;
  }

  /** The loaded graph, for inspection (FLOP counting); owned by this model. */
  public Graph graph() {
    return bundle.graph();
  }

  /**
   * Scores {@code n} preprocessed posters held in {@code batch} (n x H x W x 3 floats from index 0).
   *
   * @return n x G sigmoid scores, row-major
   */
  public float[] predict(float[] batch, int n) {
    float[] scores = new float[n * genreCount];
    try (TFloat32 input = inputOf(batch, n);
        Result result = session.runner().feed(endpoints.inputTensor(), input).fetch(endpoints.outputTensor()).run()) {
      copyScores(result, n, scores);
    }
    return scores;
  }

  /**
   * Where the time of scoring {@code n} posters goes on this CPU: TensorFlow's trace of {@code runs}
   * runs (after one untraced run), each op type's share of the summed time of all ops, largest first.
   * The op types are those TensorFlow ran after rewriting the graph (fused convolutions, oneDNN's
   * kernels where it uses them). Ops run side by side on the intra-op threads, so a share is of the
   * work, not of the wall time.
   */
  public Map<String, Double> opTimeShares(float[] batch, int n, int runs) {
    if (runs < 1) throw new IllegalArgumentException("runs must be positive, got " + runs);
    predict(batch, n);
    RunOptions trace = RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    Map<String, Long> micros = new HashMap<>();
    float[] scores = new float[n * genreCount];
    try (TFloat32 input = inputOf(batch, n)) {
      for (int r = 0; r < runs; r++) {
        try (Result result = session.runner().feed(endpoints.inputTensor(), input).fetch(endpoints.outputTensor()).setOptions(trace)
            .runAndFetchMetadata()) {
          copyScores(result, n, scores);
          RunMetadata meta = result.getMetadata().orElseThrow(() -> new ModelException("TensorFlow returned no trace of the run"));
          for (DeviceStepStats device : meta.getStepStats().getDevStatsList()) {
            for (NodeExecStats node : device.getNodeStatsList()) micros.merge(opType(node), node.getAllEndRelMicros(), Long::sum);
          }
        }
      }
    }
    double total = micros.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Double> shares = new LinkedHashMap<>();
    micros.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> shares.put(e.getKey(), total > 0 ? e.getValue() / total : 0));
    return shares;
  }

  /** "conv1 = _FusedConv2D(image, w)" -> "_FusedConv2D"; the node's name where the label has no op. */
  static String opType(NodeExecStats node) {
    String label = node.getTimelineLabel();
    int eq = label.indexOf(" = ");
    if (eq < 0) return node.getNodeName();
    int paren = label.indexOf('(', eq);
    return label.substring(eq + 3, paren < 0 ? label.length() : paren).trim();
  }

  private TFloat32 inputOf(float[] batch, int n) {
    long perImage = (long) spec.inputHeight() * spec.inputWidth() * 3;
    if (n <= 0 || batch.length < n * perImage) {
      throw new IllegalArgumentException("batch holds " + batch.length + " floats, need " + n * perImage);
    }
    Shape shape = Shape.of(n, spec.inputHeight(), spec.inputWidth(), 3);
    return TFloat32.tensorOf(shape, DataBuffers.of(batch, true, false).narrow(n * perImage));
  }

  private void copyScores(Result result, int n, float[] scores) {
    Tensor out = result.get(0);
    if (!(out instanceof TFloat32 f) || out.shape().numDimensions() != 2
        || out.shape().size(0) != n || out.shape().size(1) != genreCount) {
      throw new ModelException("model returned " + out.dataType() + " " + out.shape()
          + ", expected float32 [" + n + ", " + genreCount + "]");
    }
    f.copyTo(DataBuffers.of(scores, false, false));
  }

  /** The text stage this model blends its scores with, or null. */
  public TextStage text() {
    return text;
  }

  /** Makes {@code stage} this model's text stage; the model closes it. */
  void attachText(TextStage stage) {
    if (text != null) throw new IllegalStateException("the model already has a text stage");
    text = stage;
  }

  @Override
  public void close() {
    bundle.close();
    TextStage t = text;
    if (t != null) t.close();
  }
}
