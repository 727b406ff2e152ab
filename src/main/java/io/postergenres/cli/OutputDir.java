package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The checks of a command that writes a model directory beside the one it reads ({@code convert}, {@code calibrate}). */
final class OutputDir {
  private OutputDir() {}

  /** {@code output} must differ from {@code model}, not be a file, and be new or empty unless {@code overwrite}. */
  static void check(Path output, boolean overwrite, Path model) throws IOException {
    if (output.toString().isBlank()) {
      throw new PosterGenresException(Failure.USAGE, "--output must not be empty; name the directory to write the model to");
    }
    if (output.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
      throw new PosterGenresException(Failure.USAGE, "--output must differ from --model");
    }
    if (Files.isRegularFile(output)) throw new PosterGenresException(Failure.INPUT, "--output " + output + " is a file");
    if (Files.isDirectory(output) && !overwrite) {
      try (Stream<Path> s = Files.list(output)) {
        if (s.findAny().isPresent()) {
          throw new PosterGenresException(Failure.INPUT, "--output " + output + " is not empty; pass --overwrite or choose a new directory");
        }
      }
    }
  }
}
