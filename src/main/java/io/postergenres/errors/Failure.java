package io.postergenres.errors;

/**
 * What kind of failure the user can fix, as the engine sees it. The command line maps each to its
 * process exit code (cli.ExitCode): only the command knows about exit codes.
 */
public enum Failure {
  /** A wrong option or config value; the message says which and what to change. */
  USAGE,
  /** An input path that matches nothing, or an output that exists when --mode is error. */
  INPUT,
  /** The model directory is missing, unreadable or breaks the model contract. */
  MODEL,
  /** Another incremental run holds the output's lock (and it has not expired). */
  LOCK_HELD
}
