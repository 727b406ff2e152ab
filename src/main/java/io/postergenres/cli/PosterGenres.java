package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.model.ModelException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code poster-genres} command. Option values come, in this order of precedence, from the
 * command line, then the defaults file ({@link #defaultsFile()}), then the built-in defaults.
 */
@Command(
    name = "poster-genres",
    mixinStandardHelpOptions = true,
    versionProvider = PosterGenres.Version.class,
    description = "Labels movie posters with their genres using a TensorFlow model, on Spark.",
    subcommands = {LabelCommand.class, TrainCommand.class, ServeCommand.class, BenchCommand.class, EvaluateCommand.class, ConvertCommand.class, ServeLoadCommand.class,
      CommandLine.HelpCommand.class})
public final class PosterGenres {
  /** Environment variable naming the defaults file. */
  public static final String CONF_ENV = "POSTER_GENRES_CONF";
  /** Environment variable naming the installation directory (set by scripts/poster-genres). */
  public static final String HOME_ENV = "POSTER_GENRES_HOME";

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code instead of exiting (for tests). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  public static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new PosterGenres());
    Path defaults = defaultsFile();
    if (defaults != null) {
      cmd.setDefaultValueProvider(new DefaultsFile(loadProperties(defaults)));
    }
    cmd.setExecutionExceptionHandler(PosterGenres::handle);
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    return cmd;
  }

  /**
   * The defaults file: the system property {@code poster-genres.conf} or {@code
   * $POSTER_GENRES_CONF}, else {@code conf/poster-genres.properties}
   * under {@code $POSTER_GENRES_HOME}, else under the current directory; null when none exists.
   */
  public static Path defaultsFile() {
    String explicit = System.getProperty("poster-genres.conf", System.getenv(CONF_ENV));
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      if (!Files.isRegularFile(p)) {
        throw new PosterGenresException(Failure.USAGE, CONF_ENV + " names " + p + ", which is not a file");
      }
      return p;
    }
    Path home = Path.of(System.getenv().getOrDefault(HOME_ENV, "."));
    Path p = home.resolve("conf").resolve("poster-genres.properties");
    return Files.isRegularFile(p) ? p : null;
  }

  private static Properties loadProperties(Path file) {
    Properties props = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      props.load(in);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.USAGE, "cannot read defaults file " + file + ": " + e.getMessage(), e);
    }
    return props;
  }

  /** The one place where exceptions become exit codes and messages. */
  private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    if (e instanceof PosterGenresException p) {
      cmd.getErr().println(cmd.getColorScheme().errorText("poster-genres: " + p.getMessage()));
      return ExitCode.of(p.failure()).code();
    }
    if (e instanceof ModelException m) {
      cmd.getErr().println(cmd.getColorScheme().errorText("poster-genres: " + m.getMessage()));
      return ExitCode.MODEL.code();
    }
    cmd.getErr().println(cmd.getColorScheme().errorText("poster-genres: unexpected error: " + e));
    e.printStackTrace(cmd.getErr());
    return ExitCode.INTERNAL.code();
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = PosterGenres.class.getPackage().getImplementationVersion();
      return new String[] {"poster-genres " + (v == null ? "(development build)" : v)};
    }
  }
}
