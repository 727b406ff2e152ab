package io.postergenres.metrics;

import io.postergenres.train.TrainingReport;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.GenreRules;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The decision rule's calibration on synthetic scores shaped like a poster model's: a common genre
 * whose scores are high for almost everyone (as Drama's are), and rarer genres that are scored
 * well but lower. Per-genre best-F1 and micro-F1 thresholds give the common genre to most posters;
 * the calibration keeps every genre within its cap and lets the rare genres in.
 */
class RuleCalibrationTest {
  private static final int G = 4;
  private static final List<String> GENRES = List.of("Common", "Mid", "Rare", "Never");

  /**
   * n posters, each with at least one genre as every film has: Common on half (and on those that
   * drew none), Mid on a quarter, Rare on 5%, Never on none; noisy but informative scores.
   */
  private static float[][] data(int n, long seed) {
    Random r = new Random(seed);
    float[] scores = new float[n * G];
    float[] labels = new float[n * G];
    double[] share = {0.5, 0.25, 0.05, 0};
    double[] base = {0.55, 0.25, 0.05, 0.02}; // the common genre scores high for everyone
    double[] signal = {0.06, 0.2, 0.25, 0}; // and tells its posters apart least
    for (int i = 0; i < n; i++) {
      boolean any = false;
      for (int j = 0; j < G; j++) {
        boolean y = r.nextDouble() < share[j];
        labels[i * G + j] = y ? 1 : 0;
        any |= y;
      }
      if (!any) labels[i * G] = 1;
      for (int j = 0; j < G; j++) {
        double s = base[j] + (labels[i * G + j] > 0 ? signal[j] : 0) + r.nextGaussian() * 0.08;
        scores[i * G + j] = (float) Math.min(0.999, Math.max(0.001, s));
      }
    }
    return new float[][] {scores, labels};
  }

  @Test
  void keepsEveryGenreWithinItsCapAndGivesRareGenresTheirPlace() {
    float[][] d = data(3000, 1);
    GenreRules.Ranking ranking = GenreRules.Ranking.THRESHOLD_RATIO;
    float[] t = RuleCalibration.calibrate(d[0], d[1], G, 1, 3, ranking, 1.25);
    RuleCalibration.Counts c = RuleCalibration.count(d[0], d[1], G, t, 1, 3, ranking);
    for (int j = 0; j < 3; j++) {
      assertTrue(c.assignedOverTrue(j) <= 1.25 + 1e-9, GENRES.get(j) + " given " + c.assignedOverTrue(j) + " times its share");
    }
    assertEquals(1f, t[3], "a genre no poster has is never over its threshold");
    double rareF1 = 2.0 * c.tp()[2] / (2.0 * c.tp()[2] + c.fp()[2] + c.fn()[2]);
    assertTrue(rareF1 > 0.5, "the rare genre is assigned where it is: F1 " + rareF1);

    // The old calibration (best F1 per genre, then micro-F1 of the rule by score) serves the rare genre worse.
    float[] old = TrainingReport.calibrate(d[0], d[1], G, 3);
    RuleCalibration.Counts o = RuleCalibration.count(d[0], d[1], G, old, 1, 3, GenreRules.Ranking.SCORE);
    assertTrue(c.macroF1() > o.macroF1(), "macro-F1 " + c.macroF1() + " against " + o.macroF1());

    // Held-out posters from the same source: the caps and the gain hold roughly.
    float[][] h = data(3000, 2);
    RuleCalibration.Counts held = RuleCalibration.count(h[0], h[1], G, t, 1, 3, ranking);
    for (int j = 0; j < 3; j++) assertTrue(held.assignedOverTrue(j) < 1.5, GENRES.get(j) + ": " + held.assignedOverTrue(j));
  }

  @Test
  void aCapOnEveryFoldHoldsWhereOneFoldScoresAGenreHigher() {
    // two sets of posters from the same source, except that the second scores Mid higher for everyone
    float[][] a = data(1500, 3);
    float[][] b = data(1500, 4);
    for (int i = 0; i < 1500; i++) b[0][i * G + 1] = Math.min(0.999f, b[0][i * G + 1] + 0.12f);
    float[] scores = new float[3000 * G];
    float[] labels = new float[3000 * G];
    System.arraycopy(a[0], 0, scores, 0, 1500 * G);
    System.arraycopy(b[0], 0, scores, 1500 * G, 1500 * G);
    System.arraycopy(a[1], 0, labels, 0, 1500 * G);
    System.arraycopy(b[1], 0, labels, 1500 * G, 1500 * G);
    int[] folds = new int[3000];
    for (int i = 1500; i < 3000; i++) folds[i] = 1;
    GenreRules.Ranking ranking = GenreRules.Ranking.THRESHOLD_RATIO;
    double cap = 1.2;

    float[] pooled = RuleCalibration.calibrate(scores, labels, G, 1, 3, ranking, cap, 1.0);
    float[] everyFold = RuleCalibration.calibrate(scores, labels, G, 1, 3, ranking, cap, 1.0, folds);
    RuleCalibration.Counts pooledOnB = RuleCalibration.count(b[0], b[1], G, pooled, 1, 3, ranking);
    assertTrue(pooledOnB.assignedOverTrue(1) > cap, "the pooled cap lets the second set over-assign Mid: " + pooledOnB.assignedOverTrue(1));
    for (float[][] set : new float[][][] {a, b}) {
      RuleCalibration.Counts c = RuleCalibration.count(set[0], set[1], G, everyFold, 1, 3, ranking);
      for (int j = 0; j < 3; j++) {
        assertTrue(c.assignedOverTrue(j) <= cap + 1e-9, GENRES.get(j) + " given " + c.assignedOverTrue(j) + " times its share in one set");
      }
    }
    assertEquals(java.util.Arrays.toString(pooled),
        java.util.Arrays.toString(RuleCalibration.calibrate(scores, labels, G, 1, 3, ranking, cap, 1.0, null)), "no folds: pooled");
  }

  /**
   * A genre scored barely better than chance, which micro-F1 + macro-F1 on the calibration posters
   * gives to few of the posters that have it: with a floor it is given to at least that share of
   * them, and the cap still holds for every genre.
   */
  @Test
  void aFloorKeepsAWeakGenreGivenToItsShareOfPosters() {
    float[][] d = data(3000, 6);
    Random r = new Random(7);
    for (int i = 0; i < 3000; i++) {
      // Rare's scores: mostly noise, a little signal
      d[0][i * G + 2] = (float) Math.min(0.999, Math.max(0.001, 0.05 + (d[1][i * G + 2] > 0 ? 0.03 : 0) + r.nextGaussian() * 0.08));
    }
    GenreRules.Ranking ranking = GenreRules.Ranking.THRESHOLD_RATIO;
    float[] none = RuleCalibration.calibrate(d[0], d[1], G, 1, 3, ranking, 1.2, 0, 1.0, null);
    double without = RuleCalibration.count(d[0], d[1], G, none, 1, 3, ranking).assignedOverTrue(2);
    assertTrue(without < 0.7, "without a floor the weak genre is given to few of its posters: " + without);
    float[] floored = RuleCalibration.calibrate(d[0], d[1], G, 1, 3, ranking, 1.2, 0.7, 1.0, null);
    RuleCalibration.Counts c = RuleCalibration.count(d[0], d[1], G, floored, 1, 3, ranking);
    for (int j = 0; j < 3; j++) {
      assertTrue(c.assignedOverTrue(j) >= 0.7 - 1e-9 && c.assignedOverTrue(j) <= 1.2 + 1e-9,
          GENRES.get(j) + " given " + c.assignedOverTrue(j) + " times its share (without a floor: " + without + " for Rare)");
    }
    int[] halves = new int[3000];
    for (int i = 1500; i < 3000; i++) halves[i] = 1;
    RuleCalibration.Counts everyFold = RuleCalibration.count(d[0], d[1], G,
        RuleCalibration.calibrate(d[0], d[1], G, 1, 3, ranking, 1.2, 0.7, 1.0, halves), 1, 3, ranking);
    assertTrue(everyFold.assignedOverTrue(2) >= 0.7 - 1e-9, "the floor holds with the cap on every fold too: " + everyFold.assignedOverTrue(2));
  }

  /**
   * A genre that two posters have, scoring tiny everywhere and where it passes outranked by a genre
   * the rule gives first: no threshold of it changes a decision, so none is chosen for it by chance
   * (one that a new poster's score just passes would put it first, ranked by score over threshold).
   */
  @Test
  void aGenreNoPosterEndsUpGivenIsNotGivenAtAll() {
    float[][] d = data(1000, 5);
    for (int i = 0; i < 1000; i++) d[0][i * G + 3] = 0.001f;
    for (int i : new int[] {10, 20}) {
      d[1][i * G + 3] = 1;
      d[0][i * G + 3] = 0.003f;
      d[0][i * G] = 0.95f;
    }
    float[] t = RuleCalibration.calibrate(d[0], d[1], G, 1, 1, GenreRules.Ranking.THRESHOLD_RATIO, 1.2);
    assertEquals(1f, t[3], "thresholds " + java.util.Arrays.toString(t));
    RuleCalibration.Counts c = RuleCalibration.count(d[0], d[1], G, t, 1, 1, GenreRules.Ranking.THRESHOLD_RATIO);
    assertEquals(0, c.tp()[3] + c.fp()[3], "never given");
    assertTrue(t[0] < 1f && t[1] < 1f && t[2] < 1f, "the genres that help are still given: " + java.util.Arrays.toString(t));
  }

  @Test
  void countsAndDecisionsAreTheJobsRule() {
    float[][] d = data(200, 3);
    float[] t = {0.6f, 0.4f, 0.2f, 1f};
    GenreRules rules = new GenreRules(GENRES, t, 1, 2, GenreRules.Ranking.THRESHOLD_RATIO);
    float[] decided = RuleCalibration.decide(d[0], G, t, 1, 2, GenreRules.Ranking.THRESHOLD_RATIO);
    for (int i = 0; i < 200; i++) {
      float[] row = new float[G];
      for (String genre : rules.assign(d[0], i * G)) row[GENRES.indexOf(genre)] = 1;
      float[] got = new float[G];
      System.arraycopy(decided, i * G, got, 0, G);
      assertArrayEquals(row, got, "poster " + i);
    }
    RuleCalibration.Counts c = RuleCalibration.count(d[0], d[1], G, t, 1, 2, GenreRules.Ranking.THRESHOLD_RATIO);
    assertEquals(Metrics.microF1(decided, d[1]), c.microF1(), 1e-12);
    assertEquals(Metrics.macroF1(decided, d[1], G), c.macroF1(), 1e-12);
  }
}
