package io.postergenres.train;

import io.postergenres.errors.PosterException;
import io.postergenres.metrics.Metrics;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Trains a {@link Network} ({@link PosterCnn} or the original {@link SeedCnn}) on labelled posters and writes a model directory that keeps the model
 * contract: a frozen SavedModel (image [-1,H,W,3] in [0,1] -> sigmoid scores [-1,G]), {@code
 * model.json} with per-genre thresholds calibrated on the validation posters, plus {@code
 * training-history.csv}, {@code validation.txt} (the held-out posters) and {@code
 * training-log.txt}.
 *
 * <p>Posters are decoded once through the shared {@link Preprocessor} (the same code path as the
 * labelling job) and cached as bytes; batches are made from the cache with random horizontal flips.
 * Training runs in graph mode: Adam on sigmoid binary cross-entropy, positives of rare genres
 * weighted up. Batch norm uses batch statistics in training; their running averages are kept in
 * Java and folded into the exported convolutions. After every epoch the frozen inference graph
 * scores the validation posters; the best epoch by validation macro ROC-AUC is exported.
 */
public final class Trainer {
  /** Training settings. */
  public record Config(
      int imageSize,
      int epochs,
      int batchSize,
      float learningRate,
      double validationFraction,
      long seed,
      float dropout,
      String positiveWeighting,
      int threads,
      long maxPixels,
      double timeLimitMinutes,
      String version,
      String arch,
      boolean augment) {
    /** The postercnn settings with random horizontal flips: the constructor before --arch existed. */
    public Config(int imageSize, int epochs, int batchSize, float learningRate, double validationFraction, long seed,
        float dropout, String positiveWeighting, int threads, long maxPixels, double timeLimitMinutes, String version) {
      this(imageSize, epochs, batchSize, learningRate, validationFraction, seed, dropout, positiveWeighting, threads,
          maxPixels, timeLimitMinutes, version, PosterCnn.ARCH, true);
    }

    public Config {
      Architecture.parse(arch);
      if (imageSize < 16 || imageSize > 512) throw new IllegalArgumentException("--image-size must be 16 to 512, got " + imageSize);
      if (epochs < 1) throw new IllegalArgumentException("--epochs must be 1 or more, got " + epochs);
      if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be 1 or more, got " + batchSize);
      if (!(learningRate > 0 && learningRate < 1)) throw new IllegalArgumentException("--learning-rate must be in (0, 1), got " + learningRate);
      if (!(validationFraction > 0 && validationFraction < 1)) {
        throw new IllegalArgumentException("--validation-fraction must be in (0, 1), got " + validationFraction);
      }
      if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
      if (!List.of("sqrt", "linear", "none").contains(positiveWeighting)) {
        throw new IllegalArgumentException("positive weighting must be sqrt, linear or none, got " + positiveWeighting);
      }
      if (threads < 0) throw new IllegalArgumentException("threads must be 0 (all cores) or more, got " + threads);
    }

    public static Config defaults() {
      return new Config(128, 12, 32, 1e-3f, 0.15, 42, 0.3f, "sqrt", 0, 50_000_000L, 0, "1.0.0");
    }

    /**
     * {@code --arch pretrained}: a frozen nsfwjs network at its input size (the image size here is
     * replaced by the backbone's), a head trained on
     * its features: Adam 0.001, batch 64, 60 epochs, dropout 0.5, sqrt positive weighting, flips.
     */
    public static Config pretrainedDefaults() {
      return new Config(224, 60, 64, 1e-3f, 0.15, 42, 0.5f, "sqrt", 0, 50_000_000L, 0, "1.0.0", Architecture.PRETRAINED.cliName(), true);
    }

    /**
     * The original Keras recipe for {@code --arch seed}: 350x350 input, Adam 0.001, plain binary
     * cross-entropy, batch 32, 5 epochs, 15% validation, no class weighting, no augmentation.
     */
    public static Config seedDefaults() {
      return new Config(SeedCnn.IMAGE_SIZE, 5, 32, 1e-3f, 0.15, 42, SeedCnn.DENSE_DROPOUT, "none", 0, 50_000_000L, 0,
          "1.0.0", SeedCnn.ARCH, false);
    }
  }

  /** The network {@code cfg} names, for {@code genres} outputs. */
  public static Network network(Config cfg, int genres) {
    if (!Architecture.parse(cfg.arch()).endToEnd()) {
      throw new IllegalArgumentException("--arch " + cfg.arch() + " is trained by BackboneTrainer (frozen backbone + head), not end to end");
    }
    return cfg.arch().equals(SeedCnn.ARCH)
        ? new SeedCnn(cfg.imageSize(), genres)
        : new PosterCnn(cfg.imageSize(), genres, PosterCnn.defaultChannels(cfg.imageSize()));
  }

