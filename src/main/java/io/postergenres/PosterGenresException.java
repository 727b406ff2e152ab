package io.postergenres;

/** A failure the user can fix, with the exit code it maps to and a message that says what to change. */
public class PosterGenresException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final ExitCode exitCode;

  public PosterGenresException(ExitCode exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public PosterGenresException(ExitCode exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public ExitCode exitCode() {
    return exitCode;
  }
}
