package io.postergenres.image;

import java.nio.charset.StandardCharsets;

/**
 * Names what a file is from its first bytes, for error messages about files that are not a
 * supported image ("TIFF", "text", ...). Only describes; never decides what is supported.
 */
final class FormatSniffer {
  private FormatSniffer() {}

  static String describe(byte[] b) {
    // a WebP that no reader took: too short, or an unknown first chunk
    if (startsWith(b, 0, "RIFF") && startsWith(b, 8, "WEBP")) return "damaged WebP";
    if (startsWith(b, 4, "ftyp")) {
      String brand = b.length >= 12 ? new String(b, 8, 4, StandardCharsets.US_ASCII) : "";
      return brand.startsWith("avi") ? "AVIF" : brand.startsWith("hei") || brand.startsWith("mif") ? "HEIF" : "ISO media (" + brand.trim() + ")";
    }
    if (startsWith(b, 0, "II*\0") || startsWith(b, 0, "MM\0*")) return "TIFF";
    if (startsWith(b, 0, "%PDF")) return "PDF";
    if (startsWith(b, 0, "8BPS")) return "Photoshop PSD";
    if (b.length >= 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8) return "damaged JPEG";
    if (b.length >= 4 && (b[0] & 0xFF) == 0x89 && startsWith(b, 1, "PNG")) return "damaged PNG";
    if (startsWith(b, 0, "GIF8")) return "damaged GIF";
    if (looksLikeText(b)) return "text (not an image)";
    return "unknown binary data (not an image)";
  }

  private static boolean startsWith(byte[] b, int at, String ascii) {
    byte[] m = ascii.getBytes(StandardCharsets.ISO_8859_1);
    if (b.length < at + m.length) return false;
    for (int i = 0; i < m.length; i++) {
      if (b[at + i] != m[i]) return false;
    }
    return true;
  }

  private static boolean looksLikeText(byte[] b) {
    int n = Math.min(b.length, 512);
    if (n == 0) return false;
    int printable = 0;
    for (int i = 0; i < n; i++) {
      int c = b[i] & 0xFF;
      if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7F) || c >= 0x80) printable++;
    }
    return printable >= n * 0.95;
  }
}
