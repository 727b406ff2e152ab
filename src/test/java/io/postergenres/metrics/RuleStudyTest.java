package io.postergenres.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.GenreRules;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RuleStudyTest {
  private static final int G = 3;

  /** n posters, each with one genre (i % G); scores that rank it first with probability {@code signal}. */
  private static float[][] data(int n, double signal, long seed) {
    Random r = new Random(seed);
    float[] s = new float[n * G];
    float[] y = new float[n * G];
    for (int i = 0; i < n; i++) {
      int truth = i % G;
      y[i * G + truth] = 1f;
      for (int j = 0; j < G; j++) s[i * G + j] = 0.4f * r.nextFloat();
      if (r.nextDouble() < signal) s[i * G + truth] = 0.6f + 0.4f * r.nextFloat();
    }
    return new float[][] {s, y};
  }

  private static int[] folds(int n, int k) {
    int[] f = new int[n];
    for (int i = 0; i < n; i++) f[i] = i % k;
    return f;
  }

  @Test
  void separableScoresGiveEveryPosterItsGenreUnderEveryFold() {
    float[][] d = data(300, 1.0, 1);
    List<RuleStudy.Row> rows = RuleStudy.run(d[0], d[1], folds(300, 5), G, GenreRules.Ranking.THRESHOLD_RATIO,
        List.of(new RuleStudy.Setting(1.1, 1, 1)), 10);
    RuleStudy.Row row = rows.get(0);
    assertEquals(1.0, row.mean()[0], 1e-9, "micro-F1");
    assertEquals(1.0, row.mean()[1], 1e-9, "macro-F1");
    assertEquals(1.0, row.mean()[2], 1e-9, "each genre given exactly to the posters that have it");
    assertEquals(0.0, row.sd()[0], 1e-9);
  }

  @Test
  void moreGenresPerPosterCostsPrecisionOnOneGenrePosters() {
    float[][] d = data(600, 0.7, 2);
    List<RuleStudy.Row> rows = RuleStudy.run(d[0], d[1], folds(600, 4), G, GenreRules.Ranking.SCORE,
        List.of(new RuleStudy.Setting(1.5, 1, 1), new RuleStudy.Setting(1.5, 3, 1)), 10);
    assertEquals(1.0, rows.get(0).mean()[3], 1e-9, "one genre per poster");
    assertTrue(rows.get(1).mean()[3] >= rows.get(0).mean()[3], "up to three genres gives at least as many");
    assertTrue(rows.get(0).mean()[0] > 0.5 && rows.get(0).mean()[0] < 1.0, "a noisy model is neither useless nor perfect: " + rows.get(0).mean()[0]);
    String table = RuleStudy.table(rows);
    assertTrue(table.contains("cap 1.5, 1-3 genres"), table);
    assertEquals(2, RuleStudy.toMaps(rows).size());
  }

  @Test
  void heldOutSharesShowAFoldWhoseScoresRunHigh() {
    float[][] d = data(600, 0.7, 4);
    int[] fold = folds(600, 4);
    RuleStudy.Setting rule = new RuleStudy.Setting(1.1, 1, 1);
    double[][] steady = RuleStudy.heldOutShares(RuleStudy.run(d[0], d[1], fold, G, GenreRules.Ranking.SCORE, List.of(rule), 10).get(0), d[1], G);
    for (double[] f : steady) for (double v : f) assertTrue(v > 0.6 && v < 1.4, "alike folds give alike shares: " + v);
    // Fold 3's head scores genre 0 higher on every poster (another head's scale): the others' threshold lets more through.
    float[] shifted = d[0].clone();
    for (int i = 0; i < 600; i++) if (fold[i] == 3) shifted[i * G] = Math.min(1f, shifted[i * G] + 0.3f);
    double[][] swung = RuleStudy.heldOutShares(RuleStudy.run(shifted, d[1], fold, G, GenreRules.Ranking.SCORE, List.of(rule), 10).get(0), d[1], G);
    assertTrue(swung[3][0] > 1.5 && swung[3][0] > steady[3][0] + 0.4, "genre 0 over-given on fold 3: " + swung[3][0]);
    assertTrue(swung[3][1] < steady[3][1], "at one genre per poster, genre 1 gives way on fold 3: " + swung[3][1]);
    String table = RuleStudy.sharesTable(List.of("a", "b", "c"), d[1], swung);
    assertTrue(table.contains("| a | 200 | ") && table.contains("| 1 of 4 |"), table);
  }

  @Test
  void needsTwoFoldsAndSaneSettings() {
    float[][] d = data(30, 1.0, 3);
    assertThrows(IllegalArgumentException.class,
        () -> RuleStudy.run(d[0], d[1], new int[30], G, GenreRules.Ranking.SCORE, RuleStudy.grid(3), 10));
    assertThrows(IllegalArgumentException.class, () -> new RuleStudy.Setting(0, 3, 1));
    assertEquals(32, RuleStudy.grid(3).size());
    assertEquals(8, RuleStudy.grid(3).stream().filter(RuleStudy.Setting::capOnEveryFold).count());
  }
}
