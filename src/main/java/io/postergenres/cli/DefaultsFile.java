package io.postergenres.cli;

import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from a properties file. For option {@code --batch-size} of command {@code label}
 * the keys tried are {@code label.batch-size}, then {@code batch-size}. An option missing from the
 * file keeps its built-in default, and the command line overrides both.
 */
final class DefaultsFile implements CommandLine.IDefaultValueProvider {
  private final Properties properties;

  DefaultsFile(Properties properties) {
    this.properties = properties;
  }

  /**
   * Every key must name an option: {@code COMMAND.OPTION} of that command, or {@code OPTION} of at
   * least one command. A misspelt key would otherwise be ignored and the run go on with the built-in
   * default, unnoticed; it is a bad option (exit 2) that names the key and, where one is near, the
   * key meant.
   */
  static void checkKeys(Properties properties, java.nio.file.Path file, CommandLine root) {
    java.util.Set<String> known = new java.util.TreeSet<>();
    for (CommandLine sub : root.getSubcommands().values()) {
      for (OptionSpec o : sub.getCommandSpec().options()) {
        if (o.usageHelp() || o.versionHelp()) continue;
        String name = o.longestName().replaceFirst("^-+", "");
        known.add(name);
        known.add(sub.getCommandName() + "." + name);
      }
    }
    for (String key : new java.util.TreeSet<>(properties.stringPropertyNames())) {
      if (known.contains(key)) continue;
      String loose = key.replaceAll("[^A-Za-z0-9.]", "").toLowerCase(java.util.Locale.ROOT);
      String near = known.stream().filter(k -> k.replaceAll("[^A-Za-z0-9.]", "").toLowerCase(java.util.Locale.ROOT).equals(loose))
          .findFirst().orElse(null);
      throw new io.postergenres.errors.PosterGenresException(io.postergenres.errors.Failure.USAGE,
          "defaults file " + file + ": '" + key + "' is not an option" + (near != null ? "; did you mean '" + near + "'?"
              : "; keys are COMMAND.OPTION or OPTION without the dashes, e.g. label.batch-size"));
    }
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || option.command() == null) {
      return null;
    }
    String name = option.longestName().replaceFirst("^-+", "");
    String value = properties.getProperty(option.command().name() + "." + name);
    if (value == null) value = properties.getProperty(name);
    return value == null ? null : value.trim();
  }
}
