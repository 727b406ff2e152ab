package io.postergenres.eval;

import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.FoldFigures;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.metrics.Metrics;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.text.TextSpec;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.pretrained.CrossValidatedTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;

/**
 * A cross-validated model's thresholds chosen again under another decision rule, from the
 * out-of-fold scores its training wrote: the network and its scores are unchanged, only {@code
 * model.json} (thresholds, version, {@code source.decision_rule}, the cross-validated figures and the
 * per-genre table) is new. The figures of both rules are computed the same way (each fold's
 * thresholds calibrated on the other folds' out-of-fold scores), so they can be set side by side.
 */
public final class Recalibration {
  private Recalibration() {}

  /**
   * What was written: the new spec, each rule's figures (mean ± sd over the folds; {@code before}
   * null where the model's own rule is not named in its model.json), and whether a text stage was
   * left behind (its thresholds follow the image model's rule: train it again on the new copy).
   */
  public record Outcome(Path dir, ModelSpec spec, CalibrationRule previousRule, Map<String, Object> before, Map<String, Object> after,
      boolean textStageLeftOut, int posters, int folds) {}

  /**
   * Writes into {@code output} (new or empty; the caller checks) a copy of {@code modelDir} whose
   * thresholds are calibrated under {@code rule} on its out-of-fold scores of {@code data}'s posters,
   * version {@code version}, giving 1 to {@code maxGenres} genres a poster (null: as many as the model).
   */
  public static Outcome run(CcuDataset.Loaded data, Path datasetRoot, Path modelDir, Path output, CalibrationRule rule, Integer maxGenres,
      String version) throws IOException {
    Evaluator.Result r = Evaluator.run(data, datasetRoot, new Evaluator.Options(modelDir, Evaluator.OUT_OF_FOLD, 32, 1, 50_000_000L, false));
    int[] fold = Evaluator.folds(r, modelDir, datasetRoot);
    float[] labels = Evaluator.labels(r.scored(), r.genres(), new HashSet<>());
    ModelSpec spec = r.spec();
    List<String> genres = r.genres();
    int g = genres.size();
    int newMax = maxGenres != null ? maxGenres : spec.maxGenres();
    GenreRules.Ranking ranking = spec.ranking();
    if (spec.minGenres() != 1) {
      throw new IllegalArgumentException(modelDir + " gives at least " + spec.minGenres() + " genres a poster; calibration assumes 1");
    }

    CalibrationRule previous = CalibrationRule.of(spec);
    Map<String, Object> before = previous == null ? null : figures(r.scores(), labels, fold, g, spec.maxGenres(), ranking, previous, genres);
    Map<String, Object> after = figures(r.scores(), labels, fold, g, newMax, ranking, rule, genres);
    float[] thresholds = RuleCalibration.asWritten(rule.calibrate(r.scores(), labels, g, newMax, ranking, fold));
    Map<String, Double> thresholdMap = RuleCalibration.thresholdMap(genres, thresholds);

    Map<String, Object> source = new LinkedHashMap<>(spec.source() == null ? Map.of() : spec.source());
    Map<String, Object> from = new LinkedHashMap<>();
    from.put("version", spec.version());
    from.put("fingerprint", ((Map<?, ?>) r.report().get("model")).get("fingerprint")); // as the evaluation read it, not read again
    from.put(ModelSpec.DECISION_RULE, source.get(ModelSpec.DECISION_RULE));
    from.put("cross_validation", source.get("cross_validation"));
    source.put("recalibrated_from", from);
    List<String> sameScores = new ArrayList<>(List.of(spec.version()));
    for (String v : spec.sameScoresAs()) if (!sameScores.contains(v)) sameScores.add(v);
    source.put(ModelSpec.SAME_SCORES_AS, sameScores); // nightly runs decide these versions' rows again from their scores
    source.put(ModelSpec.DECISION_RULE, CrossValidatedTrainer.decisionRule(rule, ranking));
    Map<String, Object> cv = new LinkedHashMap<>();
    cv.put("method", fold.length + " posters' out-of-fold scores (the epoch count chosen in training); each fold scored with the thresholds"
        + " calibrated under the rule on the other folds' scores; mean ± standard deviation over folds. Over-assignment: posters given"
        + " a genre / posters that have it, largest over genres with 10 or more posters in the fold. The previous rule's figures,"
        + " computed the same way, are under previous_rule (those of training, each fold's epochs chosen by the others, under"
        + " recalibrated_from)");
    cv.putAll(after);
    if (before != null) cv.put("previous_rule", before);
    source.put("cross_validation", cv);
    source.put("per_genre", FoldFigures.perGenre(r.scores(), labels, g, genres, thresholds, newMax, ranking));
    ModelSpec out = spec.withThresholds(thresholdMap).withGenreBounds(1, newMax).withVersion(version).withSource(source);

    boolean text = copy(modelDir, output);
    Files.write(output.resolve(ModelSpec.FILE_NAME), out.toJson());
    ModelPackage.read(output.toAbsolutePath().toString(), new Configuration()); // what the job will check
    return new Outcome(output, out, previous, before, after, text, fold.length, (int) java.util.Arrays.stream(fold).distinct().count());
  }

