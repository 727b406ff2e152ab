package io.postergenres.train.pretrained;

import io.postergenres.train.TrainingConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.eval.Evaluator;
import io.postergenres.metrics.CalibrationRule;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.TrainerTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --arch pretrained --folds K} end to end on the tiny synthetic backbone of {@link
 * BackboneTrainerTest} and 16 generated posters (red ones Horror, blue ones Drama): a poster's own
 * shape as input, out-of-fold scores for every poster, the choices and figures in model.json, one
 * SavedModel that the job's loader accepts and that tells the two colours apart.
 */
class CrossValidatedTrainerTest {
  @TempDir Path dir;

  @Test
  void crossValidatesOverAllPostersAndShipsAHeadTrainedOnAll() throws Exception {
    CcuDataset.Loaded data = CcuDataset.readManifest(TrainerTest.writeManifest(dir));
    Path backbone = new BackboneTrainerTest().backbone(dir);
    TrainingConfig cfg = new TrainingConfig(16, 20, 4, 1e-2f, 0.25, 3, 0.2f, "sqrt", 1, 50_000_000L, 0, "0.0.1-test", "pretrained", true);
    Path out = dir.resolve("model");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    new CrossValidatedTrainer(cfg, backbone, 8, KerasBackbone.InputScaling.UNIT, List.of("out_relu", KerasBackbone.PIXELS),
        dir.resolve("cache"), 4, 24, 16, null, true, 2, true, new PrintStream(log, true, StandardCharsets.UTF_8)).train(data, out);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("fold 4/4"), text);
    assertTrue(text.contains("export check"), text);
    assertTrue(text.contains("fold scales: each fold's out-of-fold logits placed"), text);

