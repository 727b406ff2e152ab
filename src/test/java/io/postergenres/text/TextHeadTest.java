package io.postergenres.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TextHeadTest {
  /** 400 posters, 50 features mostly zero; genre 0 comes with feature 5, genre 1 with feature 9 and without feature 5. */
  static float[][] x = new float[400][50];
  static float[] y = new float[400 * 2];

  static {
    Random r = new Random(3);
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < 4; k++) x[i][r.nextInt(50)] = 1 + r.nextInt(3);
      boolean a = r.nextDouble() < 0.3;
      boolean b = !a && r.nextDouble() < 0.4;
      x[i][5] = a ? 1 + r.nextInt(2) : r.nextDouble() < 0.05 ? 1 : 0;
      x[i][9] = b ? 1 : r.nextDouble() < 0.05 ? 1 : 0;
      y[i * 2] = a ? 1 : 0;
      y[i * 2 + 1] = b ? 1 : 0;
    }
  }

  @Test
  void learnsWhichFeaturesGoWithWhichGenre() {
    TextHead head = TextHead.fit(x, y, 2, 0.01, 200, 0.5);
    double[] posMean = new double[2];
    double[] negMean = new double[2];
    int[] pos = new int[2];
    for (int i = 0; i < x.length; i++) {
      float[] z = head.logits(x[i]);
      for (int g = 0; g < 2; g++) {
        if (y[i * 2 + g] > 0) {
          posMean[g] += z[g];
          pos[g]++;
        } else {
          negMean[g] += z[g];
        }
      }
    }
    for (int g = 0; g < 2; g++) {
      posMean[g] /= pos[g];
      negMean[g] /= x.length - pos[g];
      assertTrue(posMean[g] > negMean[g] + 2, "genre " + g + ": mean logit " + posMean[g] + " with, " + negMean[g] + " without");
    }
    float[] only5 = new float[50];
    only5[5] = 1;
    float[] z = head.logits(only5);
    assertTrue(z[0] > 0 && z[1] < 0, "feature 5 alone says genre 0, not genre 1: " + z[0] + ", " + z[1]);
  }

  @Test
  void aStrongerPenaltyGivesSmallerLogits() {
    float[] only9 = new float[50];
    only9[9] = 1;
    float weak = TextHead.fit(x, y, 2, 0.001, 200, 0.5).logits(only9)[1];
    float strong = TextHead.fit(x, y, 2, 1.0, 200, 0.5).logits(only9)[1];
    assertTrue(Math.abs(strong) < Math.abs(weak), "L2 1.0: " + strong + ", L2 0.001: " + weak);
  }

  @Test
  void writtenAndReadBackGivesTheSameLogits() throws IOException {
    TextHead head = TextHead.fit(x, y, 2, 0.01, 50, 0.5);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    head.write(out);
    TextHead back = TextHead.read(new ByteArrayInputStream(out.toByteArray()));
    assertEquals(50, back.features());
    assertEquals(2, back.genres());
    for (float[] row : x) assertArrayEquals(head.logits(row), back.logits(row));
    byte[] bytes = out.toByteArray();
    bytes[0] ^= 1;
    IOException e = assertThrows(IOException.class, () -> TextHead.read(new ByteArrayInputStream(bytes)));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> head.logits(new float[49]));
  }

  @Test
  void blendAddsTheWeightedTextLogitToTheImageLogit() {
    assertEquals(0.5f, TextStage.blend(0.5f, 0f, 0.2), 1e-6f);
    double z = Math.log(0.2 / 0.8) + 0.25 * 2.0;
    assertEquals((float) (1 / (1 + Math.exp(-z))), TextStage.blend(0.2f, 2f, 0.25), 1e-6f);
    assertTrue(TextStage.blend(1f, -5f, 0.2) < 1f, "a score of 1 is clipped before its logit");
  }
}
