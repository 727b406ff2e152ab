package io.postergenres.train;

import io.postergenres.image.Preprocessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Not a test: measures seconds per training step of {@code --arch seed} (batch 32, real posters)
 * through the Trainer's own training graph, and extrapolates the original recipe's 5 epochs.
 * Run: java -cp test-classes:classes:deps io.postergenres.train.SeedStepBench DATASET [steps] [threads]
 */
public final class SeedStepBench {
  public static void main(String[] args) throws Exception {
    Path dataset = Path.of(args[0]);
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
    int b = 32;
    CcuDataset.Loaded data = CcuDataset.readCcu(dataset);
    List<String> genres = data.genres();
    int g = genres.size();
    SeedCnn cnn = new SeedCnn(SeedCnn.IMAGE_SIZE, g);
    System.out.printf(Locale.ROOT, "%s%n", cnn.summary(0.5f));
    Preprocessor pre = new Preprocessor(SeedCnn.IMAGE_SIZE, SeedCnn.IMAGE_SIZE, 50_000_000L);
    int per = pre.floatsPerImage();
    float[] batch = new float[b * per];
    float[] labels = new float[b * g];
    long t0 = System.nanoTime();
    for (int k = 0; k < b; k++) {
      CcuDataset.Example e = data.examples().get(k * 97 % data.examples().size());
      pre.preprocessInto(Files.readAllBytes(e.path()), batch, k * per);
      for (String genre : e.genres()) labels[k * g + genres.indexOf(genre)] = 1f;
    }
    System.out.printf(Locale.ROOT, "decoded %d posters at 350x350 in %.2f s%n", b, (System.nanoTime() - t0) / 1e9);
    float[] ones = new float[g];
    Arrays.fill(ones, 1f);
    ConfigProto config = ConfigProto.newBuilder().setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(Math.min(2, threads)).build();
    try (Graph graph = new Graph()) {
      long tb = System.nanoTime();
      Trainer.TrainGraph tg = Trainer.buildTrainGraph(graph, cnn, g, ones, 1e-3f, 0.5f, 42);
      try (Session session = new Session(graph, config)) {
        session.initialize();
        System.out.printf(Locale.ROOT, "graph built and initialised in %.1f s (threads %d)%n", (System.nanoTime() - tb) / 1e9, threads);
        double[] secs = new double[steps + 1];
        for (int s = 0; s <= steps; s++) {
          long ts = System.nanoTime();
          try (TFloat32 x = TFloat32.tensorOf(Shape.of(b, 350, 350, 3), DataBuffers.of(batch, true, false));
              TFloat32 y = TFloat32.tensorOf(Shape.of(b, g), DataBuffers.of(labels, true, false));
              Result r = session.runner().feed(tg.x(), x).feed(tg.y(), y).addTarget(tg.trainOp()).fetch(tg.loss()).run()) {
            secs[s] = (System.nanoTime() - ts) / 1e9;
            System.out.printf(Locale.ROOT, "step %d%s: %.2f s, loss %.4f%n", s, s == 0 ? " (warm-up)" : "", secs[s], ((TFloat32) r.get(0)).getFloat());
          }
        }
        double mean = Arrays.stream(secs, 1, steps + 1).average().orElse(Double.NaN);
        int train = data.examples().size() - (int) Math.round(data.examples().size() * 0.15);
        int stepsPerEpoch = (train + b - 1) / b;
        System.out.printf(Locale.ROOT, "mean %.2f s per step of %d (steps 1..%d); %d training posters -> %d steps per epoch -> "
                + "%.1f min per epoch, %.1f min for 5 epochs of training steps alone (plus decoding and validation passes)%n",
            mean, b, steps, train, stepsPerEpoch, mean * stepsPerEpoch / 60, 5 * mean * stepsPerEpoch / 60);
      }
    }
  }
}
