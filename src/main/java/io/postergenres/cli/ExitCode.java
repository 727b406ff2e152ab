package io.postergenres.cli;

import io.postergenres.errors.Failure;

/** Process exit codes, each distinct so that a scheduler can act on them. Documented in the README. */
public enum ExitCode {
  /** The run finished and no more than --max-failure-ratio of its posters failed. */
  OK(0),
  /** An unexpected error: a bug, or an environment problem with a stack trace in the log. */
  INTERNAL(1),
  /** A wrong option or config value; the message says which and what to change. */
  USAGE(2),
  /** An input path that matches nothing, or an output that exists when --mode is error. */
  INPUT(3),
  /** The model directory is missing, unreadable or breaks the model contract. */
  MODEL(4),
  /** The run finished and wrote every row, but more than --max-failure-ratio of the posters failed. */
  TOO_MANY_FAILURES(5),
  /** Another incremental run holds the output's lock (and it has not expired). */
  LOCK_HELD(6);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The exit code of a failure the engine reports. */
  public static ExitCode of(Failure failure) {
    return switch (failure) {
      case USAGE -> USAGE;
      case INPUT -> INPUT;
      case MODEL -> MODEL;
      case LOCK_HELD -> LOCK_HELD;
    };
  }
}
