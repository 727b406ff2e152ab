package io.postergenres.errors;

/**
 * Strips user-info from URIs before they reach a log line, a message, a summary or a report:
 * {@code s3a://key:secret@bucket/x} becomes {@code s3a://bucket/x}. Every layer uses it, so it lives
 * at the bottom with the failures.
 */
public final class Redaction {
  private Redaction() {}

  /** The URI without user-info; any other text unchanged. */
  public static String redact(String uri) {
    if (uri == null) return null;
    return uri.replaceAll("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]*@", "$1");
  }

  /** Each element redacted, as a list's toString would show them. */
  public static String redact(Iterable<String> uris) {
    StringBuilder b = new StringBuilder("[");
    for (String u : uris) b.append(b.length() > 1 ? ", " : "").append(redact(u));
    return b.append(']').toString();
  }
}
