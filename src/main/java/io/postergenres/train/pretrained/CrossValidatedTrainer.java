package io.postergenres.train.pretrained;

import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.FoldFigures;
import io.postergenres.metrics.Metrics;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.model.FlopCounter;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.OutOfFoldFiles;
import io.postergenres.train.TrainingCharts;
import io.postergenres.train.TrainingConfig;
import io.postergenres.train.TrainingData;
import io.postergenres.train.TrainingLog;
import io.postergenres.train.TrainingOutcome;
import io.postergenres.train.TrainingReport;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * {@code train --arch pretrained --folds K}: a genre head on a frozen nsfwjs backbone, with every
 * setting chosen by K-fold cross-validation over all posters and the shipped head trained on all
 * of them.
 *
 * <ol>
 *   <li>Every readable poster goes once through the shared preprocessing at the backbone's input
 *       size (optionally the poster's own 2:3 shape) and, with its mirror image, once through the
 *       frozen backbone (features cached on disk when asked).
 *   <li>The posters are dealt into K seeded folds. For each fold a head is trained on the others
 *       (features standardised with their statistics) and scores the fold after every epoch: each
 *       poster gets out-of-fold scores from a head that never saw it.
 *   <li>The number of epochs and whether to average the poster's and its mirror image's logits are
 *       chosen on those out-of-fold scores (pooled macro ROC-AUC); the thresholds of the decision
 *       rule are calibrated on them ({@link RuleCalibration}).
 *   <li>The figures reported keep what chose a setting apart from what is scored: for each fold,
 *       the epoch count and thresholds are chosen on the other folds' out-of-fold scores and
 *       applied to it; the spread is the folds' standard deviation.
 *   <li>The shipped head is trained on every poster for the chosen number of epochs and exported
 *       with the backbone (and the mirror average) as one frozen SavedModel.
 * </ol>
 */
public final class CrossValidatedTrainer {
  public static final String MODEL_NAME = "postergenres-mobilenet";
  private static final int EXTRACT_BATCH = 32;
  /** Training posters whose logits place a fold's (or the shipped) heads' scale (see {@link LogitScale}). */
  static final int REFERENCE_POSTERS = 1024;
  /**
   * By default no genre is given to more than this many times the posters that have it on any fold's
   * out-of-fold scores ({@link CalibrationRule}, {@code --cap-scope every-fold}): the rule that
   * `evaluate --rule-study` found best on the default model 3.1.0's scores (most over-assigned genre
   * 1.40 ± 0.25 on held-out folds against 1.53 ± 0.24 for cap 1.3 on the pooled scores, micro- and
   * macro-F1 the same within the spread). Below the 1.5 that a catalogue tolerates, since a genre with
   * a few dozen posters in a batch of unseen ones swings by a third from sampling alone.
   */
  public static final double DEFAULT_ASSIGNMENT_CAP = 1.2;
  /** The most genres a poster is given, unless told otherwise. */
  public static final int DEFAULT_MAX_GENRES = 3;

  private final TrainingConfig cfg;
  private final Path backboneDir;
  private final int hidden;
  private final KerasBackbone.InputScaling scaling;
  private final List<String> featureLayers;
  private final Path featureCache;
  private final int folds;
  private final int height;
  private final int width;
  private final String modelName;
  private final boolean mirrorAverage;
  private final int heads;
  private final boolean crops;
  private final TrainingLog log;
  private Path secondBackbone;
  private boolean headPerBackbone;
  private boolean alignFolds = true;
  private int maxGenres = DEFAULT_MAX_GENRES;
  private CalibrationRule rule = new CalibrationRule(DEFAULT_ASSIGNMENT_CAP, true);
  private int[] backboneSize = {0, 0};


  /**
   * @param height input height (0 with width 0: the backbone's own square size)
   * @param featureCache folder where extracted features are kept and looked up (null: none)
   */
  public CrossValidatedTrainer(TrainingConfig cfg, Path backboneDir, int hidden, KerasBackbone.InputScaling scaling,
      List<String> featureLayers, Path featureCache, int folds, int height, int width, String modelName, boolean mirrorAverage,
      int heads, boolean crops, PrintStream out) {
    if (heads < 1) throw new IllegalArgumentException("--heads must be 1 or more, got " + heads);
    if (folds < 2) throw new IllegalArgumentException("--folds must be 2 or more, got " + folds);
    if (hidden < 0) throw new IllegalArgumentException("--hidden must be 0 (linear head) or more, got " + hidden);
    this.cfg = cfg;
    this.backboneDir = backboneDir;
    this.hidden = hidden;
    this.scaling = scaling;
    this.featureLayers = List.copyOf(featureLayers);
    this.featureCache = featureCache;
    this.folds = folds;
    this.height = height;
    this.width = width;
    this.modelName = modelName == null ? MODEL_NAME : modelName;
    this.mirrorAverage = mirrorAverage;
    this.heads = heads;
    this.crops = crops;
    this.log = new TrainingLog(out);
  }

  /**
   * Features of the readable posters: [n, f] as fed, mirrored, and of each crop (training views
   * only), and which dataset rows they are.
   */
  /** Appends the pooled layers of the TF.js graph model {@code modelJson} (a {@link GraphBackbone}) to the features; null: none. */
  public CrossValidatedTrainer withSecondBackbone(Path modelJson) {
    this.secondBackbone = modelJson;
    return this;
  }

  /**
   * With a second backbone: each backbone's features get heads of their own (the same settings,
   * {@code --heads} of them each), and the model's logits are the mean of the two families' logits,
   * instead of one family of heads on both networks' features side by side. Each network's signal
   * then has to carry a whole prediction on its own, where one head on all 3,560 features leans on
   * the stronger network and over-fits the combinations (measured in docs/training.md).
   */
  public CrossValidatedTrainer withHeadPerBackbone(boolean perBackbone) {
    this.headPerBackbone = perBackbone;
    return this;
  }

  /**
   * Whether each fold's out-of-fold logits are put on the shipped heads' scale ({@link LogitScale},
   * the default) or kept as each fold's heads gave them.
   */
  public CrossValidatedTrainer withFoldAlignment(boolean align) {
    this.alignFolds = align;
    return this;
  }

  /** The most genres the decision rule gives a poster (at least 1; at most the genres there are). */
  public CrossValidatedTrainer withMaxGenres(int most) {
    if (most < 1) throw new IllegalArgumentException("--max-genres must be 1 or more, got " + most);
    this.maxGenres = most;
    return this;
  }

  /** Feeds the first backbone a {@code height x width} copy of the input, resized in the graph; 0, 0: the input as is. */
  public CrossValidatedTrainer withBackboneSize(int height, int width) {
    this.backboneSize = new int[] {height, width};
    return this;
  }

  /** The decision rule's cap: no genre given to more than {@code cap} times the posters that have it (1 to 3). */
  public CrossValidatedTrainer withAssignmentCap(double cap) {
    this.rule = new CalibrationRule(cap, rule.capOnEveryFold(), rule.floor());
    return this;
  }

  /**
   * The decision rule's floor: every genre of {@link io.postergenres.metrics.RuleCalibration#FLOOR_MIN_POSTERS} or more
   * posters given to at least {@code floor} times the posters that have it (0: none; under 1).
   */
  public CrossValidatedTrainer withAssignmentFloor(double floor) {
    this.rule = new CalibrationRule(rule.cap(), rule.capOnEveryFold(), floor);
    return this;
  }

  /** Whether the cap must hold on every calibration fold's posters, not only on all of them pooled. */
  public CrossValidatedTrainer withCapOnEveryFold(boolean everyFold) {
    this.rule = new CalibrationRule(rule.cap(), everyFold, rule.floor());
    return this;
  }

  record Features(float[] plain, float[] mirrored, float[][] crops, int[] rows, int f, int unreadable) {}

  /**
   * Heads that read the standardised features {@code [from, to)}; a model's logits are the mean over
   * its groups of each group's mean head logits (one group over all features unless {@link
   * #withHeadPerBackbone}).
   */
  record HeadGroup(Span span, List<HeadTrainer.Head> heads) {}

  /** A part of the features that a family of heads reads. */
  record Span(String name, int from, int to) {
    int width() {
      return to - from;
    }
  }

  /**
   * The crops whose features are extra training views: boxes (y1, x1, y2, x2, relative) of 90% of
   * the height and width at the four corners, resized back to the input. Mirror images and crops
   * show the head the same poster a little moved, as a poster photographed or cut differently is.
   */
  static final float[][] CROP_BOXES = {{0f, 0f, 0.9f, 0.9f}, {0f, 0.1f, 0.9f, 1f}, {0.1f, 0f, 1f, 0.9f}, {0.1f, 0.1f, 1f, 1f}};

  public TrainingOutcome train(CcuDataset.Loaded data, Path outDir) throws IOException {
    long start = System.nanoTime();
    int threads = cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors();
    List<String> genres = data.genres();
    int g = genres.size();
    log.log("poster-genres train --arch pretrained --folds %d: %s, %d posters, %d genres", folds, data.source(), data.examples().size(), g);
    log.log("dataset stats: %s", data.stats().toMap());
    KerasBackbone backbone;
    try {
      backbone = new KerasBackbone(backboneDir, scaling, featureLayers, height, width).withNetworkSize(backboneSize[0], backboneSize[1]);
    } catch (IOException e) {
      throw new IllegalArgumentException("--backbone/--feature-layers/--input-size: " + e.getMessage(), e);
    }
    if (secondBackbone != null) {
      try {
        backbone.withSecond(GraphBackbone.read(secondBackbone));
      } catch (IOException e) {
        throw new IllegalArgumentException("--second-backbone: " + e.getMessage(), e);
      }
      log.log("second backbone: %s from %s, pooled %d layers", backbone.second().preset().title(), secondBackbone,
          backbone.second().preset().featureNodes().size());
    }
    int h = backbone.height();
    int w = backbone.width();
    log.log("backbone: %s %s, input %dx%d (height x width), scaling %s; features: pooled %s; head: %s", backbone.kind(), backboneDir,
        h, w, scaling, backbone.featureLayers(), hidden > 0 ? "dense " + hidden + " ReLU, dropout " + cfg.dropout() + ", dense " + g : "dense " + g);
    ConfigProto tfConfig = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(Math.min(2, threads))
        .build();

    long t0 = System.nanoTime();
    Features feats = features(data, backbone, threads, tfConfig);
    double extractSeconds = (System.nanoTime() - t0) / 1e9;
    int n = feats.rows().length;
    int f = feats.f();
    float[] labels = new float[n * g];
    for (int k = 0; k < n; k++) {
      for (String genre : data.examples().get(feats.rows()[k]).genres()) labels[k * g + genres.indexOf(genre)] = 1f;
    }
    if (n < folds * 2) throw new IllegalArgumentException("too few readable posters (" + n + ") for " + folds + " folds");
    List<Span> spans = spans(backbone, f);
    if (spans.size() > 1) {
      log.log("heads per backbone: %s", spans.stream().map(sp -> sp.name() + " features " + sp.from() + "-" + (sp.to() - 1)).toList());
    }

    // ---- K folds: out-of-fold logits after every epoch, as fed and mirrored ----
    int[] fold = dealFolds(n, folds, cfg.seed());
    int epochs = cfg.epochs();
    float[][] oof = new float[epochs][n * g];
    float[][] oofMirror = new float[epochs][n * g];
    LogitScale[][] foldScales = new LogitScale[epochs][folds];
    HeadTrainer.Settings settings = new HeadTrainer.Settings(hidden, cfg.dropout(), cfg.learningRate(), cfg.batchSize(), cfg.seed(), tfConfig);
    List<String> history = new ArrayList<>();
    history.add("fold,epoch,seconds,train_weighted_loss,heldout_macro_auc,heldout_macro_auc_mirror_averaged");
    long cvStart = System.nanoTime();
    for (int k = 0; k < folds; k++) {
      int fk = k;
      int[] train = indices(fold, i -> fold[i] != fk);
      int[] held = indices(fold, i -> fold[i] == fk);
      float[][] norm = BackboneTrainer.standardisation(gather(feats.plain(), train, f), gather(feats.mirrored(), train, f), f);
      float[] x = standardised(feats.plain(), train, f, norm);
      float[][] views = cfg.augment() ? trainingViews(feats, train, f, norm) : null;
      float[] heldLabels = gather(labels, held, g);
      // The held-out posters, then (to place the heads' logits) up to REFERENCE_POSTERS of the training posters.
      int[] ref = alignFolds ? referenceRows(train, cfg.seed() + k) : new int[0];
      HeadTrainer.HeldOut heldOut = new HeadTrainer.HeldOut(concat(standardised(feats.plain(), held, f, norm), standardised(feats.plain(), ref, f, norm)),
          standardised(feats.mirrored(), held, f, norm));
      long foldStart = System.nanoTime();
      float[] trainLabels = gather(labels, train, g);
      float[] posWeight = TrainingData.positiveWeights(trainLabels, g, cfg.positiveWeighting());
      List<HeadTrainer.Fit> parts = new ArrayList<>();
      for (Span sp : spans) {
        parts.add(HeadTrainer.fitEnsemble(heads, columns(x, f, sp), columns(views, f, sp), trainLabels, sp.width(), g, posWeight, settings, epochs,
            new HeadTrainer.HeldOut(columns(heldOut.features(), f, sp), columns(heldOut.flipped(), f, sp)), (epoch, seconds, loss) -> {}));
      }
      HeadTrainer.Fit fit = HeadTrainer.meanOf(parts);
      float[][] heldLogits = new float[epochs][];
      float[][] heldMirror = new float[epochs][];
      for (int e = 0; e < epochs; e++) {
        float[] scoredRows = fit.logits()[e];
        heldLogits[e] = Arrays.copyOf(scoredRows, held.length * g);
        heldMirror[e] = fit.flippedLogits()[e];
        if (alignFolds) {
          foldScales[e][k] = LogitScale.of(Arrays.copyOfRange(scoredRows, held.length * g, scoredRows.length), g);
          heldLogits[e] = foldScales[e][k].standardise(heldLogits[e]);
          heldMirror[e] = foldScales[e][k].standardise(heldMirror[e]);
        }
      }
      double bestAuc = 0;
      int bestEpoch = 0;
      for (int e = 0; e < epochs; e++) {
        scatter(heldLogits[e], held, g, oof[e]);
        scatter(heldMirror[e], held, g, oofMirror[e]);
        double auc = macroAuc(heldLogits[e], heldLabels, g);
        double aucTta = macroAuc(HeadTrainer.mean(heldLogits[e], heldMirror[e]), heldLabels, g);
        history.add(String.format(Locale.ROOT, "%d,%d,%.2f,%.5f,%.5f,%.5f", k + 1, e + 1, (System.nanoTime() - foldStart) / 1e9 / epochs,
            fit.trainLoss()[e], auc, aucTta));
        if (aucTta > bestAuc) {
          bestAuc = aucTta;
          bestEpoch = e + 1;
        }
      }
      double elapsed = (System.nanoTime() - cvStart) / 1e9;
      log.log("fold %d/%d: %d train, %d held out, %d epochs in %s; held-out macro ROC-AUC (mirror-averaged) best %.4f at epoch %d, last %.4f;"
              + " left ~%s", k + 1, folds, train.length, held.length, epochs, TrainingReport.duration((System.nanoTime() - foldStart) / 1e9),
          bestAuc, bestEpoch, macroAuc(HeadTrainer.mean(heldLogits[epochs - 1], heldMirror[epochs - 1]), heldLabels, g),
          TrainingReport.duration(elapsed / (k + 1) * (folds - k - 1)));
    }
    double cvSeconds = (System.nanoTime() - cvStart) / 1e9;
    // Each fold's logits are in its own heads' standard units: set them all on the folds' typical
    // scale for choosing and reporting (and, below, on the shipped heads' scale for the thresholds).
    LogitScale[] typical = new LogitScale[epochs];
    if (alignFolds) {
      for (int e = 0; e < epochs; e++) {
        typical[e] = LogitScale.average(List.of(foldScales[e]));
        oof[e] = typical[e].apply(oof[e]);
        oofMirror[e] = typical[e].apply(oofMirror[e]);
      }
      logFoldScales(foldScales, genres, g);
    }
    Files.createDirectories(outDir);
    Files.write(outDir.resolve("training-history.csv"), history, StandardCharsets.UTF_8);

    // ---- choose: epochs and mirror averaging by pooled out-of-fold macro ROC-AUC ----
    double[] curve = new double[epochs];
    double[] curveTta = new double[epochs];
    for (int e = 0; e < epochs; e++) {
      curve[e] = macroAuc(oof[e], labels, g);
      curveTta[e] = macroAuc(HeadTrainer.mean(oof[e], oofMirror[e]), labels, g);
    }
    int bestE = argmax(curveTta);
    int bestPlain = argmax(curve);
    // Averaging with the mirror image doubles the backbone's work per poster: only when asked for,
    // and only when it pays on held-out posters.
    boolean mirror = mirrorAverage && curveTta[bestE] > curve[bestPlain];
    int chosenEpochs = (mirror ? bestE : bestPlain) + 1;
    log.log("cross-validated choice: %d epochs, %s (pooled out-of-fold macro ROC-AUC: as fed %.4f at %d epochs; poster and mirror"
            + " image averaged %.4f at %d epochs, at twice the work per poster%s)", chosenEpochs, mirror ? "poster and mirror image averaged"
            : "poster as fed", curve[bestPlain], bestPlain + 1, curveTta[bestE], bestE + 1, mirrorAverage ? "" : "; --mirror-average to use it");
    writeCurves(outDir, curve, curveTta);

    // ---- figures with each fold's settings chosen on the others ----
    int maxGenres = Math.min(this.maxGenres, g);
    GenreRules.Ranking ranking = GenreRules.Ranking.THRESHOLD_RATIO;
    Map<String, Object> cv = crossValidatedReport(oof, oofMirror, mirror, labels, fold, g, maxGenres, ranking, genres);
    log.log("cross-validated figures (mean ± standard deviation over %d folds; settings chosen without the fold scored): %s", folds, cv.get("summary"));

    // ---- the shipped head: every poster, the chosen epochs ----
    long finalStart = System.nanoTime();
    int[] all = new int[n];
    for (int i = 0; i < n; i++) all[i] = i;
    float[][] norm = BackboneTrainer.standardisation(feats.plain(), feats.mirrored(), f);
    float[] xAll = standardised(feats.plain(), all, f, norm);
    float[][] viewsAll = cfg.augment() ? trainingViews(feats, all, f, norm) : null;
    float[] posWeightAll = TrainingData.positiveWeights(labels, g, cfg.positiveWeighting());
    List<HeadGroup> groups = new ArrayList<>();
    List<HeadTrainer.Fit> finalFits = new ArrayList<>();
    float[] refAll = alignFolds ? standardised(feats.plain(), referenceRows(all, cfg.seed()), f, norm) : null;
    for (Span sp : spans) {
      String which = spans.size() > 1 ? " (" + sp.name() + ")" : "";
      HeadTrainer.Fit fit = HeadTrainer.fitEnsemble(heads, columns(xAll, f, sp), columns(viewsAll, f, sp), labels, sp.width(), g,
          posWeightAll, settings, chosenEpochs, refAll == null ? null : new HeadTrainer.HeldOut(columns(refAll, f, sp), null),
          (epoch, seconds, loss) -> log.log("final head%s%s: epoch %d/%d  %.1fs  weighted loss %.4f", heads > 1 ? "s" : "", which, epoch,
              chosenEpochs, seconds, loss));
      groups.add(new HeadGroup(sp, fit.heads()));
      finalFits.add(fit);
    }
    double finalSeconds = (System.nanoTime() - finalStart) / 1e9;

    // ---- thresholds on all out-of-fold scores, on the shipped heads' scale ----
    float[] chosen = mirror ? HeadTrainer.mean(oof[chosenEpochs - 1], oofMirror[chosenEpochs - 1]) : oof[chosenEpochs - 1];
    if (alignFolds) {
      LogitScale shipped = LogitScale.of(HeadTrainer.meanOf(finalFits).logits()[chosenEpochs - 1], g);
      chosen = shipped.apply(typical[chosenEpochs - 1].standardise(chosen));
    }
    // as out-of-fold-scores.csv will hold them, so that the thresholds are exactly what calibrate and evaluate find again
    float[] oofScores = RuleCalibration.asStored(HeadTrainer.sigmoid(chosen));
    float[] thresholds = RuleCalibration.asWritten(rule.calibrate(oofScores, labels, g, maxGenres, ranking, fold));

    // ---- export ----
    for (String name : List.of("saved_model.pb", ModelSpec.FILE_NAME)) Files.deleteIfExists(outDir.resolve(name));
    TrainingReport.deleteTree(outDir.resolve("variables"));
    long flops = export(outDir, backbone, norm, groups, g, mirror, tfConfig);
    checkExport(outDir, data, feats, backbone, norm, groups, f, g, mirror, genres, maxGenres, threads);

    Map<String, Double> thresholdMap = RuleCalibration.thresholdMap(genres, thresholds);
    writeFolds(outDir, data, feats.rows(), fold);
    double totalSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("dataset", data.source());
    source.put("dataset_stats", data.stats().toMap());
    Map<String, Object> split = new LinkedHashMap<>();
    split.put("posters", n);
    split.put("unreadable_skipped", feats.unreadable());
    split.put("folds", folds);
    split.put("seed", cfg.seed());
    split.put("fold_list", OutOfFoldFiles.FOLDS);
    split.put("shipped_head_trained_on", "all " + n + " posters");
    source.put("split", split);
    Map<String, Object> arch = new LinkedHashMap<>();
    arch.put("name", "pretrained");
    arch.put("backbone", backbone.describe());
    Map<String, Object> head = new LinkedHashMap<>();
    head.put("layers", hidden > 0 ? "dense " + hidden + " ReLU, dropout " + cfg.dropout() + " (training only), dense " + g + ", sigmoid" : "dense " + g + ", sigmoid");
    long parameters = 0;
    for (Span sp : spans) parameters += heads * ((hidden > 0 ? (long) sp.width() * hidden + hidden + (long) hidden * g : (long) sp.width() * g) + g);
    head.put("parameters", parameters);
    head.put("ensemble", heads == 1 ? "one head" : heads + " heads differing only in their seed, logits averaged");
    if (spans.size() > 1) {
      List<Map<String, Object>> per = new ArrayList<>();
      for (Span sp : spans) per.add(Map.of("backbone", sp.name(), "features", sp.from() + "-" + (sp.to() - 1)));
      head.put("per_backbone", per);
      head.put("combination", "each backbone's features feed heads of their own; the model's logits are the mean of the "
          + spans.size() + " families' logits");
    }
    head.put("weights_origin", "trained here from random initialisation (seed " + cfg.seed() + ") on all the dataset's posters");
    arch.put("head", head);
    arch.put("mirror_average", mirror ? "logits of the poster and its mirror image averaged inside the graph" : "no");
    arch.put("flops_per_poster", flops);
    arch.put("feature_standardisation", "mean and standard deviation of all posters' features (and their mirror images), in the graph");
    arch.put("export", "backbone and head frozen as constants in one SavedModel; batch norm folded into the convolutions");
    source.put("architecture", arch);
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("epochs", chosenEpochs);
    training.put("epochs_tried", epochs);
    training.put("epoch_selection", "best pooled out-of-fold macro ROC-AUC over " + folds + " folds");
    training.put("out_of_fold_scale", alignFolds
        ? "each fold's logits standardised by the mean and standard deviation of its heads' logits on up to " + REFERENCE_POSTERS
            + " of their training posters, then set on the shipped heads' scale (the same statistics on up to " + REFERENCE_POSTERS
            + " of all posters) before the thresholds were chosen"
        : "as each fold's heads gave them");
    training.put("batch_size", cfg.batchSize());
    training.put("optimizer", "Adam lr " + cfg.learningRate() + " (head only; backbone frozen)");
    training.put("loss", "sigmoid binary cross-entropy, positive weight per genre (" + cfg.positiveWeighting() + " of neg/pos, at most "
        + TrainingData.MAX_POSITIVE_WEIGHT + ")");
    training.put("augmentation", !cfg.augment() ? "none" : crops
        ? "each example's features from the poster, its mirror image or one of 4 corner crops (90% of height and width), at random"
        : "each example's features from the poster or its mirror image, at random");
    training.put("preprocessing", "io.postergenres.image.Preprocessor (stretch to " + h + "x" + w + " (height x width), RGB, [0,1])");
    training.put("feature_extraction_seconds", TrainingReport.round(extractSeconds, 1));
    training.put("cross_validation_seconds", TrainingReport.round(cvSeconds, 1));
    training.put("final_head_seconds", TrainingReport.round(finalSeconds, 1));
    training.put("total_seconds", TrainingReport.round(totalSeconds, 1));
    training.put("threads", threads);
    training.put("tensorflow_java", "1.1.0");
    source.put("training", training);
    source.put(ModelSpec.DECISION_RULE, decisionRule(rule, ranking));
    source.put("cross_validation", cv);
    source.put("per_genre", FoldFigures.perGenre(oofScores, labels, g, genres, thresholds, maxGenres, ranking));
    source.put("history", "training-history.csv");
    ModelSpec spec = new ModelSpec(modelName, cfg.version(), h, w, genres, thresholdMap, 1, maxGenres, source, ranking.jsonName());
    Files.write(outDir.resolve(ModelSpec.FILE_NAME), spec.toJson());
    Path scoresFile = outDir.resolve(OutOfFoldFiles.SCORES);
    writeScores(scoresFile, data, feats.rows(), oofScores, genres);
    log.log("wrote model to %s in %s total (%.1f MFLOPs per poster)", outDir, TrainingReport.duration(totalSeconds), flops / 1e6);
    log.writeTo(outDir.resolve("training-log.txt"));
    ModelPackage pkg = ModelPackage.read(outDir.toAbsolutePath().toString(), new Configuration());
    log.log("model package check passed: %d bytes, fingerprint %s", pkg.sizeBytes(), pkg.fingerprint().substring(0, 16));
    log.writeTo(outDir.resolve("training-log.txt"));
    return new TrainingOutcome(spec, outDir, chosenEpochs, totalSeconds);
  }

  // ------------------------------------------------------------------ features

  private Features features(CcuDataset.Loaded data, KerasBackbone backbone, int threads, ConfigProto tfConfig) throws IOException {
    Path cacheFile = featureCache == null ? null : featureCache.resolve(cacheKey(data, backbone) + ".features");
    if (cacheFile != null && Files.isRegularFile(cacheFile)) {
      Features cached = readFeatures(cacheFile);
      log.log("features: read from %s (%d posters, %d each)", cacheFile, cached.rows().length, cached.f());
      return cached;
    }
    int h = backbone.height();
    int w = backbone.width();
    byte[][] cache = TrainingData.decodeAll(data.examples(), h, w, threads, cfg.maxPixels(), log::log);
    int[] rows = indices(cache, i -> cache[i] != null);
    int unreadable = cache.length - rows.length;
    long t0 = System.nanoTime();
    float[] plain;
    float[] mirrored;
    float[][] cropped = new float[crops ? CROP_BOXES.length : 0][];
    int f;
    int total = rows.length * (2 + cropped.length);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w, 3)));
      Operand<TFloat32> out = backbone.features(tf, x);
      f = (int) out.shape().size(1);
      try (Session session = new Session(graph, tfConfig)) {
        plain = extract(session, x, out, f, cache, rows, h, w, false, null, 0, total, t0);
        mirrored = extract(session, x, out, f, cache, rows, h, w, true, null, rows.length, total, t0);
        for (int c = 0; c < cropped.length; c++) {
          cropped[c] = extract(session, x, out, f, cache, rows, h, w, false, CROP_BOXES[c], rows.length * (2 + c), total, t0);
        }
      }
    }
    log.log("features: %d per poster, %d posters, their mirror images and %d crops each in %s", f, rows.length, cropped.length,
        TrainingReport.duration((System.nanoTime() - t0) / 1e9));
    Features result = new Features(plain, mirrored, cropped, rows, f, unreadable);
    if (cacheFile != null) {
      writeFeatures(cacheFile, result);
      log.log("features: kept in %s", cacheFile);
    }
    return result;
  }

  private float[] extract(Session session, Placeholder<TFloat32> x, Operand<TFloat32> feats, int f, byte[][] cache, int[] rows, int h, int w,
      boolean flip, float[] box, int doneBefore, int total, long t0) {
    int per = h * w * 3;
    float[] batch = new float[EXTRACT_BATCH * per];
    float[] out = new float[rows.length * f];
    long lastReport = System.nanoTime();
    for (int from = 0; from < rows.length; from += EXTRACT_BATCH) {
      int m = Math.min(EXTRACT_BATCH, rows.length - from);
      for (int k = 0; k < m; k++) {
        TrainingData.fill(cache[rows[from + k]], batch, k * per, h, w, flip);
        if (box != null) crop(batch, k * per, h, w, box);
      }
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m, h, w, 3), DataBuffers.of(batch, true, false).narrow((long) m * per));
          Result r = session.runner().feed(x, xt).fetch(feats).run()) {
        float[] part = new float[m * f];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(part, false, false));
        System.arraycopy(part, 0, out, from * f, m * f);
      }
      long now = System.nanoTime();
      if (now - lastReport > 30e9) {
        lastReport = now;
        int done = doneBefore + from + m;
        double secs = (now - t0) / 1e9;
        log.log("  features %d/%d  %.1f posters/s  left ~%s", done, total, done / secs, TrainingReport.duration((total - done) * secs / done));
      }
    }
    return out;
  }

  /** Replaces the image at {@code offset} by its {@code box} (relative y1, x1, y2, x2) resized back to h x w, bilinear. */
  static void crop(float[] images, int offset, int h, int w, float[] box) {
    float[] src = Arrays.copyOfRange(images, offset, offset + h * w * 3);
    double y0 = box[0] * (h - 1);
    double x0 = box[1] * (w - 1);
    double sy = box[2] - box[0]; // corners aligned: row h - 1 of the crop samples box[2] * (h - 1)
    double sx = box[3] - box[1];
    for (int yy = 0; yy < h; yy++) {
      double fy = y0 + yy * sy;
      int ya = (int) Math.floor(fy);
      int yb = Math.min(h - 1, ya + 1);
      double dy = fy - ya;
      for (int xx = 0; xx < w; xx++) {
        double fx = x0 + xx * sx;
        int xa = (int) Math.floor(fx);
        int xb = Math.min(w - 1, xa + 1);
        double dx = fx - xa;
        for (int c = 0; c < 3; c++) {
          double top = src[(ya * w + xa) * 3 + c] * (1 - dx) + src[(ya * w + xb) * 3 + c] * dx;
          double bottom = src[(yb * w + xa) * 3 + c] * (1 - dx) + src[(yb * w + xb) * 3 + c] * dx;
          images[offset + (yy * w + xx) * 3 + c] = (float) (top * (1 - dy) + bottom * dy);
        }
      }
    }
  }

  /** A name for these posters' features through this backbone, changing with anything they depend on. */
  private String cacheKey(CcuDataset.Loaded data, KerasBackbone backbone) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      StringBuilder k = new StringBuilder("all-posters|");
      k.append(backbone.dir().toAbsolutePath()).append('|').append(backbone.weights().format()).append('|')
          .append(backbone.featureLayers()).append('|').append(scaling).append('|').append(cfg.maxPixels()).append('|')
          .append(backbone.height()).append('x').append(backbone.width()).append('|');
      int[] seen = backbone.networkSize();
      if (seen[0] != backbone.height() || seen[1] != backbone.width()) k.append("network ").append(seen[0]).append('x').append(seen[1]).append('|');
      if (crops) k.append("crops ").append(java.util.Arrays.deepToString(CROP_BOXES)).append('|');
      if (backbone.second() != null) {
        k.append("second ").append(backbone.second().source().toAbsolutePath()).append(backbone.second().preset()).append('|');
      }
      for (CcuDataset.Example e : data.examples()) k.append(e.path()).append(',');
      byte[] digest = md.digest(k.toString().getBytes(StandardCharsets.UTF_8));
      return backbone.kind().name().toLowerCase(Locale.ROOT) + "-all-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Features readFeatures(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      int f = in.readInt();
      int unreadable = in.readInt();
      int[] rows = new int[in.readInt()];
      for (int i = 0; i < rows.length; i++) rows[i] = in.readInt();
      // Files written before crops existed hold the plain and mirrored views without a count.
      long oldSize = 12L + 4L * rows.length + 8L * rows.length * f;
      float[][] views = new float[Files.size(file) == oldSize ? 2 : in.readInt()][];
      for (int v = 0; v < views.length; v++) {
        views[v] = new float[rows.length * f];
        for (int i = 0; i < views[v].length; i++) views[v][i] = in.readFloat();
      }
      return new Features(views[0], views[1], Arrays.copyOfRange(views, 2, views.length), rows, f, unreadable);
    }
  }

  private static void writeFeatures(Path file, Features feats) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
      o.writeInt(feats.f());
      o.writeInt(feats.unreadable());
      o.writeInt(feats.rows().length);
      for (int r : feats.rows()) o.writeInt(r);
      o.writeInt(2 + feats.crops().length);
      for (float v : feats.plain()) o.writeFloat(v);
      for (float v : feats.mirrored()) o.writeFloat(v);
      for (float[] crop : feats.crops()) for (float v : crop) o.writeFloat(v);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  // ------------------------------------------------------------------ export

  /** Backbone, standardisation and head (and the mirror average) as one frozen SavedModel; its FLOPs per poster. */
  private long export(Path outDir, KerasBackbone backbone, float[][] norm, List<HeadGroup> groups, int g, boolean mirror,
      ConfigProto tfConfig) throws IOException {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, backbone.height(), backbone.width(), 3)));
      Operand<TFloat32> logits = logits(tf, image, backbone, norm, groups, g, mirror);
      Operand<TFloat32> scores = tf.withName("scores").math.sigmoid(logits);
      long flops = FlopCounter.flopsPerExample(graph);
      try (Session session = new Session(graph, tfConfig)) {
        Signature signature = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
        SavedModelBundle.exporter(outDir.toString()).withTags(ModelContract.TAG)
            .withFunction(SessionFunction.create(signature, session)).export();
      }
      return flops;
    }
  }

  /** Logits [N, g] for images [N, h, w, 3]; with {@code mirror}, the mean of the image's and its mirror image's. */
  private static Operand<TFloat32> logits(Ops tf, Operand<TFloat32> image, KerasBackbone backbone, float[][] norm, List<HeadGroup> groups,
      int g, boolean mirror) {
    if (!mirror) return groupLogits(tf, BackboneTrainer.standardise(tf, backbone.features(tf, image), norm), groups, g);
    // One backbone pass over [image; mirror image] (a batch of 2N), then the two halves averaged.
    Operand<TFloat32> flipped = tf.reverse(image, tf.constant(new int[] {2}));
    Operand<TFloat32> both = tf.concat(List.of(image, flipped), tf.constant(0));
    Operand<TFloat32> l = groupLogits(tf, BackboneTrainer.standardise(tf, backbone.features(tf, both), norm), groups, g);
    Operand<TFloat32> halves = tf.reshape(l, tf.constant(new long[] {2, -1, g}));
    return tf.math.mean(halves, tf.constant(0));
  }

  /** The mean over groups of each group's heads' mean logits on its columns of the standardised features. */
  private static Operand<TFloat32> groupLogits(Ops tf, Operand<TFloat32> features, List<HeadGroup> groups, int g) {
    if (groups.size() == 1 && groups.get(0).span().from() == 0) {
      return HeadTrainer.logits(tf, features, groups.get(0).heads(), groups.get(0).span().width(), g);
    }
    Operand<TFloat32> sum = null;
    for (HeadGroup group : groups) {
      Span sp = group.span();
      Operand<TFloat32> part = tf.slice(features, tf.constant(new int[] {0, sp.from()}), tf.constant(new int[] {-1, sp.width()}));
      Operand<TFloat32> l = HeadTrainer.logits(tf, part, group.heads(), sp.width(), g);
      sum = sum == null ? l : tf.math.add(sum, l);
    }
    return tf.math.mul(sum, tf.constant(1f / groups.size()));
  }

  /**
   * Loads the exported model through the job's own loader and checks, on a few posters, that its
   * scores are the head's on the cached features: the export computes what was validated.
   */
  private void checkExport(Path outDir, CcuDataset.Loaded data, Features feats, KerasBackbone backbone, float[][] norm, List<HeadGroup> groups,
      int f, int g, boolean mirror, List<String> genres, int maxGenres, int threads) throws IOException {
    int m = Math.min(8, feats.rows().length);
    int h = backbone.height();
    int w = backbone.width();
    Map<String, Double> half = new LinkedHashMap<>();
    for (String genre : genres) half.put(genre, 0.5);
    ModelSpec provisional = new ModelSpec(modelName, cfg.version(), h, w, genres, half, 1, maxGenres, Map.of());
    List<CcuDataset.Example> some = new ArrayList<>();
    for (int k = 0; k < m; k++) some.add(data.examples().get(feats.rows()[k]));
    byte[][] cache = TrainingData.decodeAll(some, h, w, 1, cfg.maxPixels(), (fmt, args) -> {});
    float[] batch = new float[m * h * w * 3];
    for (int k = 0; k < m; k++) TrainingData.fill(cache[k], batch, k * h * w * 3, h, w, false);
    float[] exported;
    try (PosterModel loaded = PosterModel.load(outDir, provisional, threads, Math.min(2, threads))) {
      exported = loaded.predict(batch, m);
    }
    int[] first = new int[m];
    for (int k = 0; k < m; k++) first[k] = k;
    float[] expect = groupLogitsOf(groups, standardised(feats.plain(), first, f, norm), f, g);
    if (mirror) expect = HeadTrainer.mean(expect, groupLogitsOf(groups, standardised(feats.mirrored(), first, f, norm), f, g));
    float[] p = HeadTrainer.sigmoid(expect);
    double worst = 0;
    for (int i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - exported[i]));
    log.log("export check: the saved model's scores on %d posters differ from the trained head's by at most %.2g", m, worst);
    if (worst > 1e-3) throw new IllegalStateException("the exported model does not reproduce the trained head (largest difference " + worst + ")");
  }

  /** The groups' mean logits on standardised features [n, f], computed in plain Java (for the export check). */
  private static float[] groupLogitsOf(List<HeadGroup> groups, float[] x, int f, int g) {
    float[] sum = null;
    for (HeadGroup group : groups) {
      float[] l = logitsOf(group.heads(), columns(x, f, group.span()), group.span().width(), g);
      if (sum == null) sum = l;
      else for (int i = 0; i < l.length; i++) sum[i] += l[i];
    }
    for (int i = 0; i < sum.length; i++) sum[i] /= groups.size();
    return sum;
  }

  /** The heads' mean logits on standardised features, computed in plain Java (for the export check). */
  private static float[] logitsOf(List<HeadTrainer.Head> heads, float[] x, int f, int g) {
    float[] sum = null;
    for (HeadTrainer.Head head : heads) {
      float[] l = logitsOf(head, x, f, g);
      if (sum == null) sum = l;
      else for (int i = 0; i < l.length; i++) sum[i] += l[i];
    }
    for (int i = 0; i < sum.length; i++) sum[i] /= heads.size();
    return sum;
  }

  private static float[] logitsOf(HeadTrainer.Head head, float[] x, int f, int g) {
    int n = x.length / f;
    float[] out = new float[n * g];
    for (int i = 0; i < n; i++) {
      float[] z = Arrays.copyOfRange(x, i * f, (i + 1) * f);
      int width = f;
      if (head.w1() != null) {
        int hh = head.b1().length;
        float[] a = new float[hh];
        for (int u = 0; u < hh; u++) {
          double s = head.b1()[u];
          for (int v = 0; v < f; v++) s += z[v] * head.w1()[v * hh + u];
          a[u] = (float) Math.max(0, s);
        }
        z = a;
        width = hh;
      }
      for (int j = 0; j < g; j++) {
        double s = head.b2()[j];
        for (int v = 0; v < width; v++) s += z[v] * head.w2()[v * g + j];
        out[i * g + j] = (float) s;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ reporting

  /**
   * Figures for each fold with the settings (epochs; thresholds) chosen on the other folds'
   * out-of-fold scores, then their mean and standard deviation; and the pooled figures.
   */
  private Map<String, Object> crossValidatedReport(float[][] oof, float[][] oofMirror, boolean mirror, float[] labels, int[] fold, int g,
      int maxGenres, GenreRules.Ranking ranking, List<String> genres) {
    boolean[] common = FoldFigures.common(labels, g);
    List<FoldFigures.Fold> scored = new ArrayList<>();
    List<Map<String, Object>> foldRows = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      int fk = k;
      int[] held = indices(fold, i -> fold[i] == fk);
      int[] rest = indices(fold, i -> fold[i] != fk);
      float[] restLabels = gather(labels, rest, g);
      float[] heldLabels = gather(labels, held, g);
      // The epoch count the other folds' out-of-fold scores choose.
      double bestAuc = Double.NEGATIVE_INFINITY;
      int e = 0;
      for (int ee = 0; ee < oof.length; ee++) {
        double auc = macroAuc(gather(view(oof, oofMirror, mirror, ee), rest, g), restLabels, g);
        if (auc > bestAuc) {
          bestAuc = auc;
          e = ee;
        }
      }
      float[] restScores = HeadTrainer.sigmoid(gather(view(oof, oofMirror, mirror, e), rest, g));
      float[] heldScores = HeadTrainer.sigmoid(gather(view(oof, oofMirror, mirror, e), held, g));
      FoldFigures.Fold figures = FoldFigures.score(restScores, restLabels, java.util.Arrays.stream(rest).map(i -> fold[i]).toArray(), heldScores, heldLabels, g, maxGenres, ranking, rule,
          common, genres);
      scored.add(figures);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("fold", k + 1);
      row.put("posters", held.length);
      row.put("epochs_chosen_by_other_folds", e + 1);
      row.putAll(figures.toMap());
      foldRows.add(row);
    }
    Map<String, Object> summary = FoldFigures.summary(scored);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", folds + "-fold cross-validation over all readable posters; each fold scored by a head that never saw it, with the"
        + " epoch count and thresholds chosen on the other folds' out-of-fold scores; mean ± standard deviation over folds."
        + " Over-assignment: posters given a genre / posters that have it, largest over genres with 10 or more posters in the fold");
    m.put("summary", summary);
    m.put("folds", foldRows);
    return m;
  }

  private static float[] view(float[][] oof, float[][] oofMirror, boolean mirror, int e) {
    return mirror ? HeadTrainer.mean(oof[e], oofMirror[e]) : oof[e];
  }

  /** model.json's {@code source.decision_rule}: the ranking, the cap and how the thresholds were chosen. */
  public static Map<String, Object> decisionRule(CalibrationRule rule, GenreRules.Ranking ranking) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rank_by", ranking.jsonName());
    rule.putInto(m);
    m.put("thresholds_chosen_by", "micro-F1 + macro-F1 of the rule's decisions on all out-of-fold scores, " + rule.describe());
    return m;
  }

  private static void writeCurves(Path outDir, double[] curve, double[] curveTta) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("epochs,out_of_fold_macro_auc,out_of_fold_macro_auc_mirror_averaged");
    for (int e = 0; e < curve.length; e++) lines.add(String.format(Locale.ROOT, "%d,%.5f,%.5f", e + 1, curve[e], curveTta[e]));
    Path csv = outDir.resolve("cross-validation-curve.csv");
    Files.write(csv, lines, StandardCharsets.UTF_8);
    try {
      TrainingCharts.renderCurve(csv, outDir.resolve("cross-validation-curve.png"));
    } catch (IOException | RuntimeException e) {
      // A chart is a convenience; the CSV holds the figures.
    }
  }

  /** folds.txt: each poster's fold, relative to the dataset root, so the folds can be reproduced and compared. */
  private static void writeFolds(Path outDir, CcuDataset.Loaded data, int[] rows, int[] fold) throws IOException {
    Path root = Path.of(data.source()).toAbsolutePath();
    Path rootDir = Files.isDirectory(root) ? root : root.getParent();
    List<String> lines = new ArrayList<>();
    lines.add("# fold<TAB>poster, relative to " + rootDir);
    for (int k = 0; k < rows.length; k++) {
      Path p = data.examples().get(rows[k]).path().toAbsolutePath();
      lines.add((fold[k] + 1) + "\t" + (p.startsWith(rootDir) ? rootDir.relativize(p) : p).toString().replace('\\', '/'));
    }
    Files.write(outDir.resolve(OutOfFoldFiles.FOLDS), lines, StandardCharsets.UTF_8);
  }

  private static void writeScores(Path file, CcuDataset.Loaded data, int[] rows, float[] scores, List<String> genres) throws IOException {
    int g = genres.size();
    Path root = Path.of(data.source()).toAbsolutePath();
    Path rootDir = Files.isDirectory(root) ? root : root.getParent();
    List<String> lines = new ArrayList<>();
    lines.add("poster," + String.join(",", genres));
    for (int k = 0; k < rows.length; k++) {
      Path p = data.examples().get(rows[k]).path().toAbsolutePath();
      StringBuilder s = new StringBuilder((p.startsWith(rootDir) ? rootDir.relativize(p) : p).toString().replace('\\', '/'));
      for (int j = 0; j < g; j++) s.append(',').append(String.format(Locale.ROOT, "%.4f", scores[k * g + j]));
      lines.add(s.toString());
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ arrays

  /** Poster k goes to fold perm(k) mod K, the permutation seeded: folds differ in size by at most one. */
  static int[] dealFolds(int n, int k, long seed) {
    List<Integer> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) order.add(i);
    Collections.shuffle(order, new Random(seed));
    int[] fold = new int[n];
    for (int p = 0; p < n; p++) fold[order.get(p)] = p % k;
    return fold;
  }

  /** Up to {@value #REFERENCE_POSTERS} of {@code rows}, a seeded sample in their order. */
  static int[] referenceRows(int[] rows, long seed) {
    if (rows.length <= REFERENCE_POSTERS) return rows.clone();
    List<Integer> order = new ArrayList<>();
    for (int r : rows) order.add(r);
    Collections.shuffle(order, new Random(seed));
    return order.subList(0, REFERENCE_POSTERS).stream().mapToInt(Integer::intValue).sorted().toArray();
  }

  private static float[] concat(float[] a, float[] b) {
    if (b.length == 0) return a;
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** How far the folds' heads put each genre's logits apart: the largest spread of a genre's mean over the folds, at the last epoch. */
  private void logFoldScales(LogitScale[][] foldScales, List<String> genres, int g) {
    LogitScale[] last = foldScales[foldScales.length - 1];
    int worst = 0;
    double worstSpread = -1;
    for (int j = 0; j < g; j++) {
      double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
      for (LogitScale s : last) {
        lo = Math.min(lo, s.mean()[j]);
        hi = Math.max(hi, s.mean()[j]);
      }
      if (hi - lo > worstSpread) {
        worstSpread = hi - lo;
        worst = j;
      }
    }
    log.log("fold scales: each fold's out-of-fold logits placed by its heads' logits on up to %d of their training posters; the widest"
        + " spread of a genre's mean logit over the folds: %.2f (%s)", REFERENCE_POSTERS, worstSpread, genres.get(worst));
  }

  private static int[] indices(int[] over, java.util.function.IntPredicate keep) {
    return java.util.stream.IntStream.range(0, over.length).filter(keep).toArray();
  }

  private static int[] indices(byte[][] over, java.util.function.IntPredicate keep) {
    return java.util.stream.IntStream.range(0, over.length).filter(keep).toArray();
  }

  static float[] gather(float[] m, int[] idx, int width) {
    float[] out = new float[idx.length * width];
    for (int k = 0; k < idx.length; k++) System.arraycopy(m, idx[k] * width, out, k * width, width);
    return out;
  }

  private static void scatter(float[] part, int[] idx, int width, float[] into) {
    for (int k = 0; k < idx.length; k++) System.arraycopy(part, k * width, into, idx[k] * width, width);
  }

  /** The mirror image's and each crop's features of posters {@code idx}, standardised. */
  private static float[][] trainingViews(Features feats, int[] idx, int f, float[][] norm) {
    float[][] views = new float[1 + feats.crops().length][];
    views[0] = standardised(feats.mirrored(), idx, f, norm);
    for (int c = 0; c < feats.crops().length; c++) views[c + 1] = standardised(feats.crops()[c], idx, f, norm);
    return views;
  }

  /** The parts of the features that families of heads read: all of them, or each backbone's with {@link #withHeadPerBackbone}. */
  private List<Span> spans(KerasBackbone backbone, int f) {
    if (!headPerBackbone) return List.of(new Span("all", 0, f));
    if (backbone.second() == null) throw new IllegalArgumentException("--head-per-backbone needs --second-backbone");
    int second;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, backbone.height(), backbone.width(), 3)));
      second = (int) backbone.second().features(tf, x).shape().size(1);
    }
    if (second <= 0 || second >= f) throw new IllegalStateException("the second backbone has " + second + " of the " + f + " features");
    return List.of(new Span(backbone.kind().name().toLowerCase(Locale.ROOT), 0, f - second), new Span(backbone.second().preset().name(), f - second, f));
  }

  /** Columns {@code [span.from, span.to)} of a row-major [n, f] array; the array itself for all of them; null for null. */
  static float[] columns(float[] x, int f, Span span) {
    if (x == null || (span.from() == 0 && span.to() == f)) return x;
    int n = x.length / f;
    int w = span.width();
    float[] out = new float[n * w];
    for (int i = 0; i < n; i++) System.arraycopy(x, i * f + span.from(), out, i * w, w);
    return out;
  }

  private static float[][] columns(float[][] views, int f, Span span) {
    if (views == null) return null;
    float[][] out = new float[views.length][];
    for (int v = 0; v < views.length; v++) out[v] = columns(views[v], f, span);
    return out;
  }

  private static float[] standardised(float[] m, int[] idx, int f, float[][] norm) {
    float[] out = gather(m, idx, f);
    BackboneTrainer.standardise(out, norm);
    return out;
  }

  private static double macroAuc(float[] scoresOrLogits, float[] labels, int g) {
    // ROC-AUC depends only on the order, so logits and sigmoid scores give the same figure.
    return Metrics.nanMean(Metrics.aucs(scoresOrLogits, labels, g));
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  }
}
