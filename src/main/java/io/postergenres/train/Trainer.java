package io.postergenres.train;

import io.postergenres.image.Preprocessor;
import io.postergenres.metrics.Metrics;
import io.postergenres.metrics.RuleCalibration;
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
  /** The network {@code cfg} names, for {@code genres} outputs. */
  public static Network network(TrainingConfig cfg, int genres) {
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


  private static final float BN_MOMENTUM = 0.95f;

  private final TrainingConfig cfg;
  private final TrainingLog trainingLog;

  public Trainer(TrainingConfig cfg, PrintStream out) {
    this.cfg = cfg;
    this.trainingLog = new TrainingLog(out);
  }

  private void log(String format, Object... args) {
    trainingLog.log(format, args);
  }

  /** Trains on {@code data} and writes the model directory {@code outDir}. */
  public TrainingOutcome train(CcuDataset.Loaded data, Path outDir) throws IOException {
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
    TrainingData.Prepared prep = TrainingData.prepare(data, cfg, size, threads, this::log);
    byte[][] cache = prep.cache();
    List<Integer> trainIdx = prep.trainIdx();
    List<Integer> valIdx = prep.valIdx();
    int unreadableTrain = prep.unreadableTrain();
    int unreadableVal = prep.unreadableVal();
    float[] labels = prep.labels();
    float[] valLabels = prep.valLabels();
    float[] trainLabels = prep.trainLabels();
    float[] posWeight = TrainingData.positiveWeights(trainLabels, g, cfg.positiveWeighting());
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
              TrainingData.fill(cache[idx], batch, k * perImage, size, cfg.augment() && flip);
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
                  float[] m = TrainingData.toArray((TFloat32) r.get(2 + 2 * k));
                  float[] v = TrainingData.toArray((TFloat32) r.get(3 + 2 * k));
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
                  TrainingReport.duration(epochLeft), TrainingReport.duration(totalLeft));
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
        epochsRun, TrainingReport.duration(trainingSeconds), bestEpoch, bestAuc);

    // ---- export the frozen inference graph ----
    for (String f : List.of("saved_model.pb", ModelSpec.FILE_NAME)) Files.deleteIfExists(outDir.resolve(f));
    TrainingReport.deleteTree(outDir.resolve("variables"));
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
    // kept to 4 decimals as written, and the figures below computed with what is written
    float[] thresholds = RuleCalibration.asWritten(TrainingReport.calibrate(valScores, valLabels, g, maxGenres));
    Map<String, Double> thresholdMap = RuleCalibration.thresholdMap(genres, thresholds);
    Map<String, Object> validation = TrainingReport.validationMetrics(valScores, valLabels, g, thresholds, genres, maxGenres);
    Map<String, Object> baselines = TrainingReport.baselines(trainLabels, valLabels, g, genres, maxGenres);
    log("validation (%d posters, exported model, epoch %d): %s", valIdx.size(), bestEpoch, validation);
    log("baselines on the same validation posters: %s", baselines);

    TrainingData.writeValidationList(outDir, data, valIdx, cfg);

    double totalSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("dataset", data.source());
    source.put("dataset_stats", data.stats().toMap());
    source.put("split", TrainingData.splitInfo(trainIdx.size(), valIdx.size(), cfg, unreadableTrain + unreadableVal));
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
        : "sigmoid binary cross-entropy, positive weight per genre (" + cfg.positiveWeighting() + " of neg/pos, at most " + TrainingData.MAX_POSITIVE_WEIGHT + ")");
    training.put("augmentation", cfg.augment() ? "random horizontal flip" : "none");
    training.put("preprocessing", "io.postergenres.image.Preprocessor (stretch to " + size + "x" + size + ", RGB, [0,1])");
    training.put("training_seconds", TrainingReport.round(trainingSeconds, 1));
    training.put("total_seconds", TrainingReport.round(totalSeconds, 1));
    training.put("threads", threads);
    training.put("tensorflow_java", "1.1.0");
    source.put("training", training);
    source.put("validation_metrics", validation);
    source.put("baselines", baselines);
    source.put("per_genre", TrainingReport.perGenre(valScores, valLabels, trainLabels, g, genres, thresholds));
    source.put("history", "training-history.csv");

    ModelSpec spec = new ModelSpec(cnn.arch(), cfg.version(), size, size, genres, thresholdMap, 1, maxGenres, source);
    Files.write(outDir.resolve(ModelSpec.FILE_NAME), spec.toJson());
    log("wrote model to %s in %s total", outDir, TrainingReport.duration(totalSeconds));
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    // The directory must pass the same checks the labelling job makes.
    ModelPackage pkg = ModelPackage.read(outDir.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    log("model package check passed: %d bytes, fingerprint %s", pkg.sizeBytes(), pkg.fingerprint().substring(0, 16));
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    return new TrainingOutcome(spec, outDir, bestEpoch, totalSeconds);
  }

  // ------------------------------------------------------------------ TF helpers

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
      for (String name : vars.keySet()) w.put(name, TrainingData.toArray((TFloat32) r.get(k++)));
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
      for (int k = 0; k < n; k++) TrainingData.fill(cache[idx.get(from + k)], batch, k * perImage, size, false);
      System.arraycopy(predict.apply(batch, n), 0, out, from * g, n * g);
    }
    return out;
  }

  private static String describe(List<String> genres, float[] values) {
    StringBuilder s = new StringBuilder("{");
    for (int j = 0; j < genres.size(); j++) {
      if (j > 0) s.append(", ");
      s.append(genres.get(j)).append('=').append(String.format(Locale.ROOT, "%.2f", values[j]));
    }
    return s.append('}').toString();
  }
}