    ModelSpec spec = ModelPackage.read(out.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec();
    assertEquals(CrossValidatedTrainer.MODEL_NAME, spec.name());
    assertEquals(24, spec.inputHeight());
    assertEquals(16, spec.inputWidth());
    assertEquals(GenreRules.Ranking.THRESHOLD_RATIO, spec.ranking());
    Map<?, ?> split = (Map<?, ?>) spec.source().get("split");
    assertEquals(16, ((Number) split.get("posters")).intValue());
    Map<?, ?> cv = (Map<?, ?>) spec.source().get("cross_validation");
    assertEquals(4, ((List<?>) cv.get("folds")).size());
    Map<?, ?> summary = (Map<?, ?>) cv.get("summary");
    assertTrue(summary.get("macro_roc_auc").toString().contains("±"), summary.toString());
    // The colours decide the genres, so a head that learned anything ranks the held-out posters well.
    double auc = Double.parseDouble(summary.get("macro_roc_auc").toString().split(" ")[0]);
    assertTrue(auc > 0.8, "cross-validated macro ROC-AUC " + auc + ": " + text);
    Map<?, ?> perGenre = (Map<?, ?>) spec.source().get("per_genre");
    assertTrue(((Map<?, ?>) perGenre.get("Horror")).containsKey("share_assigned"), perGenre.toString());
    // The thresholds were chosen on out-of-fold logits set on the shipped heads' scale.
    String scale = ((Map<?, ?>) spec.source().get("training")).get("out_of_fold_scale").toString();
    assertTrue(scale.startsWith("each fold's logits standardised"), scale);

    // Every poster is in exactly one fold, and has out-of-fold scores.
    List<String> folds = Files.readAllLines(out.resolve("folds.txt")).stream().filter(l -> !l.startsWith("#")).toList();
    assertEquals(16, folds.size());
    Set<String> posters = new HashSet<>();
    for (String l : folds) posters.add(l.split("\t")[1]);
    assertEquals(16, posters.size());
    assertEquals(17, Files.readAllLines(out.resolve("out-of-fold-scores.csv")).size());
    assertTrue(Files.size(out.resolve("cross-validation-curve.png")) > 1000);

    TrainerTest.assertScoresTwoPosters(dir, out, spec);

    // A second run reads the features from the cache and deals the same folds. (Its thresholds may
    // differ: oneDNN's sums are not bit-reproducible across runs, and 16 posters amplify that.)
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    new CrossValidatedTrainer(cfg, backbone, 8, KerasBackbone.InputScaling.UNIT, List.of("out_relu", KerasBackbone.PIXELS),
        dir.resolve("cache"), 4, 24, 16, "other-name", false, 1, true, new PrintStream(again, true, StandardCharsets.UTF_8))
        .withFoldAlignment(false).withAssignmentFloor(0.5).train(data, dir.resolve("model2"));
    assertTrue(!again.toString(StandardCharsets.UTF_8).contains("fold scales:"), again.toString(StandardCharsets.UTF_8));
    assertTrue(again.toString(StandardCharsets.UTF_8).contains("features: read from"), again.toString(StandardCharsets.UTF_8));
    ModelSpec second = ModelPackage.read(dir.resolve("model2").toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec();
    assertEquals("as each fold's heads gave them", ((Map<?, ?>) second.source().get("training")).get("out_of_fold_scale"));
    assertEquals("other-name", second.name());
    assertEquals(new CalibrationRule(CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP, true, 0.5), CalibrationRule.of(second), "model.json keeps the floor");
    assertEquals(new CalibrationRule(CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP, true), CalibrationRule.of(spec), "and has none unless asked");
    assertEquals(Files.readAllLines(out.resolve("folds.txt")), Files.readAllLines(dir.resolve("model2").resolve("folds.txt")));

    // evaluate --split out-of-fold reads the scores training wrote; --compare-with puts two models side by side.
    Evaluator.Result first = Evaluator.run(data, dir, new Evaluator.Options(out, Evaluator.OUT_OF_FOLD, 8, 1, 50_000_000L, false));
    assertEquals(16, first.evaluation().posters());
    Map<?, ?> cvSummary = (Map<?, ?>) ((Map<?, ?>) spec.source().get("cross_validation")).get("summary");
    assertTrue(cvSummary.containsKey("micro_f1"), cvSummary.toString());
    Evaluator.Result other = Evaluator.run(data, dir, new Evaluator.Options(dir.resolve("model2"), Evaluator.OUT_OF_FOLD, 8, 1, 50_000_000L, false));
    Evaluator.Comparison cmp = Evaluator.compare(data, first, other);
    assertEquals(16, cmp.posters());
    String table = cmp.table();
    assertTrue(table.contains("Side by side on the 16 posters") && table.contains("Horror") && table.contains("±"), table);
    java.io.FileNotFoundException noList = org.junit.jupiter.api.Assertions.assertThrows(java.io.FileNotFoundException.class,
        () -> Evaluator.run(data, dir, new Evaluator.Options(out, "validation", 8, 1, 50_000_000L, false)));
    assertTrue(noList.getMessage().contains("--split out-of-fold"), noList.getMessage());
  }

  /**
   * {@code --head-per-backbone} with the real CenterNet as the second backbone: each network's
   * features get a family of heads of their own, model.json says which columns each reads, and the
   * SavedModel (both families, their logits averaged in the graph) passes the trainer's export check
   * and tells the colours apart.
   */
  @Test
  void headPerBackboneGivesEachNetworksFeaturesHeadsOfTheirOwn() throws Exception {
    StringBuilder why = new StringBuilder();
    Path centernet = GraphBackboneTest.centernet(why);
    assumeTrue(centernet != null, () -> "skipped: the real CenterNet is not available: " + why);
    CcuDataset.Loaded data = CcuDataset.readManifest(TrainerTest.writeManifest(dir));
    Path backbone = new BackboneTrainerTest().backbone(dir);
    TrainingConfig cfg = new TrainingConfig(16, 20, 4, 1e-2f, 0.25, 3, 0.2f, "sqrt", 1, 50_000_000L, 0, "0.0.1-test", "pretrained", true);
    Path out = dir.resolve("per-backbone");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    new CrossValidatedTrainer(cfg, backbone, 8, KerasBackbone.InputScaling.UNIT, List.of("out_relu", KerasBackbone.PIXELS), null, 4, 64, 48,
        null, false, 2, false, new PrintStream(log, true, StandardCharsets.UTF_8))
        .withSecondBackbone(centernet).withHeadPerBackbone(true).withMaxGenres(1).train(data, out);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("heads per backbone: [mobilenet_v2 features 0-"), text);
    assertTrue(text.contains("final heads (centernet)") && text.contains("export check"), text);

    ModelSpec spec = ModelPackage.read(out.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec();
    Map<?, ?> head = (Map<?, ?>) ((Map<?, ?>) spec.source().get("architecture")).get("head");
    assertEquals(1, spec.maxGenres(), "--max-genres 1");
    List<?> per = (List<?>) head.get("per_backbone");
    assertEquals(2, per.size(), head.toString());
    String first = ((Map<?, ?>) per.get(0)).get("features").toString();
    String second = ((Map<?, ?>) per.get(1)).get("features").toString();
    int split = Integer.parseInt(first.split("-")[1]) + 1;
    assertEquals(split, Integer.parseInt(second.split("-")[0]), "the families read adjacent columns: " + per);
    // two heads a family, each family's first layer as wide as its columns
    int total = Integer.parseInt(second.split("-")[1]) + 1;
    long expected = 2L * ((long) split * 8 + 8 + 8 * 2 + 2) + 2L * ((long) (total - split) * 8 + 8 + 8 * 2 + 2);
    assertEquals(expected, ((Number) head.get("parameters")).longValue(), head.toString());
    double auc = Double.parseDouble(((Map<?, ?>) ((Map<?, ?>) spec.source().get("cross_validation")).get("summary")).get("macro_roc_auc")
        .toString().split(" ")[0]);
    assertTrue(auc > 0.8, "cross-validated macro ROC-AUC " + auc + ": " + text);
    TrainerTest.assertScoresTwoPosters(dir, out, spec);
  }

  @Test
  void columnsCutEachRowsSpanAndMeanOfFitsAveragesTheirLogits() {
    float[] x = {1, 2, 3, 4, 5, 6, 7, 8}; // 2 rows of 4
    assertArrayEquals(new float[] {2, 3, 6, 7}, CrossValidatedTrainer.columns(x, 4, new CrossValidatedTrainer.Span("b", 1, 3)));
    assertSame(x, CrossValidatedTrainer.columns(x, 4, new CrossValidatedTrainer.Span("all", 0, 4)));
    HeadTrainer.Fit a = new HeadTrainer.Fit(List.of(), new float[][] {{1, 3}}, new float[][] {{0, 0}}, new double[] {0.5});
    HeadTrainer.Fit b = new HeadTrainer.Fit(List.of(), new float[][] {{3, 5}}, new float[][] {{2, 4}}, new double[] {0.25});
    HeadTrainer.Fit m = HeadTrainer.meanOf(List.of(a, b));
    assertArrayEquals(new float[] {2, 4}, m.logits()[0]);
    assertArrayEquals(new float[] {1, 2}, m.flippedLogits()[0]);
    assertEquals(0.375, m.trainLoss()[0], 1e-9);
  }

  @Test
  void aCropOfTheWholeImageIsTheImageAndACornerCropSamplesThatCorner() {
    int h = 5;
    int w = 4;
    float[] img = new float[h * w * 3];
    for (int i = 0; i < img.length; i++) img[i] = i;
    float[] same = img.clone();
    CrossValidatedTrainer.crop(same, 0, h, w, new float[] {0, 0, 1, 1});
    assertTrue(java.util.Arrays.equals(img, same), java.util.Arrays.toString(same));
    float[] corner = img.clone();
    CrossValidatedTrainer.crop(corner, 0, h, w, new float[] {0.5f, 0.5f, 1, 1});
    // Top-left of the crop is the image's pixel at (2, 1.5); bottom-right is the image's bottom-right.
    assertEquals((img[(2 * w + 1) * 3] + img[(2 * w + 2) * 3]) / 2, corner[0], 1e-4);
    assertEquals(img[img.length - 1], corner[corner.length - 1], 1e-4);
  }

  @Test
  void foldsAreSeededAndBalanced() {
    int[] a = CrossValidatedTrainer.dealFolds(103, 5, 42);
    int[] b = CrossValidatedTrainer.dealFolds(103, 5, 42);
    assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
    int[] count = new int[5];
    for (int f : a) count[f]++;
    for (int c : count) assertTrue(c == 20 || c == 21, java.util.Arrays.toString(count));
  }
}
