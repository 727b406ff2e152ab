package io.postergenres.errors;

/** A failure the user can fix, with its kind (which the command maps to an exit code) and a message that says what to change. */
public class PosterGenresException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Failure failure;

  public PosterGenresException(Failure failure, String message) {
    super(message);
    this.failure = failure;
  }

  public PosterGenresException(Failure failure, String message, Throwable cause) {
    super(message, cause);
    this.failure = failure;
  }

  public Failure failure() {
    return failure;
  }
}