  /** The held-out figures of every fold under {@code rule} and their mean ± sd. */
  static Map<String, Object> figures(float[] scores, float[] labels, int[] fold, int g, int maxGenres, GenreRules.Ranking ranking,
      CalibrationRule rule, List<String> genres) {
    boolean[] common = FoldFigures.common(labels, g);
    List<FoldFigures.Fold> scored = new ArrayList<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int k : java.util.Arrays.stream(fold).distinct().sorted().toArray()) {
      int[] held = java.util.stream.IntStream.range(0, fold.length).filter(i -> fold[i] == k).toArray();
      int[] rest = java.util.stream.IntStream.range(0, fold.length).filter(i -> fold[i] != k).toArray();
      FoldFigures.Fold f = FoldFigures.score(gather(scores, rest, g), gather(labels, rest, g), java.util.Arrays.stream(rest).map(i -> fold[i]).toArray(),
          gather(scores, held, g), gather(labels, held, g), g, maxGenres, ranking, rule, common, genres);
      scored.add(f);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("fold", k);
      row.put("posters", held.length);
      row.putAll(f.toMap());
      rows.add(row);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rule", "1-" + maxGenres + " genres a poster, " + rule.describe());
    m.put("summary", FoldFigures.summary(scored));
    m.put("folds", rows);
    m.put("pooled_macro_roc_auc", Metrics.round(Metrics.nanMean(Metrics.aucs(scores, labels, g)), 4));
    return m;
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
    }
  }

  private static float[] gather(float[] m, int[] rows, int g) {
    float[] out = new float[rows.length * g];
    for (int r = 0; r < rows.length; r++) System.arraycopy(m, rows[r] * g, out, r * g, g);
    return out;
  }

  /**
   * Copies every file of the model but its model.json, its evaluation (of the old thresholds) and its
   * text stage (whose thresholds were calibrated under the old rule); true when there was a text stage.
   */
  private static boolean copy(Path src, Path dst) throws IOException {
    Files.createDirectories(dst);
    // An output written over (--overwrite) must not keep a text stage or an evaluation of an earlier copy.
    for (String stale : List.of(TextSpec.DIR, TextSpec.DIR + ".new", "evaluation.json")) deleteTree(dst.resolve(stale));
    boolean text = false;
    List<Path> files;
    try (Stream<Path> walk = Files.walk(src)) {
      files = walk.sorted().toList();
    }
    for (Path f : files) {
      Path rel = src.relativize(f);
      String top = rel.getNameCount() == 0 ? "" : rel.getName(0).toString();
      if (top.equals(TextSpec.DIR) || top.equals(TextSpec.DIR + ".new")) {
        text = true;
        continue;
      }
      Path target = dst.resolve(rel.toString());
      if (Files.isDirectory(f)) {
        Files.createDirectories(target);
      } else if (!rel.toString().equals(ModelSpec.FILE_NAME) && !rel.toString().equals("evaluation.json")) {
        Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return text;
  }
}
