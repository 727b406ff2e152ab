package io.postergenres.eval;

import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.RuleStudy;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import io.postergenres.text.TextReader;
import io.postergenres.text.TextSpec;
import io.postergenres.text.TextStage;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.OutOfFoldFiles;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores labelled posters with a model directory and evaluates it ({@link Evaluation}): picks the
 * posters (all of a dataset, or the ones the model's {@code validation.txt} held out in training),
 * decodes them through the shared {@link Preprocessor}, scores them in batches through {@link
 * PosterModel}, and works out the frequency prior from the training posters.
 */
public final class Evaluator {
  private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);
  public static final String VALIDATION_LIST = "validation.txt";
  /** Written by {@code train --folds}: each poster's scores from the fold head that never saw it. */
  public static final String OUT_OF_FOLD_SCORES = OutOfFoldFiles.SCORES;
  public static final String OUT_OF_FOLD = "out-of-fold";

  /**
   * Settings. {@code split} is "validation", "all" or "out-of-fold"; threads 0 means all cores;
   * {@code readText}: score with the model's text stage blended in, as {@code label --read-text}.
   */
  public record Options(Path modelDir, String split, int batchSize, int threads, long maxPixels, boolean bf16, boolean readText) {
    public Options(Path modelDir, String split, int batchSize, int threads, long maxPixels, boolean bf16) {
      this(modelDir, split, batchSize, threads, maxPixels, bf16, false);
    }

    public Options {
      if (readText && split.equals(OUT_OF_FOLD)) {
        throw new IllegalArgumentException("--read-text scores the posters, and out-of-fold scores are the image model's alone; the text"
            + " stage's own cross-validated figures are in text/text.json (source.cross_validation). Use --split all on posters the"
            + " model never saw (--manifest), or leave out --read-text");
      }
      if (!split.equals("validation") && !split.equals("all") && !split.equals(OUT_OF_FOLD)) {
        throw new IllegalArgumentException("--split must be validation, out-of-fold or all, got " + split);
      }
      if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be 1 or more, got " + batchSize);
      if (threads < 0) throw new IllegalArgumentException("--threads must be 0 (all cores) or more, got " + threads);
    }
  }

  /** The evaluation and everything about the run, as written to JSON. */
  public record Result(Evaluation evaluation, Map<String, Object> report, List<CcuDataset.Example> scored, float[] scores, List<String> genres,
      ModelSpec spec) {

    /** One CSV row per scored poster: path, its labelled genres (|-separated), then a score per genre. */
    public List<String> scoresCsv() {
      int g = genres.size();
      List<String> lines = new ArrayList<>();
      lines.add("path,genres," + String.join(",", genres));
      for (int i = 0; i < scored.size(); i++) {
        StringBuilder b = new StringBuilder();
        String path = scored.get(i).path().toString();
        b.append(path.contains(",") || path.contains("\"") ? '"' + path.replace("\"", "\"\"") + '"' : path).append(',');
        b.append(String.join("|", new TreeSet<>(scored.get(i).genres())));
        for (int j = 0; j < g; j++) b.append(',').append(String.format(Locale.ROOT, "%.6f", scores[i * g + j]));
        lines.add(b.toString());
      }
      return lines;
    }
  }

  private Evaluator() {}

  /** Posters chosen for evaluation, and the rest of the dataset (the training posters, for the prior). */
  record Selection(List<CcuDataset.Example> evaluate, List<CcuDataset.Example> rest, int listedWithoutLabels, String description) {}

  public static Result run(CcuDataset.Loaded data, Path datasetRoot, Options opt) throws IOException {
    long start = System.nanoTime();
    ModelPackage pkg = ModelPackage.read(opt.modelDir().toAbsolutePath().toString(), new Configuration());
    if (opt.readText()) pkg = pkg.withTextStage(); // its thresholds and version; refused with what to do when there is none
    ModelSpec spec = pkg.spec();
    Selection sel = select(data, datasetRoot, opt);
    LOG.info("Evaluating {} {} on {} posters ({})", spec.name(), spec.version(), sel.evaluate().size(), sel.description());
    if (sel.evaluate().isEmpty()) throw new IOException("no labelled posters to evaluate (" + sel.description() + ")");
    List<String> genres = spec.genres();
    int g = genres.size();
    int threads = ModelCache.Settings.orAllCores(opt.threads());

    // ---- score (or, out of fold, read the scores training wrote) ----
    Preprocessor pre = new Preprocessor(spec.inputHeight(), spec.inputWidth(), opt.maxPixels());
    List<CcuDataset.Example> scored = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    float[] scores;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    if (opt.split().equals(OUT_OF_FOLD)) {
      pool.shutdown();
      Map<Path, float[]> oof = OutOfFoldFiles.scores(opt.modelDir(), datasetRoot, genres).byPoster();
      for (CcuDataset.Example e : sel.evaluate()) scored.add(e);
      scores = new float[scored.size() * g];
      for (int i = 0; i < scored.size(); i++) System.arraycopy(oof.get(scored.get(i).path().toAbsolutePath().normalize()), 0, scores, i * g, g);
    } else try (PosterModel model = PosterModel.load(opt.modelDir(), spec, threads, Math.min(2, threads), opt.bf16());
        TextStage text = opt.readText() ? TextStage.load(opt.modelDir().resolve(TextSpec.DIR), genres, threads) : null) {
      Preprocessor textDecoder = text == null ? null : TextReader.decoder(opt.maxPixels());
      int per = pre.floatsPerImage();
      int b = opt.batchSize();
      float[] batch = new float[b * per];
      List<float[]> parts = new ArrayList<>();
      List<CcuDataset.Example> all = sel.evaluate();
      for (int from = 0; from < all.size(); from += b) {
        List<CcuDataset.Example> chunk = all.subList(from, Math.min(all.size(), from + b));
        List<Future<float[]>> decoded = new ArrayList<>();
        for (CcuDataset.Example e : chunk) {
          decoded.add(pool.submit(() -> pre.preprocess(Files.readAllBytes(e.path()))));
        }
        int n = 0;
        for (int k = 0; k < chunk.size(); k++) {
          try {
            System.arraycopy(decoded.get(k).get(), 0, batch, n * per, per);
            scored.add(chunk.get(k));
            n++;
          } catch (ExecutionException ex) {
            Throwable c = ex.getCause();
            if (!(c instanceof PosterException || c instanceof IOException)) throw new IOException("decoding failed: " + c, c);
            unreadable.add(chunk.get(k).path() + ": " + c.getMessage());
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
          }
        }
        if (n > 0) {
          float[] p = model.predict(batch, n);
          if (text != null) {
            List<byte[]> files = new ArrayList<>(n);
            for (CcuDataset.Example e : scored.subList(scored.size() - n, scored.size())) files.add(Files.readAllBytes(e.path()));
            text.blendFiles(p, files, textDecoder);
          }
          parts.add(p);
        }
      }
      scores = new float[scored.size() * g];
      int o = 0;
      for (float[] p : parts) {
        System.arraycopy(p, 0, scores, o, p.length);
        o += p.length;
      }
    } finally {
      pool.shutdownNow();
    }
    if (scored.isEmpty()) throw new IOException("none of the " + sel.evaluate().size() + " posters could be read; first: " + unreadable.get(0));

    // ---- labels in the model's genre order ----
    Set<String> unknown = new TreeSet<>();
    float[] labels = labels(scored, genres, unknown);

    // ---- prior frequencies ----
    float[] prior = new float[g];
    String priorSource;
    int priorPosters;
    Object splitInfo = spec.source() == null ? null : spec.source().get("split");
    Object perGenre = spec.source() == null ? null : spec.source().get("per_genre");
    if (!sel.rest().isEmpty()) {
      float[] restLabels = labels(sel.rest(), genres, unknown);
      for (int i = 0; i < restLabels.length; i++) prior[i % g] += restLabels[i];
      priorPosters = sel.rest().size();
      for (int j = 0; j < g; j++) prior[j] /= priorPosters;
      priorSource = "training posters: the dataset's labelled posters not in " + VALIDATION_LIST;
    } else if (splitInfo instanceof Map<?, ?> split && split.get("train") instanceof Number train
        && perGenre instanceof Map<?, ?> pg && trainCounts(pg, genres) != null) {
      int[] counts = trainCounts(pg, genres);
      priorPosters = train.intValue();
      for (int j = 0; j < g; j++) prior[j] = (float) counts[j] / priorPosters;
      priorSource = "model.json training counts (source.per_genre.*.train_positives / source.split.train)";
    } else {
      for (int i = 0; i < labels.length; i++) prior[i % g] += labels[i];
      priorPosters = scored.size();
      for (int j = 0; j < g; j++) prior[j] /= priorPosters;
      priorSource = "the evaluated posters themselves (in-sample: no training counts known)";
    }

    Evaluation ev = Evaluation.compute(scores, labels, genres, spec.thresholdArray(), spec.minGenres(), spec.maxGenres(), spec.ranking(),
        prior);
    double seconds = (System.nanoTime() - start) / 1e9;

    Map<String, Object> report = new LinkedHashMap<>();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("dir", opt.modelDir().toString());
    m.put("name", spec.name());
    m.put("version", spec.version());
    m.put("fingerprint", pkg.fingerprint());
    m.put("input", spec.inputHeight() + "x" + spec.inputWidth());
    m.put("min_genres", spec.minGenres());
    m.put("max_genres", spec.maxGenres());
    report.put("model", m);
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("source", data.source());
    d.put("split", opt.split());
    d.put("selection", sel.description());
    d.put("posters_selected", sel.evaluate().size());
    d.put("posters_evaluated", scored.size());
    d.put("unreadable", unreadable.size());
    if (!unreadable.isEmpty()) d.put("unreadable_first", unreadable.subList(0, Math.min(10, unreadable.size())));
    d.put("listed_without_labels", sel.listedWithoutLabels());
    d.put("dataset_genres_not_in_model", List.copyOf(unknown));
    if (opt.split().equals("validation") && splitInfo instanceof Map<?, ?>) {
      d.put("caveat", "the thresholds in model.json were calibrated on these same validation posters, so F1 figures at"
          + " those thresholds are optimistic; ROC-AUC and average precision do not depend on thresholds");
    }
    report.put("data", d);
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("source", priorSource);
    p.put("posters", priorPosters);
    Map<String, Object> freq = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) freq.put(genres.get(j), Evaluation.round(prior[j]));
    p.put("frequencies", freq);
    report.put("prior", p);
    report.putAll(ev.toMap());
    report.put("seconds", Math.round(seconds * 10) / 10.0);
    report.put("threads", threads);
    LOG.info("Scored {} posters ({} unreadable) in {} s", scored.size(), unreadable.size(), report.get("seconds"));
    return new Result(ev, report, List.copyOf(scored), scores, genres, spec);
  }

  /** Written by {@code train --folds}: each poster's fold, relative to the dataset root. */
  public static final String FOLD_LIST = OutOfFoldFiles.FOLDS;

  /**
   * Decision rules around the model's own, each calibrated on all folds but one and scored on that
   * one ({@link RuleStudy}), from an out-of-fold evaluation and the model's {@code folds.txt}.
   */
  public static RuleStudyResult ruleStudy(Result result, Path modelDir, Path datasetRoot) throws IOException {
    int[] fold = folds(result, modelDir, datasetRoot);
    float[] labels = labels(result.scored(), result.genres(), new HashSet<>());
    int g = result.genres().size();
    List<RuleStudy.Setting> settings = new ArrayList<>(RuleStudy.grid(result.spec().maxGenres()));
    CalibrationRule rule = CalibrationRule.of(result.spec());
    RuleStudy.Setting own = rule == null ? null : rule.setting(result.spec().maxGenres());
    if (own != null && !settings.contains(own)) settings.add(own);
    List<RuleStudy.Row> rows = RuleStudy.run(result.scores(), labels, fold, g, result.spec().ranking(), settings, 10);
    if (own == null) return new RuleStudyResult(rows, null, null, labels);
    RuleStudy.Row ownRow = rows.stream().filter(r -> r.setting().equals(own)).findFirst().orElseThrow();
    return new RuleStudyResult(rows, own, RuleStudy.heldOutShares(ownRow, labels, g), labels);
  }

  /**
   * The out-of-fold figures the way a model card reports them: each fold scored with thresholds
   * calibrated under the model's own rule on the other folds' scores, and their mean ± sd over the
   * folds ({@link Recalibration#figures}); null where the model's model.json names no rule or it has
   * no {@code folds.txt}.
   */
  public static Map<String, Object> crossValidated(Result result, Path modelDir, Path datasetRoot) throws IOException {
    CalibrationRule rule = CalibrationRule.of(result.spec());
    if (rule == null || !Files.isRegularFile(modelDir.resolve(FOLD_LIST))) return null;
    int[] fold = folds(result, modelDir, datasetRoot);
    float[] labels = labels(result.scored(), result.genres(), new HashSet<>());
    return Recalibration.figures(result.scores(), labels, fold, result.genres().size(), result.spec().maxGenres(), result.spec().ranking(), rule,
        result.genres());
  }

  /** Each scored poster's fold, from the model's {@code folds.txt}. */
  static int[] folds(Result result, Path modelDir, Path datasetRoot) throws IOException {
    Path file = modelDir.resolve(FOLD_LIST);
    Map<Path, Integer> foldOf = OutOfFoldFiles.folds(modelDir, datasetRoot);
    int[] fold = new int[result.scored().size()];
    for (int i = 0; i < fold.length; i++) {
      Integer k = foldOf.get(result.scored().get(i).path().toAbsolutePath().normalize());
      if (k == null) throw new IOException(file + " has no fold for " + result.scored().get(i).path() + "; is --dataset the folder the model was trained on?");
      fold[i] = k;
    }
    return fold;
  }

  /**
   * A rule study's rows, and for the model's own rule (where its model.json names the cap) each
   * genre's share of assignments on every held-out fold ({@link RuleStudy#heldOutShares}).
   */
  public record RuleStudyResult(List<RuleStudy.Row> rows, RuleStudy.Setting modelRule, double[][] shares, float[] labels) {}

  /**
   * Two evaluations on the posters both held out (the intersection of what each scored), side by
   * side: the overall figures with their bootstrap spread, and per genre ROC-AUC, F1 and
   * posters-given over posters-having.
   */
  public static Comparison compare(CcuDataset.Loaded data, Result a, Result b) {
    Map<Path, Integer> inB = new LinkedHashMap<>();
    for (int i = 0; i < b.scored().size(); i++) inB.put(b.scored().get(i).path().toAbsolutePath().normalize(), i);
    List<Integer> ia = new ArrayList<>();
    List<Integer> ib = new ArrayList<>();
    for (int i = 0; i < a.scored().size(); i++) {
      Integer j = inB.get(a.scored().get(i).path().toAbsolutePath().normalize());
      if (j != null) {
        ia.add(i);
        ib.add(j);
      }
    }
    if (ia.isEmpty()) throw new IllegalArgumentException("the two models share no held-out poster to compare on");
    if (!a.genres().equals(b.genres())) throw new IllegalArgumentException("the two models have different genres: " + a.genres() + " and " + b.genres());
    List<CcuDataset.Example> common = new ArrayList<>();
    for (int i : ia) common.add(a.scored().get(i));
    float[] labels = labels(common, a.genres(), new TreeSet<>());
    return new Comparison(common.size(), List.of(side(a, ia, labels), side(b, ib, labels)));
  }

  private static Side side(Result r, List<Integer> idx, float[] labels) {
    int g = r.genres().size();
    float[] s = new float[idx.size() * g];
    for (int k = 0; k < idx.size(); k++) System.arraycopy(r.scores(), idx.get(k) * g, s, k * g, g);
    ModelSpec spec = r.spec();
    float[] prior = new float[g];
    for (int i = 0; i < labels.length; i++) prior[i % g] += labels[i] / idx.size();
    Evaluation ev = Evaluation.compute(s, labels, r.genres(), spec.thresholdArray(), spec.minGenres(), spec.maxGenres(), spec.ranking(), prior);
    double[] sd = Evaluation.bootstrapSpread(s, labels, r.genres(), spec.thresholdArray(), spec.minGenres(), spec.maxGenres(), spec.ranking(), 200, 7);
    Map<?, ?> data = (Map<?, ?>) r.report().get("data");
    return new Side(spec.name() + " " + spec.version() + " (split " + data.get("split") + ": " + data.get("selection") + ")", ev, sd);
  }

  /** One model's side of a comparison. */
  public record Side(String name, Evaluation evaluation, double[] spread) {}

  /** Two models on the same held-out posters. */
  public record Comparison(int posters, List<Side> sides) {
    public String table() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "Side by side on the %d posters both models held out (± bootstrap standard deviation, 200 resamples):%n", posters));
      b.append(String.format(Locale.ROOT, "%-4s %16s %16s %16s %16s  %s%n", "", "macro ROC-AUC", "mAP", "micro-F1", "macro-F1",
          "most over-assigned (10+ posters)"));
      for (int k = 0; k < sides.size(); k++) {
        Side s = sides.get(k);
        Evaluation.Summary m = s.evaluation().model();
        Map.Entry<String, Double> worst = s.evaluation().mostOverAssigned(10);
        b.append(String.format(Locale.ROOT, "%-4s %16s %16s %16s %16s  %s%n", "#" + (k + 1), pm(m.macroRocAuc(), s.spread()[0]),
            pm(m.meanAveragePrecision(), s.spread()[1]), pm(m.microF1(), s.spread()[2]), pm(m.macroF1(), s.spread()[3]),
            String.format(Locale.ROOT, "%.2f (%s)", worst.getValue(), worst.getKey())));
      }
      b.append(String.format(Locale.ROOT, "%n%-12s %7s", "genre", "support"));
      for (int k = 0; k < sides.size(); k++) b.append(String.format(Locale.ROOT, " %7s %6s %8s", "AUC#" + (k + 1), "F1#" + (k + 1), "p/s#" + (k + 1)));
      b.append('\n');
      List<Evaluation.GenreRow> first = sides.get(0).evaluation().rows();
      for (int j = 0; j < first.size(); j++) {
        b.append(String.format(Locale.ROOT, "%-12s %7d", first.get(j).genre(), first.get(j).support()));
        for (Side s : sides) {
          Evaluation.GenreRow r = s.evaluation().rows().get(j);
          b.append(String.format(Locale.ROOT, " %7s %6s %8s", num(r.rocAuc()), num(r.f1()),
              r.support() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) r.predicted() / r.support())));
        }
        b.append('\n');
      }
      for (int k = 0; k < sides.size(); k++) b.append(String.format(Locale.ROOT, "#%d: %s%n", k + 1, sides.get(k).name()));
      return b.toString();
    }

    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("posters", posters);
      List<Map<String, Object>> list = new ArrayList<>();
      for (Side s : sides) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("model", s.name());
        e.put("figures", s.evaluation().toMap());
        e.put("bootstrap_sd", Map.of("macro_roc_auc", Evaluation.round(s.spread()[0]), "map", Evaluation.round(s.spread()[1]),
            "micro_f1", Evaluation.round(s.spread()[2]), "macro_f1", Evaluation.round(s.spread()[3])));
        list.add(e);
      }
      m.put("models", list);
      return m;
    }

    private static String pm(double v, double sd) {
      return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f ± %.4f", v, sd);
    }

    private static String num(double v) {
      return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }
  }

  private static int[] trainCounts(Map<?, ?> perGenre, List<String> genres) {
    int[] counts = new int[genres.size()];
    for (int j = 0; j < counts.length; j++) {
      if (!(perGenre.get(genres.get(j)) instanceof Map<?, ?> e) || !(e.get("train_positives") instanceof Number c)) return null;
      counts[j] = c.intValue();
    }
    return counts;
  }

  static float[] labels(List<CcuDataset.Example> examples, List<String> genres, Set<String> unknown) {
    int g = genres.size();
    Map<String, Integer> index = new LinkedHashMap<>();
    for (int j = 0; j < g; j++) index.put(genres.get(j), j);
    float[] labels = new float[examples.size() * g];
    for (int i = 0; i < examples.size(); i++) {
      for (String genre : examples.get(i).genres()) {
        Integer j = index.get(genre);
        if (j == null) unknown.add(genre);
        else labels[i * g + j] = 1f;
      }
    }
    return labels;
  }

  /**
   * The posters to evaluate. {@code validation}: those in the model's validation.txt, whose paths
   * are relative to {@code datasetRoot} (or to the root its first comment line names).
   */
  static Selection select(CcuDataset.Loaded data, Path datasetRoot, Options opt) throws IOException {
    if (opt.split().equals("all")) {
      return new Selection(data.examples(), List.of(), 0, "every labelled poster of the dataset");
    }
    if (opt.split().equals(OUT_OF_FOLD)) {
      Map<Path, float[]> oof;
      try {
        oof = OutOfFoldFiles.scores(opt.modelDir(), datasetRoot, null).byPoster();
      } catch (FileNotFoundException e) {
        throw new FileNotFoundException(e.getMessage() + "; use --split validation or all");
      }
      List<CcuDataset.Example> evaluate = new ArrayList<>();
      for (CcuDataset.Example e : data.examples()) if (oof.containsKey(e.path().toAbsolutePath().normalize())) evaluate.add(e);
      if (evaluate.isEmpty()) throw new IOException("none of the posters of " + opt.modelDir().resolve(OUT_OF_FOLD_SCORES) + " is a labelled poster of "
          + data.source() + "; is --dataset the folder the model was trained on?");
      return new Selection(evaluate, List.of(), oof.size() - evaluate.size(), oof.size() + " posters of " + OUT_OF_FOLD_SCORES
          + ", each scored by the fold head that never saw it (cross-validation)");
    }
    Path list = opt.modelDir().resolve(VALIDATION_LIST);
    if (!Files.isRegularFile(list)) {
      boolean cv = Files.isRegularFile(opt.modelDir().resolve(OUT_OF_FOLD_SCORES));
      throw new FileNotFoundException(list + " does not exist: the model has no list of held-out posters; use --split "
          + (cv ? OUT_OF_FOLD + " (it was cross-validated)" : "all"));
    }
    List<String> lines = Files.readAllLines(list, StandardCharsets.UTF_8);
    Path commentRoot = null;
    for (String line : lines) {
      int at = line.indexOf("relative to ");
      if (line.startsWith("#") && at >= 0) {
        commentRoot = Path.of(line.substring(at + "relative to ".length()).trim());
        break;
      }
    }
    Map<Path, CcuDataset.Example> byPath = new LinkedHashMap<>();
    for (CcuDataset.Example e : data.examples()) byPath.put(e.path().toAbsolutePath().normalize(), e);
    Set<Path> chosen = new HashSet<>();
    List<CcuDataset.Example> evaluate = new ArrayList<>();
    int withoutLabels = 0;
    int listed = 0;
    Path root = datasetRoot.toAbsolutePath().normalize();
    for (String line : lines) {
      String entry = line.trim();
      if (entry.isEmpty() || entry.startsWith("#")) continue;
      listed++;
      Path p = Path.of(entry);
      Path resolved = p.isAbsolute() ? p.normalize() : root.resolve(p).normalize();
      CcuDataset.Example e = byPath.get(resolved);
      if (e == null && !p.isAbsolute() && commentRoot != null) e = byPath.get(commentRoot.toAbsolutePath().resolve(p).normalize());
      if (e == null) {
        withoutLabels++;
        continue;
      }
      if (chosen.add(e.path().toAbsolutePath().normalize())) evaluate.add(e);
    }
    if (listed > 0 && evaluate.isEmpty()) {
      throw new IOException("none of the " + listed + " posters of " + list + " is a labelled poster of " + data.source()
          + "; is --dataset the folder the model was trained on?");
    }
    List<CcuDataset.Example> rest = new ArrayList<>();
    for (CcuDataset.Example e : data.examples()) if (!chosen.contains(e.path().toAbsolutePath().normalize())) rest.add(e);
    return new Selection(evaluate, rest, withoutLabels,
        listed + " posters of " + list + " (held out in training), " + evaluate.size() + " labelled in the dataset");
  }
}
