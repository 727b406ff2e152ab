package io.postergenres.cli;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import picocli.CommandLine.Option;

/**
 * The shared {@code -v} option: quiet by default (warnings, plus poster-genres' own one-line
 * lifecycle messages), {@code -v} for Spark's INFO log, {@code -vv} for DEBUG.
 */
public final class Verbosity {
  @Option(names = {"-v", "--verbose"}, description = "More log output: -v for Spark's INFO log, -vv for DEBUG.")
  boolean[] verbose = new boolean[0];

  /** Applies the level to log4j; call before Spark starts. */
  public void apply() {
    if (verbose.length == 0) return;
    Level level = verbose.length == 1 ? Level.INFO : Level.DEBUG;
    Configurator.setRootLevel(level);
    Configurator.setLevel("io.postergenres", verbose.length == 1 ? Level.INFO : Level.DEBUG);
  }

  public int level() {
    return verbose.length;
  }
}