  /** The training graph: inputs, weights as variables, forward pass, loss and the Adam step. */
  record TrainGraph(Placeholder<TFloat32> x, Placeholder<TFloat32> y, Map<String, Variable<TFloat32>> vars,
      PosterCnn.TrainOutputs fwd, Operand<TFloat32> loss, Operand<TFloat32> probs, Op trainOp) {}

  static TrainGraph buildTrainGraph(Graph graph, Network cnn, int g, float[] posWeight, float learningRate, float dropout, long seed) {
    int size = cnn.imageSize();
    Ops tf = Ops.create(graph);
    Placeholder<TFloat32> x = tf.withName("train_image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
    Placeholder<TFloat32> y = tf.withName("train_label").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, g)));
    Map<String, float[]> init = cnn.initialValues(seed);
    Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
    for (PosterCnn.Param p : cnn.params()) {
      vars.put(p.name(), tf.withName(p.name().replace('/', '_')).variable(PosterCnn.constant(tf, p.shape(), init.get(p.name()))));
    }
    PosterCnn.TrainOutputs fwd = cnn.trainLogits(tf, x, vars, dropout, seed);
    Operand<TFloat32> logits = fwd.logits();
    // Weighted sigmoid cross-entropy on logits, stable form: softplus(z) = relu(z) + log1p(exp(-|z|)).
    Operand<TFloat32> softplus = tf.math.add(tf.nn.relu(logits), tf.math.log1p(tf.math.exp(tf.math.neg(tf.math.abs(logits)))));
    Operand<TFloat32> negTerm = tf.math.mul(tf.math.sub(tf.constant(1f), y), softplus);
    Operand<TFloat32> posTerm = tf.math.mul(tf.math.mul(y, tf.constant(posWeight)), tf.math.sub(softplus, logits));
    Operand<TFloat32> loss = tf.math.mean(tf.math.add(negTerm, posTerm), tf.constant(new int[] {0, 1}));
    Operand<TFloat32> probs = tf.math.sigmoid(logits);
    Op trainOp = new Adam(graph, learningRate).minimize(loss);
    return new TrainGraph(x, y, vars, fwd, loss, probs, trainOp);
  }

  /** Indices of the training and validation examples; validation sorted, training in shuffled order. */
  public record Split(List<Integer> train, List<Integer> validation) {}

  /**
   * The seeded split every architecture uses (so validation.txt is the same for the same data, seed
   * and fraction): shuffle 0..n-1 with {@code new Random(seed)}, the first round(n * fraction) (at
   * least 1) are validation. Mutable lists, for removing unreadable posters.
   */
  public static Split split(int n, long seed, double validationFraction) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) order.add(i);
    Collections.shuffle(order, new Random(seed));
    int nVal = (int) Math.max(1, Math.round(order.size() * validationFraction));
    List<Integer> valIdx = new ArrayList<>(order.subList(0, nVal));
    List<Integer> trainIdx = new ArrayList<>(order.subList(nVal, order.size()));
    Collections.sort(valIdx);
    return new Split(trainIdx, valIdx);
  }

  /** What a run produced. */
  public record Outcome(ModelSpec spec, Path dir, int bestEpoch, double seconds) {}

  private static final float SCALE = 1f / 255f; // the same factor as Preprocessor
  private static final float BN_MOMENTUM = 0.95f;
  public static final float MAX_POSITIVE_WEIGHT = 10f;

  private final Config cfg;
  private final TrainingLog trainingLog;

  public Trainer(Config cfg, PrintStream out) {
    this.cfg = cfg;
    this.trainingLog = new TrainingLog(out);
  }

  private void log(String format, Object... args) {
    trainingLog.log(format, args);
  }

  /** Trains on {@code data} and writes the model directory {@code outDir}. */
  public Outcome train(CcuDataset.Loaded data, Path outDir) throws IOException {
    long start = System.nanoTime();
    int threads = cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors();
    List<String> genres = data.genres();
    int g = genres.size();
    int size = cfg.imageSize();
    log("poster-genres train: %s, %d posters, %d genres", data.source(), data.examples().size(), g);
    log("dataset stats: %s", data.stats().toMap());
    log("genre counts: %s", data.genreCounts());
    if (data.examples().size() < 4) throw new IllegalArgumentException("need at least 4 labelled posters, found " + data.examples().size());

    // ---- seeded split; every poster decoded once through the shared Preprocessor, cached as bytes ----
    Prepared prep = prepare(data, cfg, size, threads, this::log);
    byte[][] cache = prep.cache();
    List<Integer> trainIdx = prep.trainIdx();
    List<Integer> valIdx = prep.valIdx();
    int unreadableTrain = prep.unreadableTrain();
    int unreadableVal = prep.unreadableVal();
    float[] labels = prep.labels();
    float[] valLabels = prep.valLabels();
    float[] trainLabels = prep.trainLabels();
    float[] posWeight = positiveWeights(trainLabels, g, cfg.positiveWeighting());
    log("positive weights (%s): %s", cfg.positiveWeighting(), describe(genres, posWeight));

    Network cnn = network(cfg, g);
    log("%s", cnn.summary(cfg.dropout()));

    ConfigProto tfConfig = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(Math.min(2, threads))
        .build();

    Files.createDirectories(outDir);
    List<String> history = new ArrayList<>();
    history.add("epoch,seconds,images_per_second,train_loss,train_weighted_loss,train_binary_accuracy,"
        + "val_loss,val_binary_accuracy,val_micro_f1,val_macro_auc,val_macro_ap");

    int bestEpoch = -1;
    double bestAuc = Double.NEGATIVE_INFINITY;
    Network.Frozen best = null;
    int epochsRun = 0;
    long trainStart = System.nanoTime();
    try (Graph graph = new Graph()) {
      TrainGraph tg = buildTrainGraph(graph, cnn, g, posWeight, cfg.learningRate(), cfg.dropout(), cfg.seed());
      Placeholder<TFloat32> x = tg.x();
      Placeholder<TFloat32> y = tg.y();
      Map<String, Variable<TFloat32>> vars = tg.vars();
      PosterCnn.TrainOutputs fwd = tg.fwd();
      Operand<TFloat32> loss = tg.loss();
      Operand<TFloat32> probs = tg.probs();
      Op trainOp = tg.trainOp();

      try (Session session = new Session(graph, tfConfig)) {
        session.initialize();
        int blocks = fwd.means().size();
        float[][] popMean = new float[blocks][];
        float[][] popVar = new float[blocks][];
        int perImage = size * size * 3;
        int b = cfg.batchSize();
        float[] batch = new float[b * perImage];
        float[] batchLabels = new float[b * g];
        Random random = new Random(cfg.seed() + 1);
        int stepsPerEpoch = (trainIdx.size() + b - 1) / b;
        List<Integer> shuffled = new ArrayList<>(trainIdx);
        double[] epochSeconds = new double[cfg.epochs()];

        for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
          double elapsedMin = (System.nanoTime() - start) / 6e10;
          if (cfg.timeLimitMinutes() > 0 && epoch > 1) {
            double perEpoch = Arrays.stream(epochSeconds, 0, epoch - 1).average().orElse(0) / 60;
            if (elapsedMin + perEpoch > cfg.timeLimitMinutes()) {
              log("stopping before epoch %d: %.1f min elapsed + %.1f min per epoch is over --time-limit %.1f min",
                  epoch, elapsedMin, perEpoch, cfg.timeLimitMinutes());
              break;
            }
          }
          long epochStart = System.nanoTime();
          Collections.shuffle(shuffled, new Random(cfg.seed() * 1000 + epoch));
          double weightedLossSum = 0;
          double lossSum = 0;
          long right = 0;
          long seen = 0;
          long lastReport = System.nanoTime();
          for (int step = 0; step < stepsPerEpoch; step++) {
            int from = step * b;
            int n = Math.min(b, shuffled.size() - from);
            for (int k = 0; k < n; k++) {
              int idx = shuffled.get(from + k);
              boolean flip = random.nextBoolean();
              fill(cache[idx], batch, k * perImage, size, cfg.augment() && flip);
              System.arraycopy(labels, idx * g, batchLabels, k * g, g);
            }
            float[] p = new float[n * g];
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(batch, true, false).narrow((long) n * perImage));
                TFloat32 yt = TFloat32.tensorOf(Shape.of(n, g), DataBuffers.of(batchLabels, true, false).narrow((long) n * g))) {
              Session.Runner runner = session.runner().feed(x, xt).feed(y, yt).addTarget(trainOp).fetch(loss).fetch(probs);
              for (int k = 0; k < blocks; k++) runner.fetch(fwd.means().get(k)).fetch(fwd.variances().get(k));
              try (Result r = runner.run()) {
                weightedLossSum += ((TFloat32) r.get(0)).getFloat() * n;
                ((TFloat32) r.get(1)).copyTo(DataBuffers.of(p, false, false));
                for (int k = 0; k < blocks; k++) {
                  float[] m = toArray((TFloat32) r.get(2 + 2 * k));
                  float[] v = toArray((TFloat32) r.get(3 + 2 * k));
                  popMean[k] = ema(popMean[k], m);
                  popVar[k] = ema(popVar[k], v);
                }
              }
            }
            float[] yl = Arrays.copyOf(batchLabels, n * g);
            lossSum += Metrics.logLoss(p, yl) * n;
            float[] pred = Metrics.threshold(p, g, Metrics.constantThresholds(g, 0.5f));
            right += Math.round(Metrics.binaryAccuracy(pred, yl) * n * g);
            seen += n;
            long now = System.nanoTime();
            if (now - lastReport > 30e9 || step == stepsPerEpoch - 1) {
              lastReport = now;
              double secs = (now - epochStart) / 1e9;
              double ips = seen / secs;
              double epochLeft = (shuffled.size() - seen) / ips;
              double totalLeft = epochLeft + (cfg.epochs() - epoch) * (shuffled.size() / ips + valIdx.size() / (ips * 3));
              log("  epoch %d/%d step %d/%d  loss %.4f  acc %.4f  %.1f images/s  epoch left %s  run left ~%s",
                  epoch, cfg.epochs(), step + 1, stepsPerEpoch, lossSum / seen, (double) right / (seen * g), ips,
                  duration(epochLeft), duration(totalLeft));
            }
          }
          double trainSeconds = (System.nanoTime() - epochStart) / 1e9;

          // ---- validate with the frozen inference graph (the graph that is exported) ----
          Map<String, float[]> weights = readWeights(session, vars);
          Network.Frozen frozen = cnn.freezeWeights(weights, Arrays.asList(popMean), Arrays.asList(popVar));
          float[] valScores;
          try (FrozenModel model = new FrozenModel(cnn, frozen, g, tfConfig)) {
            valScores = score(model::predict, cache, valIdx, size, g, b);
          }
          float[] valPred = Metrics.threshold(valScores, g, Metrics.constantThresholds(g, 0.5f));
          double valLoss = Metrics.logLoss(valScores, valLabels);
          double valAcc = Metrics.binaryAccuracy(valPred, valLabels);
          double valF1 = Metrics.microF1(valPred, valLabels);
          double valAuc = Metrics.nanMean(Metrics.aucs(valScores, valLabels, g));
          double valAp = Metrics.nanMean(Metrics.averagePrecisions(valScores, valLabels, g));
          double seconds = (System.nanoTime() - epochStart) / 1e9;
          epochSeconds[epoch - 1] = seconds;
          epochsRun = epoch;
          log("epoch %d/%d  %.0fs (%.1f images/s)  loss %.4f (weighted %.4f)  acc %.4f  val_loss %.4f  val_acc %.4f  "
                  + "val_micro_f1@0.5 %.4f  val_macro_auc %.4f  val_macro_ap %.4f%s",
              epoch, cfg.epochs(), seconds, seen / trainSeconds, lossSum / seen, weightedLossSum / seen,
              (double) right / (seen * g), valLoss, valAcc, valF1, valAuc, valAp, valAuc > bestAuc ? "  (best)" : "");
          history.add(String.format(Locale.ROOT, "%d,%.1f,%.2f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f",
              epoch, seconds, seen / trainSeconds, lossSum / seen, weightedLossSum / seen, (double) right / (seen * g),
              valLoss, valAcc, valF1, valAuc, valAp));
          Files.write(outDir.resolve("training-history.csv"), history, StandardCharsets.UTF_8);
          if (valAuc > bestAuc || best == null) {
            bestAuc = valAuc;
            bestEpoch = epoch;
            best = frozen;
          }
        }
      }
    }
    double trainingSeconds = (System.nanoTime() - trainStart) / 1e9;
    try {
      List<Path> charts = TrainingCharts.render(outDir.resolve("training-history.csv"), outDir);
      log("training curves: %s", charts.stream().map(p -> p.getFileName().toString()).toList());
    } catch (IOException | RuntimeException e) {
      log("training curves not drawn: %s", e);
    }
    log("trained %d epochs in %s; exporting epoch %d (best validation macro ROC-AUC %.4f)",
        epochsRun, duration(trainingSeconds), bestEpoch, bestAuc);

    // ---- export the frozen inference graph ----
    for (String f : List.of("saved_model.pb", ModelSpec.FILE_NAME)) Files.deleteIfExists(outDir.resolve(f));
    deleteTree(outDir.resolve("variables"));
    try (FrozenModel model = new FrozenModel(cnn, best, g, tfConfig)) {
      model.export(outDir);
    }

    // ---- score validation through the exported SavedModel, calibrate thresholds, write model.json ----
    Map<String, Double> half = new LinkedHashMap<>();
    for (String genre : genres) half.put(genre, 0.5);
    ModelSpec provisional = new ModelSpec(cnn.arch(), cfg.version(), size, size, genres, half, 1, Math.min(3, g), Map.of());
    float[] valScores;
    try (PosterModel loaded = PosterModel.load(outDir, provisional, threads, Math.min(2, threads))) {
      valScores = score(loaded::predict, cache, valIdx, size, g, cfg.batchSize());
    }
    int maxGenres = Math.min(3, g);
    float[] thresholds = calibrate(valScores, valLabels, g, maxGenres);
    Map<String, Double> thresholdMap = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) thresholdMap.put(genres.get(j), Math.round(thresholds[j] * 100) / 100.0);
    Map<String, Object> validation = validationMetrics(valScores, valLabels, g, thresholds, genres, maxGenres);
    Map<String, Object> baselines = baselines(trainLabels, valLabels, g, genres, maxGenres);
    log("validation (%d posters, exported model, epoch %d): %s", valIdx.size(), bestEpoch, validation);
    log("baselines on the same validation posters: %s", baselines);

    writeValidationList(outDir, data, valIdx, cfg);

    double totalSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("dataset", data.source());
    source.put("dataset_stats", data.stats().toMap());
    source.put("split", splitInfo(trainIdx.size(), valIdx.size(), cfg, unreadableTrain + unreadableVal));
    Map<String, Object> arch = cnn.describe(cfg.dropout());
    source.put("architecture", arch);
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("epochs_requested", cfg.epochs());
    training.put("epochs_run", epochsRun);
    training.put("exported_epoch", bestEpoch);
    training.put("epoch_selection", "best validation macro ROC-AUC");
    training.put("batch_size", cfg.batchSize());
    training.put("optimizer", "Adam lr " + cfg.learningRate());
    training.put("loss", cfg.positiveWeighting().equals("none") ? "sigmoid binary cross-entropy (plain, no class weighting)"
        : "sigmoid binary cross-entropy, positive weight per genre (" + cfg.positiveWeighting() + " of neg/pos, at most " + MAX_POSITIVE_WEIGHT + ")");
    training.put("augmentation", cfg.augment() ? "random horizontal flip" : "none");
    training.put("preprocessing", "io.postergenres.image.Preprocessor (stretch to " + size + "x" + size + ", RGB, [0,1])");
    training.put("training_seconds", round(trainingSeconds, 1));
    training.put("total_seconds", round(totalSeconds, 1));
    training.put("threads", threads);
    training.put("tensorflow_java", "1.1.0");
    source.put("training", training);
    source.put("validation_metrics", validation);
    source.put("baselines", baselines);
    source.put("per_genre", perGenre(valScores, valLabels, trainLabels, g, genres, thresholds));
    source.put("history", "training-history.csv");

    ModelSpec spec = new ModelSpec(cnn.arch(), cfg.version(), size, size, genres, thresholdMap, 1, maxGenres, source);
    Files.write(outDir.resolve(ModelSpec.FILE_NAME), spec.toJson());
    log("wrote model to %s in %s total", outDir, duration(totalSeconds));
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    // The directory must pass the same checks the labelling job makes.
    ModelPackage pkg = ModelPackage.read(outDir.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    log("model package check passed: %d bytes, fingerprint %s", pkg.sizeBytes(), pkg.fingerprint().substring(0, 16));
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    return new Outcome(spec, outDir, bestEpoch, totalSeconds);
  }

  // ------------------------------------------------------------------ data

  /** The posters of a training run, decoded and split, with their label rows. */
  public record Prepared(byte[][] cache, List<Integer> trainIdx, List<Integer> valIdx, int unreadableTrain, int unreadableVal,
      float[] labels, float[] trainLabels, float[] valLabels) {}

  /**
   * The seeded split of {@code data} ({@link #split}), every poster decoded once at {@code size}
   * ({@link #decodeAll}; unreadable ones dropped from both sides and counted), and the label rows (all,
   * by dataset index; and each side) in the dataset's genre order. Shared by every trainer.
   */
  public static Prepared prepare(CcuDataset.Loaded data, Config cfg, int size, int threads, Log log) throws IOException {
    int g = data.genres().size();
    Split seeded = split(data.examples().size(), cfg.seed(), cfg.validationFraction());
    List<Integer> trainIdx = seeded.train();
    List<Integer> valIdx = seeded.validation();
    byte[][] cache = decodeAll(data.examples(), size, threads, cfg.maxPixels(), log);
    int unreadableTrain = (int) trainIdx.stream().filter(i -> cache[i] == null).count();
    int unreadableVal = (int) valIdx.stream().filter(i -> cache[i] == null).count();
    trainIdx.removeIf(i -> cache[i] == null);
    valIdx.removeIf(i -> cache[i] == null);
    log.log("split (seed %d, validation fraction %.2f): %d train, %d validation; unreadable posters skipped: %d train, %d validation",
        cfg.seed(), cfg.validationFraction(), trainIdx.size(), valIdx.size(), unreadableTrain, unreadableVal);
    if (trainIdx.isEmpty() || valIdx.isEmpty()) throw new IllegalArgumentException("too few readable posters to train and validate");
    float[] labels = new float[data.examples().size() * g];
    for (int i = 0; i < data.examples().size(); i++) {
      for (String genre : data.examples().get(i).genres()) labels[i * g + data.genres().indexOf(genre)] = 1f;
    }
    return new Prepared(cache, trainIdx, valIdx, unreadableTrain, unreadableVal, labels, gatherLabels(labels, trainIdx, g),
        gatherLabels(labels, valIdx, g));
  }

  /** Progress lines of a training run. */
  @FunctionalInterface
  public interface Log {
    void log(String format, Object... args);
  }

  /**
   * Decodes every poster once through the shared {@link Preprocessor}, in parallel, and keeps each
   * as H x W x 3 bytes (the preprocessed values times 255: exact, since they came from 8-bit
   * pixels), never as floats. Unreadable posters are left null and counted in the log.
   */
  public static byte[][] decodeAll(List<CcuDataset.Example> examples, int size, int threads, long maxPixels, Log logger)
      throws IOException {
    return decodeAll(examples, size, size, threads, maxPixels, logger);
  }

  /** {@link #decodeAll(List, int, int, long, Log)} at {@code height x width}. */
  public static byte[][] decodeAll(List<CcuDataset.Example> examples, int height, int width, int threads, long maxPixels, Log logger)
      throws IOException {
    long t0 = System.nanoTime();
    Preprocessor pre = new Preprocessor(height, width, maxPixels);
    byte[][] cache = new byte[examples.size()][];
    AtomicInteger done = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      int chunk = (examples.size() + threads - 1) / threads;
      for (int t = 0; t < threads; t++) {
        int from = t * chunk;
        int to = Math.min(examples.size(), from + chunk);
        futures.add(pool.submit(() -> {
          float[] buf = new float[height * width * 3];
          for (int i = from; i < to; i++) {
            Path path = examples.get(i).path();
            try {
              pre.preprocessInto(Files.readAllBytes(path), buf, 0);
              byte[] bytes = new byte[buf.length];
              for (int k = 0; k < buf.length; k++) bytes[k] = (byte) Math.round(buf[k] * 255f);
              cache[i] = bytes;
            } catch (PosterException | IOException e) {
              failed.incrementAndGet();
              failures.add(path + ": " + e.getMessage());
            }
            int d = done.incrementAndGet();
            if (d % 1000 == 0) logger.log("  decoded %d/%d posters", d, examples.size());
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IOException("decoding posters failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while decoding posters", e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    logger.log("decoded %d posters at %dx%d in %.1fs (%d unreadable, skipped)%s", examples.size(), height, width,
        (System.nanoTime() - t0) / 1e9, failed.get(),
        failures.isEmpty() ? "" : "; first: " + failures.subList(0, Math.min(3, failures.size())));
    return cache;
  }

  /** Byte cache of one poster to floats, flipped left-right when asked; the same values Preprocessor writes. */
  public static void fill(byte[] src, float[] dest, int offset, int size, boolean flip) {
    fill(src, dest, offset, size, size, flip);
  }

  /** {@link #fill(byte[], float[], int, int, boolean)} for a {@code height x width} poster. */
  public static void fill(byte[] src, float[] dest, int offset, int height, int width, boolean flip) {
    if (!flip) {
      for (int k = 0; k < src.length; k++) dest[offset + k] = (src[k] & 0xFF) * SCALE;
      return;
    }
    int row = width * 3;
    for (int yy = 0; yy < height; yy++) {
      int base = yy * row;
      for (int xx = 0; xx < width; xx++) {
        int s = base + (width - 1 - xx) * 3;
        int d = offset + base + xx * 3;
        dest[d] = (src[s] & 0xFF) * SCALE;
        dest[d + 1] = (src[s + 1] & 0xFF) * SCALE;
        dest[d + 2] = (src[s + 2] & 0xFF) * SCALE;
      }
    }
  }

  public static float[] gatherLabels(float[] labels, List<Integer> idx, int g) {
    float[] out = new float[idx.size() * g];
    for (int k = 0; k < idx.size(); k++) System.arraycopy(labels, idx.get(k) * g, out, k * g, g);
    return out;
  }

  /** Per-genre weight of positives in the loss: none, sqrt or linear of negatives/positives, within [1, 10]. */
  public static float[] positiveWeights(float[] trainLabels, int g, String weighting) {
    int n = trainLabels.length / g;
    float[] w = new float[g];
    for (int j = 0; j < g; j++) {
      int pos = 0;
      for (int i = 0; i < n; i++) if (trainLabels[i * g + j] > 0.5f) pos++;
      double ratio = (n - pos) / (double) Math.max(1, pos);
      double v = switch (weighting) {
        case "sqrt" -> Math.sqrt(ratio);
        case "linear" -> ratio;
        default -> 1.0;
      };
      w[j] = (float) Math.max(1.0, Math.min(MAX_POSITIVE_WEIGHT, v));
    }
    return w;
  }

  // ------------------------------------------------------------------ TF helpers

  public static float[] toArray(TFloat32 t) {
    float[] a = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  private static float[] ema(float[] running, float[] batch) {
    if (running == null) return batch.clone();
    for (int i = 0; i < running.length; i++) running[i] = BN_MOMENTUM * running[i] + (1 - BN_MOMENTUM) * batch[i];
    return running;
  }

  private static Map<String, float[]> readWeights(Session session, Map<String, Variable<TFloat32>> vars) {
    Map<String, float[]> w = new LinkedHashMap<>();
    Session.Runner runner = session.runner();
    for (Variable<TFloat32> v : vars.values()) runner.fetch(v);
    try (Result r = runner.run()) {
      int k = 0;
      for (String name : vars.keySet()) w.put(name, toArray((TFloat32) r.get(k++)));
    }
    return w;
  }

  /** Scores cached posters in batches through any model (the training graph's frozen copy, or the exported one). */
  private static float[] score(java.util.function.BiFunction<float[], Integer, float[]> predict, byte[][] cache,
      List<Integer> idx, int size, int g, int b) {
    int perImage = size * size * 3;
    float[] batch = new float[b * perImage];
    float[] out = new float[idx.size() * g];
    for (int from = 0; from < idx.size(); from += b) {
      int n = Math.min(b, idx.size() - from);
      for (int k = 0; k < n; k++) fill(cache[idx.get(from + k)], batch, k * perImage, size, false);
      System.arraycopy(predict.apply(batch, n), 0, out, from * g, n * g);
    }
    return out;
  }

  // ------------------------------------------------------------------ reporting

  /**
   * Per-genre thresholds for model.json: each genre's best-F1 threshold, then moved to maximise the
   * micro-F1 of the job's decisions (at least 1, at most {@code maxGenres} genres per poster).
   */
  public static float[] calibrate(float[] scores, float[] labels, int g, int maxGenres) {
    float[] start = Metrics.bestF1Thresholds(scores, labels, g, 0.5f);
    return Metrics.bestRuleMicroF1Thresholds(scores, labels, g, start, 1, maxGenres);
  }

  /** Decisions the labelling job would make: thresholds, then at least 1 and at most max genres. */
  public static float[] assign(float[] scores, int g, float[] thresholds, List<String> genres, int maxGenres) {
    GenreRules rules = new GenreRules(genres, thresholds, 1, maxGenres);
    float[] out = new float[scores.length];
    for (int i = 0; i < scores.length / g; i++) {
      for (String genre : rules.assign(scores, i * g)) out[i * g + genres.indexOf(genre)] = 1f;
    }
    return out;
  }

  public static Map<String, Object> validationMetrics(float[] scores, float[] labels, int g, float[] thresholds,
      List<String> genres, int maxGenres) {
    Map<String, Object> m = new LinkedHashMap<>();
    float[] at05 = Metrics.threshold(scores, g, Metrics.constantThresholds(g, 0.5f));
    float[] calibrated = assign(scores, g, thresholds, genres, maxGenres);
    m.put("loss", round(Metrics.logLoss(scores, labels), 4));
    m.put("binary_accuracy_at_0.5", round(Metrics.binaryAccuracy(at05, labels), 4));
    m.put("micro_f1_at_0.5", round(Metrics.microF1(at05, labels), 4));
    m.put("macro_roc_auc", round(Metrics.nanMean(Metrics.aucs(scores, labels, g)), 4));
    m.put("macro_average_precision", round(Metrics.nanMean(Metrics.averagePrecisions(scores, labels, g)), 4));
    m.put("binary_accuracy_with_thresholds_and_rules", round(Metrics.binaryAccuracy(calibrated, labels), 4));
    m.put("micro_f1_with_thresholds_and_rules", round(Metrics.microF1(calibrated, labels), 4));
    m.put("macro_f1_with_thresholds_and_rules", round(Metrics.macroF1(calibrated, labels, g), 4));
    // The thresholds were tuned on these posters, so the figures above flatter the model. Cross-calibrate:
    // tune on one half of the validation posters, apply to the other, both ways.
    int n = scores.length / g;
    List<Integer> a = new ArrayList<>();
    List<Integer> b = new ArrayList<>();
    for (int i = 0; i < n; i++) (i % 2 == 0 ? a : b).add(i);
    float[] crossPred = new float[scores.length];
    for (int pass = 0; pass < 2; pass++) {
      List<Integer> tune = pass == 0 ? a : b;
      List<Integer> apply = pass == 0 ? b : a;
      float[] t = calibrate(gatherLabels(scores, tune, g), gatherLabels(labels, tune, g), g, maxGenres);
      float[] pred = assign(gatherLabels(scores, apply, g), g, t, genres, maxGenres);
      for (int k = 0; k < apply.size(); k++) System.arraycopy(pred, k * g, crossPred, apply.get(k) * g, g);
    }
    m.put("micro_f1_cross_calibrated", round(Metrics.microF1(crossPred, labels), 4));
    m.put("macro_f1_cross_calibrated", round(Metrics.macroF1(crossPred, labels, g), 4));
    double assigned = 0;
    for (float v : calibrated) assigned += v;
    m.put("mean_genres_assigned", round(assigned / n, 2));
    return m;
  }

  public static Map<String, Object> baselines(float[] trainLabels, float[] valLabels, int g, List<String> genres, int maxGenres) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("all_negative_binary_accuracy", round(Metrics.binaryAccuracy(new float[valLabels.length], valLabels), 4));
    int[] counts = new int[g];
    for (int i = 0; i < trainLabels.length; i++) if (trainLabels[i] > 0.5f) counts[i % g]++;
    Integer[] order = new Integer[g];
    for (int j = 0; j < g; j++) order[j] = j;
    Arrays.sort(order, (p, q) -> counts[q] - counts[p]);
    int top = Math.min(2, g);
    float[] constant = new float[valLabels.length];
    List<String> names = new ArrayList<>();
    for (int k = 0; k < top; k++) names.add(genres.get(order[k]));
    for (int i = 0; i < valLabels.length / g; i++) for (int k = 0; k < top; k++) constant[i * g + order[k]] = 1f;
    m.put("top2_genres", names);
    m.put("top2_micro_f1", round(Metrics.microF1(constant, valLabels), 4));
    m.put("top2_macro_f1", round(Metrics.macroF1(constant, valLabels, g), 4));
    m.put("top2_binary_accuracy", round(Metrics.binaryAccuracy(constant, valLabels), 4));
    m.put("chance_macro_roc_auc", 0.5);
    return m;
  }

  public static Map<String, Object> perGenre(float[] scores, float[] labels, float[] trainLabels, int g,
      List<String> genres, float[] thresholds) {
    double[] aucs = Metrics.aucs(scores, labels, g);
    double[] aps = Metrics.averagePrecisions(scores, labels, g);
    Map<String, Object> m = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) {
      int trainPos = 0;
      int valPos = 0;
      for (int i = j; i < trainLabels.length; i += g) if (trainLabels[i] > 0.5f) trainPos++;
      for (int i = j; i < labels.length; i += g) if (labels[i] > 0.5f) valPos++;
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("train_positives", trainPos);
      e.put("validation_positives", valPos);
      e.put("roc_auc", round(aucs[j], 4));
      e.put("average_precision", round(aps[j], 4));
      e.put("threshold", round(thresholds[j], 2));
      m.put(genres.get(j), e);
    }
    return m;
  }

  /** {@code v} to {@code digits} decimals; null for NaN and infinities (JSON has none). */
  public static Double round(double v, int digits) {
    return Metrics.round(v, digits);
  }

  private static String describe(List<String> genres, float[] values) {
    StringBuilder s = new StringBuilder("{");
    for (int j = 0; j < genres.size(); j++) {
      if (j > 0) s.append(", ");
      s.append(genres.get(j)).append('=').append(String.format(Locale.ROOT, "%.2f", values[j]));
    }
    return s.append('}').toString();
  }

  public static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }

  /** Deletes {@code dir} and all below it, if it exists. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  /** Writes validation.txt: the held-out posters, relative to the dataset root, so a split can be reproduced. */
  public static void writeValidationList(Path outDir, CcuDataset.Loaded data, List<Integer> valIdx, Config cfg) throws IOException {
    List<String> valLines = new ArrayList<>();
    Path root = Path.of(data.source()).toAbsolutePath();
    Path rootDir = Files.isDirectory(root) ? root : root.getParent();
    valLines.add("# validation posters (seed " + cfg.seed() + ", fraction " + cfg.validationFraction() + "), relative to " + rootDir);
    for (int i : valIdx) {
      Path p = data.examples().get(i).path().toAbsolutePath();
      valLines.add((p.startsWith(rootDir) ? rootDir.relativize(p) : p).toString().replace('\\', '/'));
    }
    Files.write(outDir.resolve("validation.txt"), valLines, StandardCharsets.UTF_8);
  }

  /** The "split" entry of model.json's source. */
  public static Map<String, Object> splitInfo(int train, int validation, Config cfg, int unreadable) {
    Map<String, Object> split = new LinkedHashMap<>();
    split.put("train", train);
    split.put("validation", validation);
    split.put("validation_fraction", cfg.validationFraction());
    split.put("seed", cfg.seed());
    split.put("unreadable_skipped", unreadable);
    split.put("validation_list", "validation.txt");
    return split;
  }
}
