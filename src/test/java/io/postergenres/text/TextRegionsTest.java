package io.postergenres.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The detector's map to line boxes (no network needed: the map is drawn by the test). */
class TextRegionsTest {
  static final int W = TextReader.DETECT_WIDTH;
  static final int H = TextReader.DETECT_HEIGHT;

  static void fill(float[] map, int x0, int y0, int w, int h, float v) {
    for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) map[y * W + x] = v;
  }

  @Test
  void aLineOfTextBecomesOneBoxGrownAroundItInThePostersPixels() {
    float[] map = new float[W * H];
    fill(map, 40, 100, 200, 10, 0.9f); // one title line
    fill(map, 10, 300, 2, 2, 0.9f); // a speck too small to be a line
    fill(map, 50, 350, 60, 8, 0.45f); // over the pixel threshold, but its mean under the region score
    List<int[]> boxes = TextReader.boxes(map, 0, W * 2, H * 2); // the poster at twice the detector's size
    assertEquals(1, boxes.size());
    int[] b = boxes.get(0);
    double grow = 200 * 10 * 1.5 / (2.0 * (200 + 10)); // area x 1.5 / perimeter, about 7 map pixels
    assertEquals((int) ((40 - grow) * 2), b[0]);
    assertEquals((int) ((100 - grow) * 2), b[1]);
    assertTrue(b[2] > 400 && b[3] > 20 && b[3] < 60, "about 2 x (200 + 2 x 7) wide and 2 x (10 + 2 x 7) high: " + b[2] + "x" + b[3]);
  }

  @Test
  void aNoisyPosterGivesAtMostTheLargestRegions() {
    float[] map = new float[W * H];
    int n = 0;
    for (int y = 1; y + 4 < H; y += 5) {
      for (int x = 1; x + 4 < W; x += 5) {
        int side = 3 + (n % 2); // 3x3 and 4x4 specks, thousands of them
        fill(map, x, y, side, side, 0.8f);
        n++;
      }
    }
    assertTrue(n > 4000, n + " specks");
    List<int[]> boxes = TextReader.boxes(map, 0, W, H);
    assertEquals(TextReader.MAX_REGIONS, boxes.size());
    for (int[] b : boxes) assertEquals(16, b[4], "only the larger specks are kept");
    for (int k = 1; k < boxes.size(); k++) {
      int[] a = boxes.get(k - 1);
      int[] b = boxes.get(k);
      assertTrue(a[1] < b[1] || (a[1] == b[1] && a[0] < b[0]), "kept in reading order");
    }
  }
}
