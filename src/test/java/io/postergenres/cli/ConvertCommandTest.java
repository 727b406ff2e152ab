package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.model.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `convert` refuses to write into a non-empty --output unless told to (the claim Fp16ConverterTest only made). */
class ConvertCommandTest {
  static int run(StringWriter err, String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  /** An empty --output would write the model into the current directory: refused. */
  @Test
  void anEmptyOutputIsABadOption(@TempDir Path tmp) throws Exception {
    Path src = TestModels.write(tmp.resolve("m32"), 16, 12, 3);
    StringWriter err = new StringWriter();
    assertEquals(ExitCode.USAGE.code(), run(err, "convert", "--model", src.toString(), "--output", "", "--min-elements", "1"));
    assertTrue(err.toString().contains("--output must not be empty"), err.toString());
    Path empty = Files.createDirectories(tmp.resolve("no-posters"));
    StringWriter none = new StringWriter();
    assertEquals(ExitCode.INPUT.code(), run(none, "convert", "--model", src.toString(), "--output", tmp.resolve("m16").toString(),
        "--min-elements", "1", "--posters", empty.toString()));
    assertTrue(none.toString().contains("holds no images to compare"), none.toString());
    assertFalse(Files.exists(tmp.resolve("m16")), "checked before converting");
  }

  @Test
  void aSecondConversionIntoTheSameDirectoryIsRefused(@TempDir Path tmp) throws Exception {
    Path src = TestModels.write(tmp.resolve("m32"), 16, 12, 3);
    Path dst = tmp.resolve("m16");
    assertEquals(0, run(new StringWriter(), "convert", "--model", src.toString(), "--output", dst.toString(), "--min-elements", "1"));
    byte[] first = Files.readAllBytes(dst.resolve("saved_model.pb"));
    StringWriter err = new StringWriter();
    assertEquals(ExitCode.of(io.postergenres.errors.Failure.INPUT).code(),
        run(err, "convert", "--model", src.toString(), "--output", dst.toString(), "--min-elements", "1"));
    assertTrue(err.toString().contains("not empty"), err.toString());
    assertArrayEquals(first, Files.readAllBytes(dst.resolve("saved_model.pb")), "the first conversion is untouched");
    assertEquals(0, run(new StringWriter(), "convert", "--model", src.toString(), "--output", dst.toString(), "--min-elements", "1",
        "--overwrite"));
  }
}
