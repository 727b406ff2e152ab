package io.postergenres.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.errors.PosterException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The JPEG path through TensorFlow must give what the ImageIO + Java2D path gives (the committed
 * models were trained on the latter), and must decline what it cannot do so that ImageIO takes it.
 */
class TensorFlowJpegTest {
  private static final int H = 224;
  private static final int W = 224;

  private static BufferedImage busyPoster(int w, int h, long seed) {
    BufferedImage img = TestImages.solid(w, h, new Color(40, 60, 120));
    Graphics2D g = img.createGraphics();
    Random r = new Random(seed);
    for (int i = 0; i < 40; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
      g.fillOval(r.nextInt(w), r.nextInt(h), 20 + r.nextInt(w / 3), 20 + r.nextInt(h / 3));
    }
    g.dispose();
    return img;
  }

  /** Largest and mean absolute difference, in 1/255 steps, of the two paths on {@code file}. */
  private static double[] difference(byte[] file, int h, int w) throws PosterException {
    float[] viaTensorFlow = new float[h * w * 3];
    assertTrue(TensorFlowJpeg.forSize(h, w).decodeInto(file, 50_000_000, viaTensorFlow, 0), "TensorFlow's path takes the file");
    float[] viaImageIo = new Preprocessor(h, w, 50_000_000, false).preprocess(file);
    double max = 0;
    double sum = 0;
    for (int i = 0; i < viaImageIo.length; i++) {
      double d = Math.abs(viaImageIo[i] - viaTensorFlow[i]) * 255;
      max = Math.max(max, d);
      sum += d;
    }
    return new double[] {max, sum / viaImageIo.length};
  }

  @Test
  void agreesWithImageIoOnBaselineAndProgressiveJpeg() throws Exception {
    for (boolean progressive : new boolean[] {false, true}) {
      // Input sizes of the shipped models and the seed; no scaled decoding from 300x444 at these.
      for (int[] size : new int[][] {{H, W}, {350, 350}, {128, 128}}) {
        double[] d = difference(TestImages.jpeg(busyPoster(300, 444, 7), progressive), size[0], size[1]);
        String what = (progressive ? "progressive" : "baseline") + " at " + size[0] + "x" + size[1];
        assertTrue(d[0] <= 3.0, what + ": largest difference " + d[0] + "/255");
        assertTrue(d[1] <= 0.6, what + ": mean difference " + d[1] + "/255");
      }
    }
  }

  @Test
  void preprocessorUsesItForJpegAndOffsetsAreKept() throws Exception {
    byte[] file = TestImages.jpeg(busyPoster(300, 444, 3), false);
    Preprocessor pre = new Preprocessor(H, W, 50_000_000);
    float[] dest = new float[2 * H * W * 3];
    java.util.Arrays.fill(dest, -1f);
    pre.preprocessInto(file, dest, H * W * 3);
    float[] direct = new float[H * W * 3];
    assertTrue(TensorFlowJpeg.forSize(H, W).decodeInto(file, 50_000_000, direct, 0));
    for (int i = 0; i < H * W * 3; i++) {
      assertEquals(-1f, dest[i], "nothing written before the offset");
      assertEquals(direct[i], dest[H * W * 3 + i], "the TensorFlow path's pixels at " + i);
    }
  }

  @Test
  void largeJpegIsDecodedScaledDown() throws Exception {
    // 2400x3552: decoded at 1/4 in the DCT (still over twice 224); a smooth image, so decimating
    // (ImageIO) and DCT scaling (TensorFlow) agree closely.
    BufferedImage big = TestImages.solid(2400, 3552, new Color(180, 90, 30));
    Graphics2D g = big.createGraphics();
    g.setPaint(new java.awt.GradientPaint(0, 0, Color.BLUE, 2400, 3552, Color.YELLOW));
    g.fillRect(0, 1776, 2400, 1776);
    g.dispose();
    double[] d = difference(TestImages.jpeg(big, false), H, W);
    assertTrue(d[1] <= 1.5, "mean difference " + d[1] + "/255");
  }

  @Test
  void declinesWhatImageIoMustHandle() throws Exception {
    TensorFlowJpeg tf = TensorFlowJpeg.forSize(H, W);
    float[] dest = new float[H * W * 3];
    byte[] whole = TestImages.jpeg(busyPoster(300, 444, 5), false);
    assertFalse(tf.decodeInto(TestImages.truncated(whole, 0.5), 50_000_000, dest, 0), "truncated");
    assertFalse(tf.decodeInto(TestImages.cmykJpeg(64, 96, 255, 0, 0, 0), 50_000_000, dest, 0), "CMYK");
    assertFalse(tf.decodeInto(whole, 300L * 444 - 1, dest, 0), "over the pixel limit");
    byte[] garbage = new byte[200];
    garbage[0] = (byte) 0xFF;
    garbage[1] = (byte) 0xD8;
    garbage[2] = (byte) 0xFF;
    assertFalse(tf.decodeInto(garbage, 50_000_000, dest, 0), "a JPEG start and then garbage");
    for (float v : dest) assertEquals(0f, v, "nothing written when declined");
    assertFalse(TensorFlowJpeg.looksLikeJpeg(TestImages.alphaPng(10, 10, Color.RED)));
    assertTrue(TensorFlowJpeg.looksLikeJpeg(whole));
  }

  @Test
  void realPostersAgree() throws Exception {
    Path dataset = Path.of(System.getProperty("poster.datasets", "../shared/datasets"), "ccu-movie-posters", "Movie_Poster_Dataset");
    assumeTrue(Files.isDirectory(dataset),
        "CCU posters not found at " + dataset.toAbsolutePath() + "; set -Dposter.datasets=DIR to run this test");
    List<Path> posters;
    try (Stream<Path> s = Files.walk(dataset)) {
      posters = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(40).toList();
    }
    assertEquals(40, posters.size());
    for (Path p : posters) {
      double[] d = difference(Files.readAllBytes(p), H, W);
      assertTrue(d[0] <= 3.0 && d[1] <= 0.6, p + ": largest " + d[0] + "/255, mean " + d[1] + "/255");
    }
  }
}
