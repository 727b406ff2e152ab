package io.postergenres.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Builds tiny models that keep the model contract, with random weights, through TensorFlow Java:
 * mean colour of the poster, a dense layer, sigmoid. Scores therefore depend on the image, so tests
 * can tell posters apart and check that the right score reaches the right row.
 */
public final class TestModels {
  public static final List<String> GENRES = List.of("Action", "Comedy", "Drama", "Horror", "Romance");

  private TestModels() {}

  public static Path write(Path dir, int height, int width, long seed) throws IOException {
    return write(dir, height, width, GENRES, seed, "float");
  }

  /**
   * @param inputType "float" for a conforming model, "int" for one whose input breaks the contract,
   *     "write-file:PATH" for a conforming model whose scores have a control dependency on writing PATH
   */
  public static Path write(Path dir, int height, int width, List<String> genres, long seed, String inputType)
      throws IOException {
    Files.createDirectories(dir.getParent());
    Random random = new Random(seed);
    int g = genres.size();
    float[][] w = new float[3][g];
    float[] b = new float[g];
    for (int i = 0; i < 3; i++) for (int j = 0; j < g; j++) w[i][j] = (float) (random.nextGaussian() * 4);
    for (int j = 0; j < g; j++) b[j] = (float) (random.nextGaussian() - 1.0);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Signature signature;
      if (inputType.equals("float") || inputType.startsWith("write-file:")) {
        Placeholder<TFloat32> image =
            tf.withName("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, height, width, 3)));
        if (inputType.startsWith("write-file:")) {
          var write = tf.io.writeFile(tf.constant(inputType.substring("write-file:".length())), tf.constant("pwned"));
          tf = tf.withControlDependencies(List.of(write));
        }
        var mean = tf.math.mean(image, tf.constant(new int[] {1, 2}));
        var logits = tf.math.add(tf.linalg.matMul(mean, tf.constant(w)), tf.constant(b));
        var scores = tf.withName("scores").math.sigmoid(logits);
        signature = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
      } else {
        Placeholder<TInt32> image =
            tf.withName("image").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, height, width, 3)));
        var mean = tf.dtypes.cast(tf.math.mean(image, tf.constant(new int[] {1, 2})), TFloat32.class);
        var scores = tf.withName("scores").math.sigmoid(tf.linalg.matMul(mean, tf.constant(w)));
        signature = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
      }
      try (Session session = new Session(graph)) {
        SavedModelBundle.exporter(dir.toString())
            .withTags(ModelContract.TAG)
            .withFunction(SessionFunction.create(signature, session))
            .export();
      }
    }
    Map<String, Double> thresholds = new LinkedHashMap<>();
    for (String genre : genres) thresholds.put(genre, 0.5);
    ModelSpec spec = new ModelSpec("test-model", "seed-" + seed, height, width, genres, thresholds, 1, Math.min(3, genres.size()),
        Map.of("note", "random weights, for tests"));
    Files.write(dir.resolve(ModelSpec.FILE_NAME), spec.toJson());
    return dir;
  }

  /**
   * A copy of model directory {@code from} in {@code to} as {@code calibrate} writes one: the same
   * network, every threshold {@code threshold}, 1 to {@code maxGenres} genres, version + ".1", and
   * the old version in {@code source.same_scores_as}.
   */
  public static ModelSpec recalibrated(Path from, Path to, double threshold, int maxGenres) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (!p.equals(from)) Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
    ModelSpec old = ModelSpec.parse(Files.readAllBytes(from.resolve(ModelSpec.FILE_NAME)), from.toString());
    Map<String, Double> thresholds = new LinkedHashMap<>();
    for (String g : old.genres()) thresholds.put(g, threshold);
    Map<String, Object> source = new LinkedHashMap<>(old.source() == null ? Map.of() : old.source());
    source.put(ModelSpec.SAME_SCORES_AS, List.of(old.version()));
    ModelSpec spec = old.withVersion(old.version() + ".1").withThresholds(thresholds).withGenreBounds(1, maxGenres).withSource(source);
    Files.write(to.resolve(ModelSpec.FILE_NAME), spec.toJson());
    return spec;
  }
}
