package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.ExitCode;
import io.postergenres.cli.PosterGenres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {
  @TempDir Path dir;

  private record Run(int code, String err) {}

  private static Run run(String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));
    cmd.setOut(new PrintWriter(new StringWriter()));
    String[] all = new String[args.length + 1];
    all[0] = "train";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = cmd.execute(all);
    return new Run(code, err.toString());
  }

  @Test
  void rejectsUnknownArchitectureListingTheChoices() {
    Run r = run("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--arch", "resnet50");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("resnet50") && r.err().contains("choices: postercnn"), r.err());
  }

  @Test
  void rejectsBadNumbers() {
    Run r = run("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--validation-fraction", "1.5");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--validation-fraction"), r.err());
  }

  @Test
  void needsExactlyOneInput() {
    Run r = run("--output", dir.resolve("m").toString());
    assertEquals(ExitCode.USAGE.code(), r.code());
    Run both = run("--dataset", "a", "--manifest", "b", "--output", dir.resolve("m").toString());
    assertEquals(ExitCode.USAGE.code(), both.code());
  }

  @Test
  void refusesNonEmptyOutputWithoutOverwrite() throws Exception {
    Path out = Files.createDirectories(dir.resolve("m"));
    Files.writeString(out.resolve("saved_model.pb"), "x");
    Run r = run("--dataset", dir.toString(), "--output", out.toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
    assertTrue(r.err().contains("--overwrite"), r.err());
  }

  @Test
  void missingDatasetIsAnInputError() {
    Run r = run("--dataset", dir.resolve("nope").toString(), "--output", dir.resolve("m").toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
  }
}
