package io.postergenres.errors;

/** A poster that cannot be labelled, with the kind of failure and a reason a person can act on. */
public final class PosterException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorKind kind;

  public PosterException(ErrorKind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public PosterException(ErrorKind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public ErrorKind kind() {
    return kind;
  }
}
