package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingChartsTest {
  @TempDir Path dir;

  @Test
  void rendersLossAndAccuracyPngs() throws Exception {
    List<String> lines = new ArrayList<>();
    lines.add("epoch,seconds,images_per_second,train_loss,train_weighted_loss,train_binary_accuracy,"
        + "val_loss,val_binary_accuracy,val_micro_f1,val_macro_auc,val_macro_ap");
    for (int e = 1; e <= 7; e++) {
      lines.add(String.format(Locale.ROOT, "%d,10.0,50.0,%.4f,%.4f,%.4f,%.4f,%.4f,0.3,0.6,0.2",
          e, 0.4 - 0.02 * e, 0.6 - 0.02 * e, 0.85 + 0.01 * e, 0.42 - 0.01 * e, 0.86 + 0.005 * e));
    }
    Path csv = dir.resolve("training-history.csv");
    Files.write(csv, lines);
    Path out = dir.resolve("model");
    List<Path> written = TrainingCharts.render(csv, out);
    assertEquals(List.of(out.resolve("training-loss.png"), out.resolve("training-accuracy.png")), written);
    for (Path p : written) {
      BufferedImage img = ImageIO.read(p.toFile());
      assertEquals(TrainingCharts.WIDTH, img.getWidth(), p.toString());
      assertEquals(TrainingCharts.HEIGHT, img.getHeight(), p.toString());
      assertTrue(Files.size(p) < 100_000, p + " is " + Files.size(p) + " bytes");
      // something was drawn: the series colours appear
      boolean blue = false;
      for (int y = 0; y < img.getHeight() && !blue; y++) for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) & 0xFFFFFF) == 0x1F77B4) { blue = true; break; }
      }
      assertTrue(blue, p + " has no training series line");
    }
  }

  @Test
  void refusesAHistoryWithoutTheColumns() throws Exception {
    Path csv = dir.resolve("h.csv");
    Files.write(csv, List.of("epoch,loss", "1,0.5"));
    IOException e = assertThrows(IOException.class, () -> TrainingCharts.render(csv, dir));
    assertTrue(e.getMessage().contains("train_loss"), e.getMessage());
  }
}
