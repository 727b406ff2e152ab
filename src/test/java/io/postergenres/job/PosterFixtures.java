package io.postergenres.job;

import io.postergenres.errors.ErrorKind;
import io.postergenres.image.TestImages;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A folder of good posters of every kind next to broken files, with the outcome each must get. */
final class PosterFixtures {
  /** File name (relative) to expected error kind; null means it must be labelled. */
  final Map<String, ErrorKind> expected = new LinkedHashMap<>();
  final Path root;

  private PosterFixtures(Path root) {
    this.root = root;
  }

  static PosterFixtures write(Path root, int goodCopies) throws IOException {
    PosterFixtures f = new PosterFixtures(root);
    Color[] colours = {Color.RED, Color.BLUE, Color.GREEN, Color.ORANGE, Color.MAGENTA, Color.CYAN, Color.PINK};
    for (int i = 0; i < goodCopies; i++) {
      Color c = colours[i % colours.length];
      Color shade = new Color((c.getRed() + 13 * i) % 256, (c.getGreen() + 29 * i) % 256, (c.getBlue() + 7 * i) % 256);
      f.put("1999/good-" + i + ".jpg", TestImages.jpeg(TestImages.solid(60, 90, shade), i % 2 == 0), null);
    }
    f.put("2001/progressive.JPG", TestImages.jpeg(TestImages.solid(60, 90, Color.YELLOW), true), null);
    f.put("2001/grey.jpeg", TestImages.greyJpeg(60, 90, 70), null);
    f.put("2001/cmyk.jpg", TestImages.cmykJpeg(60, 90, 0, 200, 200, 0), null);
    f.put("2002/palette.png", TestImages.palettePng(60, 90, Color.DARK_GRAY), null);
    f.put("2002/alpha.PNG", TestImages.alphaPng(60, 90, Color.RED), null);
    f.put("2002/deep.png", TestImages.rgb16Png(60, 90, 40000, 1000, 20000), null);
    f.put("2003/anim.gif", TestImages.twoFrameGif(60, 90, Color.BLUE, Color.RED), null);
    f.put("2003/old.bmp", TestImages.bmp(60, 90, Color.GREEN), null);

    f.put("bad/empty.jpg", new byte[0], ErrorKind.EMPTY);
    f.put("bad/truncated.jpg",
        TestImages.truncated(TestImages.jpeg(TestImages.solid(200, 300, Color.RED), false), 0.4), ErrorKind.CORRUPT);
    f.put("bad/readme.jpg", "This is a text file with a .jpg name.\n".getBytes(), ErrorKind.UNSUPPORTED_FORMAT);
    f.put("bad/scan.png", TestImages.tiff(30, 40, Color.RED), ErrorKind.UNSUPPORTED_FORMAT);
    f.put("bad/bomb.png", TestImages.hugePngHeader(60_000, 60_000), ErrorKind.TOO_MANY_PIXELS);
    // Not matched by the glob: must not appear at all.
    Files.createDirectories(root.resolve("bad"));
    Files.writeString(root.resolve("bad/notes.txt"), "not a poster");
    return f;
  }

  private void put(String name, byte[] bytes, ErrorKind kind) throws IOException {
    Path p = root.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
    expected.put(name, kind);
  }

  /** Adds a file that the test will delete after the driver has listed it. */
  Path addDoomed(String name) throws IOException {
    Path p = root.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, TestImages.jpeg(TestImages.solid(60, 90, Color.BLACK), false));
    expected.put(name, ErrorKind.NOT_FOUND);
    return p;
  }

  long goodCount() {
    return expected.values().stream().filter(k -> k == null).count();
  }
}
