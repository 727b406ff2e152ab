package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.cli.ExitCode;
import io.postergenres.cli.PosterGenres;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvaluateCommandTest {
  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "evaluate";
    System.arraycopy(args, 0, all, 1, args.length);
    return new Run(cmd.execute(all), out.toString(), err.toString());
  }

  /** 12 posters (one corrupt) in a manifest; the model holds out the last 4 (plus one unknown path). */
  private Path setUp(Path model) throws Exception {
    TestModels.write(model, 16, 16, 3);
    List<String> lines = new ArrayList<>(List.of("path,genres"));
    String[] genres = {"Action", "Comedy|Drama", "Horror", "Romance|Western"};
    for (int i = 0; i < 12; i++) {
      BufferedImage img = new BufferedImage(20, 30, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setColor(new Color(i * 20, 255 - i * 20, (i * 70) % 256));
      g.fillRect(0, 0, 20, 30);
      g.dispose();
      ImageIO.write(img, "png", dir.resolve("p" + i + ".png").toFile());
      lines.add("p" + i + ".png," + genres[i % 4]);
    }
    Files.write(dir.resolve("p11.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3}); // corrupt
    Path csv = dir.resolve("posters.csv");
    Files.write(csv, lines, StandardCharsets.UTF_8);
    Files.write(model.resolve("validation.txt"),
        List.of("# validation posters, relative to /nowhere", "p8.png", "p9.png", "p10.png", "p11.png", "gone.png"));
    return csv;
  }

  @Test
  void evaluatesTheValidationPostersAndWritesJson() throws Exception {
    Path model = dir.resolve("model");
    Path csv = setUp(model);
    Path json = dir.resolve("out/eval.json");
    Run r = run("--model", model.toString(), "--manifest", csv.toString(), "--json", json.toString(), "--threads", "1");
    assertEquals(ExitCode.OK.code(), r.code(), r.err());
    assertTrue(r.out().contains("Evaluated 3 posters"), r.out());
    assertTrue(r.out().contains("baseline: all negative"), r.out());
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertEquals(3, root.at("/data/posters_evaluated").asInt());
    assertEquals(1, root.at("/data/unreadable").asInt());
    assertEquals(1, root.at("/data/listed_without_labels").asInt());
    assertEquals(List.of("Western"), new ObjectMapper().convertValue(root.at("/data/dataset_genres_not_in_model"), List.class));
    // prior from the 8 training posters: Action, Comedy, Drama, Horror, Romance 2 of 8 each
    assertEquals(0.25, root.at("/prior/frequencies/Action").asDouble(), 1e-9);
    assertEquals(8, root.at("/prior/posters").asInt());
    for (String k : List.of("model", "all_negative", "frequency_prior")) {
      assertTrue(root.at("/overall/" + k + "/binary_accuracy").isNumber(), k);
    }
    assertEquals(1, root.at("/per_genre/Action/support").asInt()); // p8 only
    assertTrue(root.at("/overall/model/mean_genres_assigned").asDouble() >= 1.0); // min_genres 1
  }

  @Test
  void splitAllAndMissingValidationList() throws Exception {
    Path model = dir.resolve("model");
    Path csv = setUp(model);
    Run all = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "all", "--threads", "1");
    assertEquals(ExitCode.OK.code(), all.code(), all.err());
    assertTrue(all.out().contains("Evaluated 11 posters"), all.out());
    Files.delete(model.resolve("validation.txt"));
    Run none = run("--model", model.toString(), "--manifest", csv.toString());
    assertEquals(ExitCode.INPUT.code(), none.code());
    assertTrue(none.err().contains("--split all"), none.err());
    Run bad = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "train");
    assertEquals(ExitCode.USAGE.code(), bad.code());
    Run study = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "all", "--rule-study", "--threads", "1");
    assertEquals(ExitCode.USAGE.code(), study.code(), study.err());
    assertTrue(study.err().contains("--split out-of-fold"), study.err());
  }

  @Test
  void defaultSplitIsWhatTheModelHeldOut(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path m = java.nio.file.Files.createDirectories(tmp.resolve("m"));
    assertEquals("validation", EvaluateCommand.heldOutSplit(m), "neither: validation, whose absence the run explains");
    java.nio.file.Files.writeString(m.resolve("out-of-fold-scores.csv"), "poster,A\n");
    assertEquals("out-of-fold", EvaluateCommand.heldOutSplit(m));
    java.nio.file.Files.writeString(m.resolve("validation.txt"), "# none\n");
    assertEquals("validation", EvaluateCommand.heldOutSplit(m));
  }

  @Test
  void withReadTextTheScoresAreTheImageModelsBlendedWithWhatTheStageReads() throws Exception {
    // The shipped default and its text stage, on the sample posters (labels made up: the figures are not the point).
    List<String> lines = new ArrayList<>(List.of("path,genres"));
    String[] names = {"night-chase.jpg", "summer-love.jpg", "old-town-noir.jpg", "deep-space.png", "teaser.jpeg"};
    for (int i = 0; i < names.length; i++) {
      Files.copy(Path.of("src", "samples", "posters", names[i]), dir.resolve(names[i]));
      lines.add(names[i] + "," + (i % 2 == 0 ? "Action|Thriller" : "Romance|Comedy"));
    }
    Path csv = Files.write(dir.resolve("posters.csv"), lines, StandardCharsets.UTF_8);
    Path model = Path.of("models", "mobilenet-poster");
    Run plain = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "all", "--scores", dir.resolve("plain.csv").toString());
    assertEquals(0, plain.code(), plain.err());
    Run text = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "all", "--read-text", "--scores",
        dir.resolve("text.csv").toString(), "--json", dir.resolve("text.json").toString());
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("+text-"), text.out());

    List<String> a = Files.readAllLines(dir.resolve("plain.csv"));
    List<String> b = Files.readAllLines(dir.resolve("text.csv"));
    assertEquals(a.get(0), b.get(0));
    io.postergenres.model.ModelPackage pkg = io.postergenres.model.ModelPackage.read(model.toAbsolutePath().toString(),
        new org.apache.hadoop.conf.Configuration());
    try (io.postergenres.text.TextStage stage = io.postergenres.text.TextStage.load(model.resolve("text"), pkg.spec().genres(), 2)) {
      int g = pkg.spec().genres().size();
      for (int i = 1; i < a.size(); i++) {
        String[] fa = a.get(i).split(",");
        String[] fb = b.get(i).split(",");
        assertEquals(fa[0], fb[0]);
        float[] expected = new float[g];
        for (int j = 0; j < g; j++) expected[j] = Float.parseFloat(fa[2 + j]);
        stage.blendFiles(expected, List.of(Files.readAllBytes(Path.of(fa[0]))), io.postergenres.text.TextReader.decoder(50_000_000L));
        for (int j = 0; j < g; j++) assertEquals(expected[j], Float.parseFloat(fb[2 + j]), 2e-6, fa[0] + " " + pkg.spec().genres().get(j));
      }
    }
    JsonNode report = new ObjectMapper().readTree(dir.resolve("text.json").toFile());
    assertTrue(report.get("model").get("version").asText().endsWith("+text-" + pkg.withTextStage().spec().version().split("\\+text-")[1]),
        report.get("model").toString());

    Run oof = run("--model", model.toString(), "--manifest", csv.toString(), "--split", "out-of-fold", "--read-text");
    assertEquals(ExitCode.USAGE.code(), oof.code());
    assertTrue(oof.err().contains("text/text.json"), oof.err());
    Path plainModel = TestModels.write(dir.resolve("no-text"), 16, 16, 3);
    Run none = run("--model", plainModel.toString(), "--manifest", csv.toString(), "--split", "all", "--read-text");
    assertEquals(ExitCode.MODEL.code(), none.code());
    assertTrue(none.err().contains("no text stage"), none.err());
  }

  /** An unwritable --json is found before the scoring, not after it. */
  @Test
  void anUnwritableJsonIsRefusedFirst(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path file = java.nio.file.Files.writeString(tmp.resolve("a-file"), "x");
    PosterGenresExceptionCheck.expect(io.postergenres.errors.Failure.INPUT, "is a file, not a folder",
        () -> EvaluateCommand.checkJson(file.resolve("out.json")));
    PosterGenresExceptionCheck.expect(io.postergenres.errors.Failure.USAGE, "is a folder", () -> EvaluateCommand.checkJson(tmp));
    PosterGenresExceptionCheck.expect(io.postergenres.errors.Failure.USAGE, "must not be empty", () -> EvaluateCommand.checkJson(Path.of("")));
    EvaluateCommand.checkJson(tmp.resolve("new/deep/out.json"));
  }

  private static final class PosterGenresExceptionCheck {
    static void expect(io.postergenres.errors.Failure failure, String text, org.junit.jupiter.api.function.Executable run) {
      io.postergenres.errors.PosterGenresException e = assertThrows(io.postergenres.errors.PosterGenresException.class, run);
      assertEquals(failure, e.failure());
      assertTrue(e.getMessage().contains(text), e.getMessage());
    }
  }
}
