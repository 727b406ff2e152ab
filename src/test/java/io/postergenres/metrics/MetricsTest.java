package io.postergenres.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void aucCountsTiesAsHalf() {
    assertEquals(1.0, Metrics.auc(new float[] {0.1f, 0.9f}, new float[] {0, 1}), 1e-9);
    assertEquals(0.5, Metrics.auc(new float[] {0.5f, 0.5f}, new float[] {0, 1}), 1e-9);
    assertEquals(0.75, Metrics.auc(new float[] {0.2f, 0.6f, 0.4f, 0.8f}, new float[] {0, 0, 1, 1}), 1e-9);
    assertTrue(Double.isNaN(Metrics.auc(new float[] {0.2f}, new float[] {1})));
  }

  @Test
  void f1AndAccuracy() {
    float[] labels = {1, 0, 1, 0};
    float[] pred = {1, 1, 0, 0};
    assertEquals(0.5, Metrics.binaryAccuracy(pred, labels), 1e-9);
    assertEquals(0.5, Metrics.microF1(pred, labels), 1e-9);
    // 2 genres: column 0 = {1,1} vs {1,0}: F1 2/3; column 1 = {0,0} vs {1,0}... pred {1,0} labels {0,0}: F1 0
    assertEquals((2.0 / 3 + 0) / 2, Metrics.macroF1(new float[] {1, 1, 1, 0}, new float[] {1, 0, 0, 0}, 2), 1e-9);
  }

  @Test
  void averagePrecision() {
    assertEquals((1 + 2.0 / 3) / 2, Metrics.averagePrecision(new float[] {0.9f, 0.8f, 0.7f}, new float[] {1, 0, 1}), 1e-9);
  }

  @Test
  void thresholdsMaximiseF1AndFallBackWithoutPositives() {
    float[] scores = {0.9f, 0.1f, 0.6f, 0.2f, 0.3f, 0.3f};
    float[] labels = {1, 0, 1, 0, 0, 0};
    float[] t = Metrics.bestF1Thresholds(scores, labels, 2, 0.5f);
    assertTrue(t[0] > 0.3f && t[0] <= 0.6f, "threshold " + t[0]);
    assertEquals(0.5f, t[1]);
    assertArrayEquals(new float[] {1, 0, 1, 0, 0, 0}, Metrics.threshold(scores, 2, t));
  }

  @Test
  void ruleMicroF1FollowsTheJobsDecisionsAndCalibrationFindsTheBestThresholds() {
    float[] scores = {0.9f, 0.6f, 0.2f, 0.3f, 0.4f, 0.8f};
    float[] labels = {1, 0, 0, 0, 1, 1};
    // 0.5 everywhere: poster 0 gets genres 0 and 1 (one false), poster 1 gets genre 2 (genre 1 missed): 2*2/(4+1+1).
    assertEquals(4.0 / 6, Metrics.ruleMicroF1(scores, labels, 3, new float[] {0.5f, 0.5f, 0.5f}, 1, 3), 1e-9);
    // At most one genre each: 0 and 2, both right, one missed.
    assertEquals(4.0 / 5, Metrics.ruleMicroF1(scores, labels, 3, new float[] {0.5f, 0.5f, 0.5f}, 1, 1), 1e-9);
    // All over 0.95: the "at least one" rule tops up with each poster's best genre.
    assertEquals(4.0 / 5, Metrics.ruleMicroF1(scores, labels, 3, new float[] {0.95f, 0.95f, 0.95f}, 1, 3), 1e-9);
    float[] t = Metrics.bestRuleMicroF1Thresholds(scores, labels, 3, new float[] {0.5f, 0.5f, 0.5f}, 1, 3);
    // Best reachable: genre 1 at or under 0.4 (one false positive, nothing missed): 2*3/(6+1).
    assertEquals(6.0 / 7, Metrics.ruleMicroF1(scores, labels, 3, t, 1, 3), 1e-9);
    assertTrue(t[1] <= 0.4f, "genre 1 threshold " + t[1]);
  }
}
