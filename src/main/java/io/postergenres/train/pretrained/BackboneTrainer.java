package io.postergenres.train.pretrained;

import io.postergenres.image.Preprocessor;
import io.postergenres.metrics.Metrics;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import io.postergenres.train.Architecture;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.TrainingConfig;
import io.postergenres.train.TrainingData;
import io.postergenres.train.TrainingOutcome;
import io.postergenres.train.TrainingReport;
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
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
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
 * {@code train --arch pretrained}: a genre head on a frozen pretrained network of nsfwjs ({@link
 * KerasBackbone}: MobileNetV2 or InceptionV3).
 *
 * <p>Every poster goes once through the shared {@link Preprocessor} at the backbone's input size
 * and once (training posters twice, the second time flipped left-right, when augmenting) through
 * the frozen backbone; the features are standardised (mean and standard deviation of the training
 * posters, baked into the exported graph); the head (dense {@code hidden} ReLU + dropout, dense G;
 * or dense G alone when {@code hidden} is 0) is trained with Adam on them with the same loss as
 * postercnn (sigmoid binary cross-entropy, positives weighted by the square root of
 * negatives/positives, at most 10: {@link TrainingData#positiveWeights}). The split is
 * {@link TrainingData#split}, so the validation posters are the same as postercnn's. The epoch
 * with the best validation macro ROC-AUC is exported as one SavedModel (backbone + head, all
 * constants, image [-1,224,224,3] in [0,1] to sigmoid scores [-1,G]), whose validation scores
 * calibrate the per-genre thresholds in model.json.
 */
public final class BackboneTrainer {
  public static final String ARCH = Architecture.PRETRAINED.cliName();
  public static final String MODEL_NAME = "postercnn-pretrained";
  private static final int EXTRACT_BATCH = 32;

  private final TrainingConfig cfg;
  private final Path backboneDir;
  private final int hidden;
  private final KerasBackbone.InputScaling scaling;
  private final List<String> featureLayers;
  private final Path featureCache;
  private final Path ensembleWith;
  private final io.postergenres.train.TrainingLog trainingLog;

  /**
   * @param featureLayers backbone layers whose pooled outputs are the features (empty: its last)
   * @param ensembleWith one of our trained models, validated on the same posters, to average with
   *     (logits, weight chosen on validation) inside the exported model; null for none
   * @param featureCache folder where extracted features are kept and looked up (null: none); the
   *     file name holds everything they depend on, so a changed setting extracts anew
   */
  public BackboneTrainer(TrainingConfig cfg, Path backboneDir, int hidden, KerasBackbone.InputScaling scaling,
      List<String> featureLayers, Path featureCache, Path ensembleWith, PrintStream out) {
    if (Architecture.parse(cfg.arch()) != Architecture.PRETRAINED) throw new IllegalArgumentException("config is for --arch " + cfg.arch());
    if (hidden < 0) throw new IllegalArgumentException("--hidden must be 0 (linear head) or more, got " + hidden);
    this.cfg = cfg;
    this.backboneDir = backboneDir;
    this.hidden = hidden;
    this.scaling = scaling;
    this.featureLayers = List.copyOf(featureLayers);
    this.featureCache = featureCache;
    this.ensembleWith = ensembleWith;
    this.trainingLog = new io.postergenres.train.TrainingLog(out);
  }

  private void log(String format, Object... args) {
    trainingLog.log(format, args);
  }


  public TrainingOutcome train(CcuDataset.Loaded data, Path outDir) throws IOException {
    long start = System.nanoTime();
    int threads = cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors();
    List<String> genres = data.genres();
    int g = genres.size();
    log("poster-genres train --arch %s: %s, %d posters, %d genres", ARCH, data.source(), data.examples().size(), g);
    log("dataset stats: %s", data.stats().toMap());
    KerasBackbone backbone;
    try {
      backbone = new KerasBackbone(backboneDir, scaling, featureLayers);
    } catch (IOException e) {
      throw new IllegalArgumentException("--backbone/--feature-layers: " + e.getMessage(), e);
    }
    int size = backbone.imageSize();
    log("backbone: %s %s (%s), %d weights, %d parameters; input %dx%d, scaling %s; features: pooled %s; head: %s",
        backbone.kind(), backboneDir, backbone.weights().format(), backbone.weights().weights().size(),
        backbone.backboneParameterCount(), size, size, scaling, backbone.featureLayers(), hidden > 0 ? "dense " + hidden + " ReLU, dropout " + cfg.dropout() + ", dense " + g : "dense " + g);

    TrainingData.Prepared prep = TrainingData.prepare(data, cfg, size, threads, this::log);
    byte[][] cache = prep.cache();
    List<Integer> trainIdx = prep.trainIdx();
    List<Integer> valIdx = prep.valIdx();
    int unreadableTrain = prep.unreadableTrain();
    int unreadableVal = prep.unreadableVal();
    float[] valLabels = prep.valLabels();
    float[] trainLabels = prep.trainLabels();
    float[] posWeight = TrainingData.positiveWeights(trainLabels, g, cfg.positiveWeighting());

    ConfigProto tfConfig = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(Math.min(2, threads))
        .build();

    // ---- features, once per poster (training posters also flipped), or from the cache ----
    long t0 = System.nanoTime();
    float[] trainFeat;
    float[] trainFeatFlip = null;
    float[] valFeat;
    Path cacheFile = featureCache == null ? null : featureCache.resolve(cacheKey(data, backbone, trainIdx, valIdx) + ".features");
    float[][] cached = cacheFile == null ? null : readFeatures(cacheFile);
    if (cached != null) {
      valFeat = cached[0];
      trainFeat = cached[1];
      trainFeatFlip = cfg.augment() ? cached[2] : null;
      log("features: read from %s", cacheFile);
    } else {
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
        Operand<TFloat32> feats = backbone.features(tf, x);
        int width = (int) feats.shape().size(1);
        try (Session session = new Session(graph, tfConfig)) {
          int total = valIdx.size() + trainIdx.size() * 2;
          int[] done = {0};
          valFeat = extract(session, x, feats, width, cache, valIdx, size, false, done, total, t0);
          trainFeat = extract(session, x, feats, width, cache, trainIdx, size, false, done, total, t0);
          trainFeatFlip = extract(session, x, feats, width, cache, trainIdx, size, true, done, total, t0);
        }
      }
      if (cacheFile != null) {
        writeFeatures(cacheFile, valFeat, trainFeat, trainFeatFlip);
        log("features: kept in %s", cacheFile);
      }
      if (!cfg.augment()) trainFeatFlip = null;
    }
    int f = valFeat.length / valIdx.size();
    double extractSeconds = (System.nanoTime() - t0) / 1e9;
    log("features: %d per poster, %d posters in %s", f, valIdx.size() + trainIdx.size() * 2, TrainingReport.duration(extractSeconds));
    for (int i : trainIdx) cache[i] = null; // only validation posters are needed again

    // Standardise with the training posters' statistics (the same affine map goes into the export).
    float[][] norm = standardisation(trainFeat, trainFeatFlip, f);
    standardise(valFeat, norm);
    standardise(trainFeat, norm);
    if (trainFeatFlip != null) standardise(trainFeatFlip, norm);

    // ---- train the head on the features ----
    Files.createDirectories(outDir);
    List<String> history = new ArrayList<>();
    history.add("epoch,seconds,images_per_second,train_loss,train_weighted_loss,train_binary_accuracy,"
        + "val_loss,val_binary_accuracy,val_micro_f1,val_macro_auc,val_macro_ap");
    long trainStart = System.nanoTime();
    HeadTrainer.Head best = null;
    int bestEpoch = -1;
    double bestAuc = Double.NEGATIVE_INFINITY;
    int epochsRun = 0;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, f)));
      Placeholder<TFloat32> y = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, g)));
      Placeholder<TFloat32> keep = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Random init = new Random(cfg.seed());
      int h = hidden > 0 ? hidden : f;
      Variable<TFloat32> w1 = hidden > 0 ? tf.variable(HeadTrainer.constant(tf, new long[] {f, h}, HeadTrainer.normal(init, f * h, Math.sqrt(2.0 / f)))) : null;
      Variable<TFloat32> b1 = hidden > 0 ? tf.variable(HeadTrainer.constant(tf, new long[] {h}, new float[h])) : null;
      Variable<TFloat32> w2 = tf.variable(HeadTrainer.constant(tf, new long[] {h, g}, HeadTrainer.normal(init, h * g, Math.sqrt(1.0 / h))));
      Variable<TFloat32> b2 = tf.variable(HeadTrainer.constant(tf, new long[] {g}, new float[g]));
      Operand<TFloat32> z = x;
      if (hidden > 0) {
        z = tf.nn.relu(tf.math.add(tf.linalg.matMul(z, w1), b1));
        Operand<TFloat32> uniform = tf.random.randomUniform(tf.shape(z), TFloat32.class,
            org.tensorflow.op.random.RandomUniform.seed(cfg.seed()));
        Operand<TFloat32> mask = tf.math.div(tf.math.floor(tf.math.add(uniform, keep)), keep);
        z = tf.math.mul(z, mask);
      }
      Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(z, w2), b2);
      Operand<TFloat32> softplus = tf.math.add(tf.nn.relu(logits), tf.math.log1p(tf.math.exp(tf.math.neg(tf.math.abs(logits)))));
      Operand<TFloat32> negTerm = tf.math.mul(tf.math.sub(tf.constant(1f), y), softplus);
      Operand<TFloat32> posTerm = tf.math.mul(tf.math.mul(y, tf.constant(posWeight)), tf.math.sub(softplus, logits));
      Operand<TFloat32> loss = tf.math.mean(tf.math.add(negTerm, posTerm), tf.constant(new int[] {0, 1}));
      Operand<TFloat32> probs = tf.math.sigmoid(logits);
      Op trainOp = new Adam(graph, cfg.learningRate()).minimize(loss);
      try (Session session = new Session(graph, tfConfig)) {
        session.initialize();
        int b = cfg.batchSize();
        float keepTrain = 1f - cfg.dropout();
        Random random = new Random(cfg.seed() + 1);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < trainIdx.size(); i++) order.add(i);
        float[] batchX = new float[b * f];
        float[] batchY = new float[b * g];
        for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
          long epochStart = System.nanoTime();
          Collections.shuffle(order, new Random(cfg.seed() * 1000 + epoch));
          double lossSum = 0;
          double weightedSum = 0;
          long right = 0;
          for (int from = 0; from < order.size(); from += b) {
            int n = Math.min(b, order.size() - from);
            for (int k = 0; k < n; k++) {
              int i = order.get(from + k);
              boolean flip = trainFeatFlip != null && random.nextBoolean();
              System.arraycopy(flip ? trainFeatFlip : trainFeat, i * f, batchX, k * f, f);
              System.arraycopy(trainLabels, i * g, batchY, k * g, g);
            }
            float[] p = new float[n * g];
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, f), DataBuffers.of(batchX, true, false).narrow((long) n * f));
                TFloat32 yt = TFloat32.tensorOf(Shape.of(n, g), DataBuffers.of(batchY, true, false).narrow((long) n * g));
                TFloat32 kt = TFloat32.scalarOf(keepTrain);
                Result r = session.runner().feed(x, xt).feed(y, yt).feed(keep, kt).addTarget(trainOp).fetch(loss).fetch(probs).run()) {
              weightedSum += ((TFloat32) r.get(0)).getFloat() * n;
              ((TFloat32) r.get(1)).copyTo(DataBuffers.of(p, false, false));
            }
            float[] yl = Arrays.copyOf(batchY, n * g);
            lossSum += Metrics.logLoss(p, yl) * n;
            right += Math.round(Metrics.binaryAccuracy(Metrics.threshold(p, g, Metrics.constantThresholds(g, 0.5f)), yl) * n * g);
          }
          float[] valScores = new float[valIdx.size() * g];
          try (TFloat32 xt = TFloat32.tensorOf(Shape.of(valIdx.size(), f), DataBuffers.of(valFeat, true, false));
              TFloat32 kt = TFloat32.scalarOf(1f);
              Result r = session.runner().feed(x, xt).feed(keep, kt).fetch(probs).run()) {
            ((TFloat32) r.get(0)).copyTo(DataBuffers.of(valScores, false, false));
          }
          float[] valPred = Metrics.threshold(valScores, g, Metrics.constantThresholds(g, 0.5f));
          double valLoss = Metrics.logLoss(valScores, valLabels);
          double valAcc = Metrics.binaryAccuracy(valPred, valLabels);
          double valF1 = Metrics.microF1(valPred, valLabels);
          double valAuc = Metrics.nanMean(Metrics.aucs(valScores, valLabels, g));
          double valAp = Metrics.nanMean(Metrics.averagePrecisions(valScores, valLabels, g));
          double seconds = (System.nanoTime() - epochStart) / 1e9;
          int seen = order.size();
          epochsRun = epoch;
          log("epoch %d/%d  %.1fs  loss %.4f (weighted %.4f)  acc %.4f  val_loss %.4f  val_acc %.4f  "
                  + "val_micro_f1@0.5 %.4f  val_macro_auc %.4f  val_macro_ap %.4f%s",
              epoch, cfg.epochs(), seconds, lossSum / seen, weightedSum / seen, (double) right / ((long) seen * g),
              valLoss, valAcc, valF1, valAuc, valAp, valAuc > bestAuc ? "  (best)" : "");
          history.add(String.format(Locale.ROOT, "%d,%.1f,%.2f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f",
              epoch, seconds, seen / seconds, lossSum / seen, weightedSum / seen, (double) right / ((long) seen * g),
              valLoss, valAcc, valF1, valAuc, valAp));
          if (valAuc > bestAuc || best == null) {
            bestAuc = valAuc;
            bestEpoch = epoch;
            best = HeadTrainer.readHead(session, w1, b1, w2, b2);
          }
        }
      }
    }
    Files.write(outDir.resolve("training-history.csv"), history, StandardCharsets.UTF_8);
    double trainingSeconds = (System.nanoTime() - trainStart) / 1e9;
    log("trained the head %d epochs in %s; exporting epoch %d (best validation macro ROC-AUC %.4f)",
        epochsRun, TrainingReport.duration(trainingSeconds), bestEpoch, bestAuc);
    try {
      io.postergenres.train.TrainingCharts.render(outDir.resolve("training-history.csv"), outDir);
    } catch (IOException | RuntimeException e) {
      log("training curves not drawn: %s", e);
    }

    // ---- with --ensemble-with: how much of the other model's opinion to mix in ----
    TrainingData.writeValidationList(outDir, data, valIdx, cfg);
    Ensemble ensemble = null;
    if (ensembleWith != null) ensemble = weighEnsemble(backbone, best, norm, f, g, genres, cache, valIdx, valLabels, outDir, tfConfig);

    // ---- export backbone + head (+ the ensemble member) as one frozen SavedModel ----
    for (String name : List.of("saved_model.pb", ModelSpec.FILE_NAME)) Files.deleteIfExists(outDir.resolve(name));
    TrainingReport.deleteTree(outDir.resolve("variables"));
    long flops;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
      Operand<TFloat32> logits = HeadTrainer.logits(tf, standardise(tf, backbone.features(tf, image), norm), best, f, g);
      if (ensemble != null) {
        Operand<TFloat32> other = memberLogits(tf, image, ensemble.spec());
        logits = tf.math.add(tf.math.mul(logits, tf.constant(1f - ensemble.weight())), tf.math.mul(other, tf.constant(ensemble.weight())));
      }
      Operand<TFloat32> scores = tf.withName("scores").math.sigmoid(logits);
      flops = io.postergenres.model.FlopCounter.flopsPerExample(graph);
      try (Session session = new Session(graph, tfConfig)) {
        Signature signature = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
        SavedModelBundle.exporter(outDir.toString()).withTags(ModelContract.TAG)
            .withFunction(SessionFunction.create(signature, session)).export();
      }
    }

    // ---- validation through the exported model: thresholds, metrics, model.json ----
    Map<String, Double> half = new LinkedHashMap<>();
    for (String genre : genres) half.put(genre, 0.5);
    int maxGenres = Math.min(3, g);
    ModelSpec provisional = new ModelSpec(MODEL_NAME, cfg.version(), size, size, genres, half, 1, maxGenres, Map.of());
    float[] valScores = new float[valIdx.size() * g];
    try (PosterModel loaded = PosterModel.load(outDir, provisional, threads, Math.min(2, threads))) {
      int per = size * size * 3;
      float[] batch = new float[EXTRACT_BATCH * per];
      for (int from = 0; from < valIdx.size(); from += EXTRACT_BATCH) {
        int n = Math.min(EXTRACT_BATCH, valIdx.size() - from);
        for (int k = 0; k < n; k++) TrainingData.fill(cache[valIdx.get(from + k)], batch, k * per, size, false);
        System.arraycopy(loaded.predict(batch, n), 0, valScores, from * g, n * g);
      }
    }
    // kept to 4 decimals as written, and the figures below computed with what is written
    float[] thresholds = RuleCalibration.asWritten(TrainingReport.calibrate(valScores, valLabels, g, maxGenres));
    Map<String, Double> thresholdMap = RuleCalibration.thresholdMap(genres, thresholds);
    Map<String, Object> validation = TrainingReport.validationMetrics(valScores, valLabels, g, thresholds, genres, maxGenres);
    Map<String, Object> baselines = TrainingReport.baselines(trainLabels, valLabels, g, genres, maxGenres);
    log("validation (%d posters, exported model, epoch %d): %s", valIdx.size(), bestEpoch, validation);
    log("baselines on the same validation posters: %s", baselines);

    double totalSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("dataset", data.source());
    source.put("dataset_stats", data.stats().toMap());
    source.put("split", TrainingData.splitInfo(trainIdx.size(), valIdx.size(), cfg, unreadableTrain + unreadableVal));
    Map<String, Object> arch = new LinkedHashMap<>();
    arch.put("name", ARCH);
    arch.put("backbone", backbone.describe());
    Map<String, Object> head = new LinkedHashMap<>();
    head.put("layers", hidden > 0
        ? "dense " + hidden + " ReLU, dropout " + cfg.dropout() + " (training only), dense " + g + ", sigmoid"
        : "dense " + g + ", sigmoid");
    head.put("parameters", (hidden > 0 ? (long) f * hidden + hidden + (long) hidden * g : (long) f * g) + g);
    head.put("weights_origin", "trained here from random initialisation (seed " + cfg.seed() + ") on this dataset's training posters");
    arch.put("head", head);
    arch.put("flops_per_poster", flops);
    if (ensemble != null) arch.put("ensemble", ensemble.describe());
    arch.put("feature_standardisation", "mean and standard deviation of the training posters' features, in the graph");
    arch.put("export", "backbone and head frozen as constants in one SavedModel; batch norm folded into the convolutions");
    source.put("architecture", arch);
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("epochs_requested", cfg.epochs());
    training.put("epochs_run", epochsRun);
    training.put("exported_epoch", bestEpoch);
    training.put("epoch_selection", "best validation macro ROC-AUC");
    training.put("batch_size", cfg.batchSize());
    training.put("optimizer", "Adam lr " + cfg.learningRate() + " (head only; backbone frozen)");
    training.put("loss", cfg.positiveWeighting().equals("none") ? "sigmoid binary cross-entropy (plain, no class weighting)"
        : "sigmoid binary cross-entropy, positive weight per genre (" + cfg.positiveWeighting() + " of neg/pos, at most " + TrainingData.MAX_POSITIVE_WEIGHT + ")");
    training.put("augmentation", cfg.augment() ? "features of the flipped poster chosen at random for each training example" : "none");
    training.put("preprocessing", "io.postergenres.image.Preprocessor (stretch to " + size + "x" + size + ", RGB, [0,1])");
    training.put(cached != null ? "feature_extraction_seconds_cached" : "feature_extraction_seconds", TrainingReport.round(extractSeconds, 1));
    training.put("head_training_seconds", TrainingReport.round(trainingSeconds, 1));
    training.put("total_seconds", TrainingReport.round(totalSeconds, 1));
    training.put("threads", threads);
    training.put("tensorflow_java", "1.1.0");
    source.put("training", training);
    source.put("validation_metrics", validation);
    source.put("baselines", baselines);
    source.put("per_genre", TrainingReport.perGenre(valScores, valLabels, trainLabels, g, genres, thresholds));
    source.put("history", "training-history.csv");
    ModelSpec spec = new ModelSpec(MODEL_NAME, cfg.version(), size, size, genres, thresholdMap, 1, maxGenres, source);
    Files.write(outDir.resolve(ModelSpec.FILE_NAME), spec.toJson());
    log("wrote model to %s in %s total (%.1f MFLOPs per poster)", outDir, TrainingReport.duration(totalSeconds), flops / 1e6);
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    ModelPackage pkg = ModelPackage.read(outDir.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    log("model package check passed: %d bytes, fingerprint %s", pkg.sizeBytes(), pkg.fingerprint().substring(0, 16));
    trainingLog.writeTo(outDir.resolve("training-log.txt"));
    return new TrainingOutcome(spec, outDir, bestEpoch, totalSeconds);
  }

  private float[] extract(Session session, Placeholder<TFloat32> x, Operand<TFloat32> feats, int f, byte[][] cache,
      List<Integer> idx, int size, boolean flip, int[] done, int total, long t0) {
    int per = size * size * 3;
    float[] batch = new float[EXTRACT_BATCH * per];
    float[] outF = new float[idx.size() * f];
    long lastReport = System.nanoTime();
    for (int from = 0; from < idx.size(); from += EXTRACT_BATCH) {
      int n = Math.min(EXTRACT_BATCH, idx.size() - from);
      for (int k = 0; k < n; k++) TrainingData.fill(cache[idx.get(from + k)], batch, k * per, size, flip);
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(batch, true, false).narrow((long) n * per));
          Result r = session.runner().feed(x, xt).fetch(feats).run()) {
        float[] part = new float[n * f];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(part, false, false));
        System.arraycopy(part, 0, outF, from * f, n * f);
      }
      done[0] += n;
      long now = System.nanoTime();
      if (now - lastReport > 30e9) {
        lastReport = now;
        double secs = (now - t0) / 1e9;
        log("  features %d/%d  %.1f posters/s  left ~%s", done[0], total, done[0] / secs, TrainingReport.duration((total - done[0]) * secs / done[0]));
      }
    }
    return outF;
  }


  /** The member model mixed in, and its weight in the logit average. */
  record Ensemble(Path dir, ModelSpec spec, float weight, double memberAuc, double headAuc, double mixedAuc, String fingerprint) {
    Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("member", spec.name() + " " + spec.version() + " (" + dir.getFileName() + ", fingerprint " + fingerprint.substring(0, 16) + ")");
      m.put("member_input", spec.inputHeight() + "x" + spec.inputWidth() + ", resized in the graph (bilinear) from the backbone's input");
      m.put("combination", "sigmoid((1 - w) * head logits + w * member logits)");
      m.put("w", weight);
      m.put("w_chosen_by", "best validation macro ROC-AUC over w = 0, 0.1, ..., 1");
      m.put("validation_macro_roc_auc", Map.of("head", TrainingReport.round(headAuc, 4), "member", TrainingReport.round(memberAuc, 4), "ensemble", TrainingReport.round(mixedAuc, 4)));
      return m;
    }
  }

  /** Features standardised with {mean, 1/std}, in the graph. */
  static Operand<TFloat32> standardise(Ops tf, Operand<TFloat32> features, float[][] norm) {
    return tf.math.mul(tf.math.sub(features, tf.constant(norm[0])), tf.constant(norm[1]));
  }

  /** The member's logits for images at the backbone's size: resized, scored by the inlined model, back to logits. */
  private Operand<TFloat32> memberLogits(Ops tf, Operand<TFloat32> image, ModelSpec spec) throws IOException {
    Operand<TFloat32> resized = tf.image.resizeBilinear(image, tf.constant(new int[] {spec.inputHeight(), spec.inputWidth()}),
        org.tensorflow.op.image.ResizeBilinear.halfPixelCenters(true));
    Operand<TFloat32> p = io.postergenres.train.GraphInliner.scores(tf, ensembleWith, spec, resized, "ensemble");
    Operand<TFloat32> clipped = tf.clipByValue(p, tf.constant(1e-6f), tf.constant(1f - 1e-6f));
    return tf.math.sub(tf.math.log(clipped), tf.math.log1p(tf.math.neg(clipped)));
  }

  /**
   * Checks that the member was validated on exactly our validation posters (else its scores on
   * them would be from training and the weight a lie), scores them through head and member, and
   * picks the weight with the best macro ROC-AUC.
   */
  private Ensemble weighEnsemble(KerasBackbone backbone, HeadTrainer.Head best, float[][] norm, int f, int g, List<String> genres,
      byte[][] cache, List<Integer> valIdx, float[] valLabels, Path outDir, ConfigProto tfConfig) throws IOException {
    ModelPackage member = ModelPackage.read(ensembleWith.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    ModelSpec spec = member.spec();
    if (!spec.genres().equals(genres)) {
      throw new IllegalArgumentException("--ensemble-with " + ensembleWith + ": its genres " + spec.genres() + " are not this dataset's " + genres);
    }
    Path theirs = ensembleWith.resolve("validation.txt");
    if (!Files.isRegularFile(theirs) || !validationPosters(theirs).equals(validationPosters(outDir.resolve("validation.txt")))) {
      throw new IllegalArgumentException("--ensemble-with " + ensembleWith + " was not validated on the same posters (its validation.txt"
          + " differs): train both with the same --seed and --validation-fraction on the same data");
    }
    int size = backbone.imageSize();
    int per = size * size * 3;
    float[] head = new float[valIdx.size() * g];
    float[] other = new float[valIdx.size() * g];
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> image = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 3)));
      Operand<TFloat32> l1 = HeadTrainer.logits(tf, standardise(tf, backbone.features(tf, image), norm), best, f, g);
      Operand<TFloat32> l2 = memberLogits(tf, image, spec);
      try (Session session = new Session(graph, tfConfig)) {
        float[] batch = new float[EXTRACT_BATCH * per];
        for (int from = 0; from < valIdx.size(); from += EXTRACT_BATCH) {
          int n = Math.min(EXTRACT_BATCH, valIdx.size() - from);
          for (int k = 0; k < n; k++) TrainingData.fill(cache[valIdx.get(from + k)], batch, k * per, size, false);
          try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(batch, true, false).narrow((long) n * per));
              Result r = session.runner().feed(image, xt).fetch(l1).fetch(l2).run()) {
            float[] a = new float[n * g];
            float[] b = new float[n * g];
            ((TFloat32) r.get(0)).copyTo(DataBuffers.of(a, false, false));
            ((TFloat32) r.get(1)).copyTo(DataBuffers.of(b, false, false));
            System.arraycopy(a, 0, head, from * g, n * g);
            System.arraycopy(b, 0, other, from * g, n * g);
          }
        }
      }
    }
    double bestAuc = Double.NEGATIVE_INFINITY;
    float bestW = 0;
    double headAuc = 0;
    double memberAuc = 0;
    float[] mixed = new float[head.length];
    for (int step = 0; step <= 10; step++) {
      float w = step / 10f;
      for (int i = 0; i < mixed.length; i++) mixed[i] = (1 - w) * head[i] + w * other[i];
      double auc = Metrics.nanMean(Metrics.aucs(mixed, valLabels, g));
      if (step == 0) headAuc = auc;
      if (step == 10) memberAuc = auc;
      if (auc > bestAuc + 1e-9) {
        bestAuc = auc;
        bestW = w;
      }
    }
    log("ensemble with %s: validation macro ROC-AUC head %.4f, member %.4f (resized in the graph), mixed %.4f at member weight %.1f",
        ensembleWith, headAuc, memberAuc, bestAuc, bestW);
    return new Ensemble(ensembleWith, spec, bestW, memberAuc, headAuc, bestAuc, member.fingerprint());
  }

  private static Set<String> validationPosters(Path list) throws IOException {
    Set<String> out = new java.util.TreeSet<>();
    for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) if (!line.isBlank() && !line.startsWith("#")) out.add(line.trim());
    return out;
  }

  /** {mean, 1/std} per feature over the training posters (and their mirror images when used). */
  static float[][] standardisation(float[] a, float[] b, int f) {
    double[] sum = new double[f];
    double[] sq = new double[f];
    long n = 0;
    for (float[] m : b == null ? List.of(a) : List.of(a, b)) {
      for (int i = 0; i < m.length; i++) {
        sum[i % f] += m[i];
        sq[i % f] += (double) m[i] * m[i];
      }
      n += m.length / f;
    }
    float[] mean = new float[f];
    float[] inv = new float[f];
    for (int j = 0; j < f; j++) {
      double mu = sum[j] / n;
      double var = Math.max(0, sq[j] / n - mu * mu);
      mean[j] = (float) mu;
      inv[j] = (float) (1 / Math.sqrt(var + 1e-6));
    }
    return new float[][] {mean, inv};
  }

  static void standardise(float[] m, float[][] norm) {
    int f = norm[0].length;
    for (int i = 0; i < m.length; i++) m[i] = (m[i] - norm[0][i % f]) * norm[1][i % f];
  }

  /** A name for the features of these posters through this backbone, changing with anything they depend on. */
  private String cacheKey(CcuDataset.Loaded data, KerasBackbone backbone, List<Integer> trainIdx, List<Integer> valIdx) {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      StringBuilder k = new StringBuilder();
      k.append(backbone.dir().toAbsolutePath()).append('|').append(backbone.weights().format()).append('|')
          .append(backbone.featureLayers()).append('|').append(scaling).append('|').append(cfg.maxPixels()).append('|');
      for (int i : valIdx) k.append(data.examples().get(i).path()).append(',');
      k.append('|');
      for (int i : trainIdx) k.append(data.examples().get(i).path()).append(',');
      byte[] h = md.digest(k.toString().getBytes(StandardCharsets.UTF_8));
      return backbone.kind().name().toLowerCase(Locale.ROOT) + "-" + java.util.HexFormat.of().formatHex(h, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static float[][] readFeatures(Path file) throws IOException {
    if (!Files.isRegularFile(file)) return null;
    try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      float[][] parts = new float[3][];
      for (int p = 0; p < 3; p++) {
        parts[p] = new float[in.readInt()];
        for (int i = 0; i < parts[p].length; i++) parts[p][i] = in.readFloat();
      }
      return parts;
    }
  }

  private static void writeFeatures(Path file, float[]... parts) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (var o = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
      for (float[] part : parts) {
        o.writeInt(part.length);
        for (float v : part) o.writeFloat(v);
      }
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }




}
