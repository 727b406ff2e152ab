package io.postergenres.model;

/** A model directory that cannot be used: missing files, a broken model.json, a wrong signature. */
public final class ModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
