package io.postergenres.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The shared {@code --model} option of the commands that run a model (label, serve, bench). A
 * relative model path that is not under the current directory is looked up under {@code
 * $POSTER_GENRES_HOME}, so that the installed default model is found from anywhere.
 */
public final class ModelOption {
  @Option(names = "--model", paramLabel = "DIR", defaultValue = "models/mobilenet-poster",
      description = "Model directory (SavedModel + model.json), on any file system. Default: ${DEFAULT-VALUE}.")
  String model;

  /** The model directory, resolved as {@link #resolve} does. */
  public String resolved() {
    return resolve(model);
  }

  /** A relative model path that is not under the current directory is looked up under POSTER_GENRES_HOME. */
  static String resolve(String model) {
    if (model.contains("://") || Path.of(model).isAbsolute() || Files.exists(Path.of(model))) {
      return model;
    }
    String home = System.getenv(PosterGenres.HOME_ENV);
    if (home != null) {
      Path underHome = Path.of(home).resolve(model);
      if (Files.exists(underHome)) return underHome.toString();
    }
    return model;
  }
}
