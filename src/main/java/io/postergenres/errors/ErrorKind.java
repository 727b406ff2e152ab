package io.postergenres.errors;

import java.util.Locale;

/**
 * Why a poster got no labels. Written lower-case into the {@code error_kind} column and counted in
 * the run summary, so a scheduler or an analyst can group failures without parsing messages.
 */
public enum ErrorKind {
  /** The file has zero bytes. */
  EMPTY,
  /** Not an image, or an image format the job does not take (TIFF, HEIC, AVIF, ...). */
  UNSUPPORTED_FORMAT,
  /** Recognised as JPEG/PNG/GIF/BMP but damaged or truncated. */
  CORRUPT,
  /** Width x height over the configured pixel limit; refused before decoding (decompression bombs). */
  TOO_MANY_PIXELS,
  /** File size over the configured byte limit; refused before reading. */
  TOO_LARGE_FILE,
  /** Listed, but gone when it was read. */
  NOT_FOUND,
  /** Any other I/O failure while reading the file. */
  READ_ERROR,
  /** The model failed on the batch holding this poster. */
  INFERENCE_ERROR;

  /** The value stored in the output's {@code error_kind} column. */
  public String columnValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
