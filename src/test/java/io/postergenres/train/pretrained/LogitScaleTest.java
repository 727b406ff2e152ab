package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Out-of-fold logits of heads that put a genre at different places, set on one scale. */
class LogitScaleTest {
  /** n posters, 2 genres: the first's logits N(-3, 1), the second's N(-1, 2). */
  private static float[] logits(long seed, int n, float shift, float stretch) {
    Random r = new Random(seed);
    float[] out = new float[n * 2];
    for (int i = 0; i < n; i++) {
      out[i * 2] = (float) ((-3 + r.nextGaussian()) * stretch + shift);
      out[i * 2 + 1] = (float) (-1 + 2 * r.nextGaussian());
    }
    return out;
  }

  @Test
  void theStatisticsAreEachGenresMeanAndDeviation() {
    LogitScale s = LogitScale.of(logits(1, 20_000, 0, 1), 2);
    assertEquals(-3, s.mean()[0], 0.05);
    assertEquals(1, s.sd()[0], 0.05);
    assertEquals(-1, s.mean()[1], 0.05);
    assertEquals(2, s.sd()[1], 0.05);
    // a genre no poster's logit moves gets a unit deviation, not a division by zero
    LogitScale flat = LogitScale.of(new float[] {2, 0, 2, 1, 2, 5}, 2);
    assertEquals(1f, flat.sd()[0]);
    assertEquals(2f, flat.mean()[0]);
  }

  @Test
  void aFoldWhoseHeadsPutAGenreHigherIsSetBackOnTheSharedScale() {
    // Two folds' heads: the second puts the first genre 0.5 higher and 1.2 times as wide, on its
    // reference posters and on its held-out posters alike.
    LogitScale first = LogitScale.of(logits(2, 5_000, 0, 1), 2);
    LogitScale second = LogitScale.of(logits(3, 5_000, 0.5f, 1.2f), 2);
    float[] heldFirst = logits(4, 1_000, 0, 1);
    float[] heldSecond = logits(4, 1_000, 0.5f, 1.2f); // the same posters as the second fold's heads see them
    LogitScale shared = LogitScale.average(List.of(first, second));
    float[] a = shared.apply(first.standardise(heldFirst));
    float[] b = shared.apply(second.standardise(heldSecond));
    double before = 0;
    double after = 0;
    for (int i = 0; i < heldFirst.length; i += 2) {
      before = Math.max(before, Math.abs(heldFirst[i] - heldSecond[i]));
      after = Math.max(after, Math.abs(a[i] - b[i]));
    }
    assertTrue(before > 0.5, "the drift is there before: " + before);
    assertTrue(after < 0.15, "and gone after: " + after);
  }

  @Test
  void standardiseAndApplyUndoEachOther() {
    float[] x = logits(5, 50, 0.3f, 1.1f);
    LogitScale s = LogitScale.of(logits(6, 500, 0, 1), 2);
    float[] back = s.apply(s.standardise(x));
    for (int i = 0; i < x.length; i++) assertEquals(x[i], back[i], 1e-5f);
  }

  @Test
  void theReferencePostersAreASeededSampleOfAtMostTheLimit() {
    int[] few = {3, 1, 4};
    assertArrayEquals(few, CrossValidatedTrainer.referenceRows(few, 7));
    int[] many = new int[5_000];
    for (int i = 0; i < many.length; i++) many[i] = 2 * i;
    int[] picked = CrossValidatedTrainer.referenceRows(many, 7);
    assertEquals(CrossValidatedTrainer.REFERENCE_POSTERS, picked.length);
    assertEquals(picked.length, Arrays.stream(picked).distinct().count());
    assertTrue(Arrays.stream(picked).allMatch(r -> r % 2 == 0 && r < 10_000));
    assertArrayEquals(picked, CrossValidatedTrainer.referenceRows(many, 7));
  }
}
