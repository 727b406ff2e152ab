package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.model.ModelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    subcommands = {LabelCommand.class, ShowCommand.class, TrainCommand.class, TrainTextCommand.class, CalibrateCommand.class, ServeCommand.class, BenchCommand.class, EvaluateCommand.class, ConvertCommand.class, ServeLoadCommand.class,
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
    CommandLine cmd;
    try {
      cmd = commandLine();
    } catch (PosterGenresException e) { // the defaults file: named but missing, or unreadable
      System.err.println("poster-genres: " + e.getMessage());
      return ExitCode.of(e.failure()).code();
    }
    return cmd.execute(args);
  }

  public static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new PosterGenres());
    Path defaults = defaultsFile();
    if (defaults != null) {
      Properties properties = loadProperties(defaults);
      DefaultsFile.checkKeys(properties, defaults, cmd);
      cmd.setDefaultValueProvider(new DefaultsFile(properties));
    }
    cmd.setExecutionExceptionHandler(PosterGenres::handle);
    cmd.setParameterExceptionHandler(PosterGenres::handleParameter);
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, PosterGenres::commandList);
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

  /**
   * A command line picocli cannot parse: one short answer instead of the whole help. An unknown
   * option is named first (picocli checks required options before it reports unknown ones, so
   * {@code --inptu DIR} would otherwise read as a missing {@code --input}), with picocli's
   * suggestion, then one usage line.
   */
  private static int handleParameter(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    List<String> unmatched = e instanceof CommandLine.UnmatchedArgumentException u
        ? u.getUnmatched() : cmd.getUnmatchedArguments();
    String name = cmd.getCommandSpec().qualifiedName();
    if (!unmatched.isEmpty()) {
      String first = unmatched.get(0);
      boolean option = first.startsWith("-");
      StringBuilder line = new StringBuilder(name).append(": unknown ").append(option ? "option " : cmd.getSubcommands().isEmpty() ? "argument " : "command ")
          .append('\'').append(first).append('\'');
      List<String> suggestions = new CommandLine.UnmatchedArgumentException(cmd, unmatched).getSuggestions();
      if (!suggestions.isEmpty()) {
        line.append("; did you mean ").append(suggestions.get(0)).append('?');
      }
      err.println(line);
    } else {
      err.println(name + ": " + e.getMessage() + fromDefaultsFile(e.getArgSpec(), args));
    }
    err.println(usageLine(cmd));
    return ExitCode.USAGE.code();
  }

  /**
   * Where a bad value came from the defaults file rather than the command line, which key of which
   * file to change (the user would otherwise search the command line for it); empty otherwise.
   */
  static String fromDefaultsFile(CommandLine.Model.ArgSpec arg, String[] args) {
    if (!(arg instanceof CommandLine.Model.OptionSpec option) || option.command() == null) return "";
    for (String a : args) {
      for (String n : option.names()) {
        if (a.equals(n) || a.startsWith(n + "=")) return ""; // given on the command line
      }
    }
    Path file;
    try {
      file = defaultsFile();
    } catch (PosterGenresException e) {
      return "";
    }
    if (file == null) return "";
    Properties props = loadProperties(file);
    String name = option.longestName().replaceFirst("^-+", "");
    String key = props.containsKey(option.command().name() + "." + name) ? option.command().name() + "." + name
        : props.containsKey(name) ? name : null;
    return key == null ? "" : " (from the defaults file " + file + ", key " + key + ")";
  }

  /** {@code Usage: poster-genres label --input PATH... --output PATH [OPTIONS]; --help lists them}: one line. */
  static String usageLine(CommandLine cmd) {
    StringBuilder b = new StringBuilder("Usage: ").append(cmd.getCommandSpec().qualifiedName());
    boolean optional = false;
    for (CommandLine.Model.OptionSpec o : cmd.getCommandSpec().options()) {
      if (o.required()) {
        b.append(' ').append(o.longestName()).append(' ').append(o.paramLabel()).append(o.isMultiValue() ? "..." : "");
      } else if (!o.usageHelp() && !o.versionHelp()) {
        optional = true;
      }
    }
    if (!cmd.getSubcommands().isEmpty()) b.append(" COMMAND");
    if (optional) b.append(" [OPTIONS]");
    return b.append("; '").append(cmd.getCommandSpec().qualifiedName()).append(" --help' lists them").toString();
  }

  /**
   * The command list of {@code --help}: each command with the first sentence of its description,
   * wrapped under itself (picocli's own list shows only the first line, cut where the line ends).
   */
  static String commandList(CommandLine.Help help) {
    Map<String, CommandLine.Help> commands = help.subcommands();
    if (commands.isEmpty()) return "";
    int nameWidth = 0;
    for (String name : commands.keySet()) nameWidth = Math.max(nameWidth, name.length());
    int width = help.commandSpec().usageMessage().width();
    CommandLine.Help.TextTable table = CommandLine.Help.TextTable.forColumns(help.colorScheme(),
        new CommandLine.Help.Column(nameWidth + 4, 2, CommandLine.Help.Column.Overflow.SPAN),
        new CommandLine.Help.Column(width - nameWidth - 4, 0, CommandLine.Help.Column.Overflow.WRAP));
    for (Map.Entry<String, CommandLine.Help> c : commands.entrySet()) {
      CommandLine.Model.UsageMessageSpec usage = c.getValue().commandSpec().usageMessage();
      if (usage.hidden()) continue;
      table.addRowValues(c.getKey(), firstSentence(usage.header().length > 0 ? usage.header() : usage.description()));
    }
    return table.toString();
  }

  /** The first sentence of a description given as lines. */
  static String firstSentence(String[] lines) {
    String text = String.join(" ", lines).replaceAll("\\s+", " ").trim();
    int end = text.indexOf(". ");
    return end < 0 ? text : text.substring(0, end + 1);
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
