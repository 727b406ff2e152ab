package io.postergenres.image;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Makes the synthetic sample posters shipped in src/samples/posters (abstract poster-like pictures
 * in every supported format, plus one truncated upload), for the README's first command. Run:
 * {@code java -cp target/test-classes:target/classes io.postergenres.image.SamplePosters src/samples/posters}
 */
public final class SamplePosters {
  private SamplePosters() {}

  static BufferedImage poster(int w, int h, long seed) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Color top = new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256));
    Color bottom = new Color(r.nextInt(80), r.nextInt(80), r.nextInt(80));
    g.setPaint(new GradientPaint(0, 0, top, 0, h, bottom));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 6; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256), 120 + r.nextInt(135)));
      int s = w / 6 + r.nextInt(w / 2);
      if (r.nextBoolean()) g.fillOval(r.nextInt(w) - s / 2, r.nextInt(h * 2 / 3) - s / 2, s, s);
      else g.fillRect(r.nextInt(w) - s / 2, r.nextInt(h * 2 / 3), s, s / 3);
    }
    // A title band, as most posters have.
    g.setColor(new Color(255, 255, 255, 200));
    g.fillRect(w / 10, h * 4 / 5, w * 8 / 10, h / 14);
    g.dispose();
    return img;
  }

  static BufferedImage rgb(BufferedImage argb) {
    BufferedImage out = new BufferedImage(argb.getWidth(), argb.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.drawImage(argb, 0, 0, null);
    g.dispose();
    return out;
  }

  static BufferedImage grey(BufferedImage src) {
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = out.createGraphics();
    g.drawImage(src, 0, 0, null);
    g.dispose();
    return out;
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "src/samples/posters");
    Files.createDirectories(dir);
    Files.write(dir.resolve("night-chase.jpg"), TestImages.jpeg(rgb(poster(300, 444, 1)), false));
    Files.write(dir.resolve("summer-love.jpg"), TestImages.jpeg(rgb(poster(300, 444, 2)), true));
    Files.write(dir.resolve("old-town-noir.jpg"), TestImages.jpeg(grey(poster(300, 450, 3)), false));
    Files.write(dir.resolve("print-proof-cmyk.jpg"), TestImages.cmykJpeg(200, 300, 30, 200, 160, 20));
    Files.write(dir.resolve("festival-cut.png"), TestImages.encode(poster(300, 444, 5), "png"));
    Files.write(dir.resolve("retro-palette.gif"), TestImages.encode(rgb(poster(240, 360, 6)), "gif"));
    Files.write(dir.resolve("vhs-cover.bmp"), TestImages.encode(rgb(poster(200, 300, 7)), "bmp"));
    Files.write(dir.resolve("deep-space.png"), TestImages.rgb16Png(240, 360, 5000, 12000, 40000));
    Files.write(dir.resolve("studio-scan.JPG"), TestImages.jpeg(rgb(poster(1500, 2250, 9)), false));
    Files.write(dir.resolve("teaser.jpeg"), TestImages.jpeg(rgb(poster(300, 444, 10)), false));
    byte[] whole = TestImages.jpeg(rgb(poster(300, 444, 11)), false);
    Files.write(dir.resolve("broken-upload.jpg"), TestImages.truncated(whole, 0.3));
  }
}
