package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.image.TestImages;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code show}: a label run's output read back as a newcomer would, in one command. */
class ShowCommandTest {
  @TempDir static Path tmp;
  static Path labels;

  record Outcome(int code, String out, String err) {}

  static Outcome run(String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return new Outcome(cmd.execute(args), out.toString(), err.toString());
  }

  @BeforeAll
  static void labelSomePosters() throws Exception {
    Path model = TestModels.write(tmp.resolve("model"), 16, 12, 3);
    Path posters = tmp.resolve("posters");
    Files.createDirectories(posters.resolve("2004"));
    for (int i = 0; i < 3; i++) {
      Files.write(posters.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(40, 60, new Color(70 * i, 90, 30)), false));
    }
    Files.write(posters.resolve("2004").resolve("cut.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x00});
    labels = tmp.resolve("labels");
    Outcome o = run("label", "--input", posters.toString(), "--output", labels.toString(), "--model", model.toString(),
        "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--max-failure-ratio", "1");
    assertEquals(0, o.code(), o.err());
  }

  @Test
  void showsCountsGenresFailuresAndFirstRows() {
    Outcome o = run("show", labels.toString());
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains(": 4 posters, 3 labelled, 1 failed"), o.out());
    assertTrue(o.out().contains("Posters per genre:"), o.out());
    List<String> genreLines = o.out().lines().dropWhile(l -> !l.equals("Posters per genre:")).skip(1)
        .takeWhile(l -> l.startsWith("  ")).toList();
    assertFalse(genreLines.isEmpty(), o.out());
    long assigned = genreLines.stream().mapToLong(l -> Long.parseLong(l.trim().replaceAll(".*\\s", ""))).sum();
    assertTrue(assigned >= 3, "every labelled poster has at least one genre: " + o.out());
    assertTrue(o.out().lines().anyMatch(l -> l.matches("  corrupt\\s+1  e\\.g\\. .+")), o.out());
    assertTrue(o.out().contains("2004/cut.jpg  corrupt"), o.out());
    assertTrue(o.out().contains("First 5 posters by path:"), o.out());
    assertTrue(o.out().contains("p0.jpg  ") && o.out().contains("failed: corrupt"), o.out());
  }

  @Test
  void onlyOneSectionWhenAsked() {
    Outcome g = run("show", labels.toString(), "--genres");
    assertEquals(0, g.code(), g.err());
    assertTrue(g.out().startsWith("Posters per genre:"), g.out());
    assertFalse(g.out().contains("Failures:"), g.out());
    Outcome f = run("show", labels.toString(), "--failures");
    assertTrue(f.out().startsWith("Failures:") && f.out().contains("corrupt"), f.out());
    assertFalse(f.out().contains("Posters per genre"), f.out());
  }

  @Test
  void onePostersRowByTheEndOfItsPath() {
    Outcome o = run("show", labels.toString(), "--poster", "p1.jpg");
    assertEquals(0, o.code(), o.err());
    String[] lines = o.out().split("\\R");
    assertTrue(lines[0].endsWith("/posters/p1.jpg"), o.out());
    assertTrue(lines[1].startsWith("  genres  "), o.out());
    assertEquals(TestModels.GENRES.size(), (lines[2].trim().split("\\s+").length - 1) / 2, "every genre's score: " + lines[2]);
    assertTrue(lines[3].startsWith("  model   test-model"), o.out());
    Outcome failed = run("show", labels.toString(), "--poster", "2004/cut.jpg");
    assertTrue(failed.out().contains("  failed  corrupt: "), failed.out());
    Outcome none = run("show", labels.toString(), "--poster", "nope.jpg");
    assertEquals(ExitCode.INPUT.code(), none.code());
    assertTrue(none.err().contains("no poster") && none.err().contains("/nope.jpg"), none.err());
  }

  @Test
  void nothingToShowIsExitThree() throws Exception {
    Outcome missing = run("show", tmp.resolve("nowhere").toString());
    assertEquals(ExitCode.INPUT.code(), missing.code(), missing.err());
    assertTrue(missing.err().contains("there is no output at"), missing.err());
    Path notLabels = Files.createDirectories(tmp.resolve("not-labels"));
    Files.writeString(notLabels.resolve("x.txt"), "x");
    Outcome empty = run("show", notLabels.toString());
    assertEquals(ExitCode.INPUT.code(), empty.code(), empty.err());
    assertTrue(empty.err().contains("holds no label rows"), empty.err());
    Path junk = Files.createDirectories(tmp.resolve("junk-parquet"));
    Files.writeString(junk.resolve("part-0.parquet"), "not parquet at all");
    Outcome notParquet = run("show", junk.toString());
    assertEquals(ExitCode.INPUT.code(), notParquet.code(), notParquet.err());
    assertTrue(notParquet.err().contains("holds no label rows") && !notParquet.err().contains("\tat "), notParquet.err());
  }
}
