package io.postergenres.image;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import java.awt.Color;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class PreprocessorTest {
  private static final int H = 40;
  private static final int W = 30;
  private final Preprocessor pre = new Preprocessor(H, W, 10_000_000);

  /** Mean of each channel over the region x in [x0, x1) of the output. */
  private static float[] mean(float[] hwc, int x0, int x1) {
    return mean(hwc, x0, x1, 0, H);
  }

  /** Mean of each channel over the rows y in [y0, y1) of the output. */
  private static float[] meanRows(float[] hwc, int y0, int y1) {
    return mean(hwc, 0, W, y0, y1);
  }

  private static float[] mean(float[] hwc, int x0, int x1, int y0, int y1) {
    double[] sum = new double[3];
    int n = 0;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        for (int c = 0; c < 3; c++) sum[c] += hwc[(y * W + x) * 3 + c];
        n++;
      }
    }
    return new float[] {(float) sum[0] / n, (float) sum[1] / n, (float) sum[2] / n};
  }

  private static void assertColour(float[] expected255, float[] actual, float tolerance255, String what) {
    for (int c = 0; c < 3; c++) {
      assertEquals(expected255[c] / 255f, actual[c], tolerance255 / 255f, what + " channel " + c);
    }
  }

  private float[] run(byte[] file) throws PosterException {
    float[] out = pre.preprocess(file);
    assertEquals(H * W * 3, out.length);
    for (float v : out) assertTrue(v >= 0f && v <= 1f, "value outside [0, 1]: " + v);
    return out;
  }

  @Test
  void baselineJpeg() throws Exception {
    float[] out = run(TestImages.jpeg(TestImages.solid(300, 444, new Color(200, 40, 60)), false));
    assertColour(new float[] {200, 40, 60}, mean(out, 0, W), 6, "baseline JPEG");
  }

  @Test
  void progressiveJpeg() throws Exception {
    float[] out = run(TestImages.jpeg(TestImages.solid(300, 444, new Color(30, 120, 220)), true));
    assertColour(new float[] {30, 120, 220}, mean(out, 0, W), 6, "progressive JPEG");
  }

  @Test
  void greyscaleJpegBecomesThreeEqualChannels() throws Exception {
    float[] out = run(TestImages.greyJpeg(120, 180, 128));
    float[] m = mean(out, 0, W);
    assertColour(new float[] {128, 128, 128}, m, 6, "grey JPEG");
    assertEquals(m[0], m[1], 1e-6);
    assertEquals(m[1], m[2], 1e-6);
  }

  @Test
  void cmykJpegIsConvertedToRgb() throws Exception {
    // Pure cyan ink: no red, full green and blue (approximately, through the CMYK profile).
    float[] out = run(TestImages.cmykJpeg(64, 96, 255, 0, 0, 0));
    float[] m = mean(out, 0, W);
    assertTrue(m[0] < 0.35f, "cyan has little red: " + m[0]);
    assertTrue(m[1] > 0.5f && m[2] > 0.75f, "cyan is green-blue: " + m[1] + ", " + m[2]);
    float[] black = mean(run(TestImages.cmykJpeg(64, 96, 0, 0, 0, 255)), 0, W);
    assertTrue(black[0] < 0.3f && black[1] < 0.3f && black[2] < 0.3f, "full black ink is dark");
  }

  @Test
  void palettePng() throws Exception {
    assertColour(new float[] {10, 200, 90}, mean(run(TestImages.palettePng(50, 70, new Color(10, 200, 90))), 0, W), 1, "palette PNG");
  }

  @Test
  void transparentPixelsBecomeWhite() throws Exception {
    float[] out = run(TestImages.alphaPng(60, 80, new Color(200, 0, 0)));
    assertColour(new float[] {200, 0, 0}, mean(out, 0, W / 2 - 2), 2, "opaque half");
    assertColour(new float[] {255, 255, 255}, mean(out, W / 2 + 2, W), 2, "transparent half");
  }

  @Test
  void sixteenBitPng() throws Exception {
    float[] out = run(TestImages.rgb16Png(50, 70, 65535, 32768, 0));
    assertColour(new float[] {255, 128, 0}, mean(out, 0, W), 2, "16-bit PNG");
  }

  @Test
  void gifFirstFrameOnly() throws Exception {
    float[] out = run(TestImages.twoFrameGif(40, 60, Color.BLUE, Color.RED));
    float[] m = mean(out, 0, W);
    assertTrue(m[2] > 0.9f && m[0] < 0.1f, "first frame is blue, got " + m[0] + "," + m[1] + "," + m[2]);
  }

  @Test
  void bmp() throws Exception {
    assertColour(new float[] {250, 250, 0}, mean(run(TestImages.bmp(33, 47, new Color(250, 250, 0))), 0, W), 1, "BMP");
  }

  @Test
  void stretchesWithoutKeepingAspectRatio() throws Exception {
    // Left half red, right half green in a wide image: the split stays in the middle of the output.
    BufferedImage img = TestImages.solid(400, 100, Color.RED);
    java.awt.Graphics2D g = img.createGraphics();
    g.setColor(Color.GREEN);
    g.fillRect(200, 0, 200, 100);
    g.dispose();
    float[] out = run(TestImages.encode(img, "png"));
    assertColour(new float[] {255, 0, 0}, mean(out, 0, W / 2 - 1), 2, "left");
    assertColour(new float[] {0, 255, 0}, mean(out, W / 2 + 1, W), 2, "right");
  }

  @Test
  void largeImagesAreSubsampledWhileDecoding() throws Exception {
    byte[] file = TestImages.jpeg(TestImages.solid(3000, 4000, new Color(90, 90, 200)), false);
    float[] out = new Preprocessor(H, W, 50_000_000).preprocess(file);
    assertColour(new float[] {90, 90, 200}, mean(out, 0, W), 6, "large JPEG");
  }

  private static PosterException failure(byte[] file, Preprocessor p) {
    return assertThrows(PosterException.class, () -> p.preprocess(file));
  }

  @Test
  void emptyFile() {
    PosterException e = failure(new byte[0], pre);
    assertEquals(ErrorKind.EMPTY, e.kind());
  }

  @Test
  void textNamedJpg() {
    PosterException e = failure("this is not a poster\nat all\n".getBytes(), pre);
    assertEquals(ErrorKind.UNSUPPORTED_FORMAT, e.kind());
    assertTrue(e.getMessage().contains("text"), e.getMessage());
  }

  @Test
  void tiffIsNotSupported() throws Exception {
    PosterException e = failure(TestImages.tiff(20, 20, Color.RED), pre);
    assertEquals(ErrorKind.UNSUPPORTED_FORMAT, e.kind());
    assertTrue(e.getMessage().contains("TIF"), e.getMessage());
  }

  @Test
  void lossyAndLosslessWebp() throws Exception {
    for (String file : new String[] {"lossy.webp", "lossless.webp"}) {
      float tolerance = file.startsWith("lossy") ? 12 : 1;
      float[] out = run(TestImages.webp(file));
      assertColour(new float[] {220, 20, 20}, meanRows(out, 0, H / 2 - 2), tolerance, file + " top half");
      assertColour(new float[] {20, 20, 220}, meanRows(out, H / 2 + 2, H), tolerance, file + " bottom half");
    }
  }

  @Test
  void webpAlphaIsCompositedOnWhite() throws Exception {
    float[] out = run(TestImages.webp("alpha.webp"));
    assertColour(new float[] {255, 255, 255}, mean(out, 0, W / 2 - 2), 2, "transparent half");
    assertColour(new float[] {20, 200, 20}, mean(out, W / 2 + 2, W), 12, "opaque half");
  }

  @Test
  void animatedWebpFirstFrameOnly() throws Exception {
    float[] m = mean(run(TestImages.webp("animated.webp")), 0, W);
    assertTrue(m[0] > 0.75f && m[2] < 0.25f, "first frame is red, got " + m[0] + "," + m[1] + "," + m[2]);
  }

  @Test
  void webpPixelLimitIsReadFromTheHeader() throws Exception {
    byte[] big = TestImages.webp("big.webp"); // 3000x4000 grey stripes, decoded subsampled
    float[] m = mean(new Preprocessor(H, W, 50_000_000).preprocess(big), 0, W);
    assertColour(new float[] {m[0] * 255, m[0] * 255, m[0] * 255}, m, 0.01f, "large WebP is grey");
    // Cut after the header: still refused for its size, so the size came from the header, not a decode.
    PosterException e = failure(java.util.Arrays.copyOf(big, 40), new Preprocessor(H, W, 5_000_000));
    assertEquals(ErrorKind.TOO_MANY_PIXELS, e.kind(), e.getMessage());
    assertTrue(e.getMessage().contains("3000x4000"), e.getMessage());
  }

  @Test
  void truncatedWebpIsCorrupt() throws Exception {
    PosterException e = failure(TestImages.truncated(TestImages.webp("lossy.webp"), 0.5), pre);
    assertEquals(ErrorKind.CORRUPT, e.kind(), e.getMessage());
    e = failure(TestImages.webpHeader(), pre); // RIFF....WEBP and nothing else
    assertEquals(ErrorKind.CORRUPT, e.kind(), e.getMessage());
    assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("webp"), e.getMessage());
  }

  @Test
  void webpTheDecoderFailsOnIsACorruptPosterNotACrash() throws Exception {
    // Valid for libwebp, but TwelveMonkeys' lossless decoder throws (its issues #739, #978).
    PosterException e = failure(TestImages.webp("flat.webp"), new Preprocessor(H, W, 50_000_000)); // 3000x4000
    assertEquals(ErrorKind.CORRUPT, e.kind(), e.getMessage());
    assertTrue(e.getMessage().startsWith("WEBP cannot decode"), e.getMessage());
  }

  @Test
  void truncatedJpegIsCorrupt() throws Exception {
    byte[] whole = TestImages.jpeg(TestImages.solid(300, 444, Color.ORANGE), false);
    PosterException e = failure(TestImages.truncated(whole, 0.5), pre);
    assertEquals(ErrorKind.CORRUPT, e.kind(), e.getMessage());
  }

  @Test
  void truncatedPngIsCorrupt() throws Exception {
    byte[] whole = TestImages.encode(TestImages.solid(300, 444, Color.ORANGE), "png");
    assertEquals(ErrorKind.CORRUPT, failure(TestImages.truncated(whole, 0.6), pre).kind());
  }

  @Test
  void hugeDimensionsAreRefusedBeforeDecoding() throws Exception {
    PosterException e = failure(TestImages.hugePngHeader(100_000, 100_000), pre);
    assertEquals(ErrorKind.TOO_MANY_PIXELS, e.kind());
    assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
  }

  @Test
  void printResolutionScanIsWithinTheDefaultLimit() throws Exception {
    Preprocessor defaults = new Preprocessor(H, W, 50_000_000);
    // The header check passes for 4000x6000; the tiny data then fails to decode as corrupt, not as too large.
    PosterException e = failure(TestImages.hugePngHeader(4000, 6000), defaults);
    assertEquals(ErrorKind.CORRUPT, e.kind());
  }
}
