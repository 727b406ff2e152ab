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

  /** Whether the text holds a URI with user-info ({@code scheme://user[:secret]@host/...}). */
  public static boolean hasUserInfo(String uri) {
    return uri != null && !redact(uri).equals(uri);
  }

  /**
   * Refuses a URI with user-info before any file system sees it: Hadoop itself logs the whole URI
   * when a file system refuses it (S3A refuses keys in URIs), so redacting our own messages is not
   * enough.
   *
   * @param what what the URI is, for the message ({@code --input})
   */
  public static void refuseUserInfo(String what, String uri) {
    if (hasUserInfo(uri)) {
      throw new PosterGenresException(Failure.USAGE, what + " " + redact(uri) + " holds credentials in its URI (user-info before the host); "
          + "they belong in the Hadoop configuration (fs.s3a.access.key and fs.s3a.secret.key, a credential provider, "
          + "or the machine's role), never in a URI");
    }
  }

  /** Each element redacted, as a list's toString would show them. */
  public static String redact(Iterable<String> uris) {
    StringBuilder b = new StringBuilder("[");
    for (String u : uris) b.append(b.length() > 1 ? ", " : "").append(redact(u));
    return b.append(']').toString();
  }
}
