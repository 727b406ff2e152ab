package io.postergenres.image;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue #13 item 5: concurrent decodes of large images stay within a pixel budget. */
class DecodeBudgetTest {
  @Test
  @Timeout(120)
  void concurrentLargeProgressiveJpegsDecodeWithinTheBudget() throws Exception {
    // 2400x3000 = 7.2 MP each; a budget of 10 MP lets one decode at a time, not four (28.8 MP).
    byte[] big = TestImages.jpeg(TestImages.solid(2400, 3000, new Color(200, 40, 90)), true);
    byte[] bmp = TestImages.encode(TestImages.solid(2400, 3000, new Color(20, 140, 90)), "bmp");
    DecodeBudget budget = new DecodeBudget(10_000_000);
    Preprocessor pre = new Preprocessor(32, 24, 50_000_000, true, budget);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      CyclicBarrier start = new CyclicBarrier(4);
      List<Future<float[]>> done = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        byte[] file = i % 2 == 0 ? big : bmp; // TensorFlow's JPEG path and ImageIO's path both draw on it
        done.add(pool.submit(() -> {
          start.await(10, TimeUnit.SECONDS);
          return pre.preprocess(file);
        }));
      }
      for (Future<float[]> f : done) assertEquals(32 * 24 * 3, f.get(60, TimeUnit.SECONDS).length);
    } finally {
      pool.shutdownNow();
    }
    assertTrue(budget.peakPixels() > 0, "decodes drew on the budget");
    assertTrue(budget.peakPixels() <= 10_000_000, "at most the budget decoding at once, was " + budget.peakPixels());
  }

  @Test
  @Timeout(30)
  void anImageLargerThanTheWholeBudgetStillRunsAlone() throws Exception {
    DecodeBudget budget = new DecodeBudget(1_000_000);
    Preprocessor pre = new Preprocessor(32, 24, 50_000_000, true, budget);
    assertEquals(32 * 24 * 3, pre.preprocess(TestImages.jpeg(TestImages.solid(1500, 1000, Color.BLUE), true)).length);
    try (DecodeBudget.Grant g = budget.acquire(10_000, 10_000)) {
      assertNotNull(g);
    }
  }
}
