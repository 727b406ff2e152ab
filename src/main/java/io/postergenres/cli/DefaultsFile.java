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
