package io.postergenres.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A training run's progress lines: printed as they come, and kept to be written beside the model. */
public final class TrainingLog implements TrainingData.Log {
  private final PrintStream out;
  private final StringBuilder text = new StringBuilder();

  public TrainingLog(PrintStream out) {
    this.out = out;
  }

  @Override
  public void log(String format, Object... args) {
    String line = String.format(Locale.ROOT, format, args);
    out.println(line);
    out.flush();
    text.append(line).append('\n');
  }

  /** Writes every line so far to {@code file} (training-log.txt). */
  public void writeTo(Path file) throws IOException {
    Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
  }
}
