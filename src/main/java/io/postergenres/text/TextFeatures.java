package io.postergenres.text;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * What the text stage's linear head reads of a poster's text: its letters' 3- and 4-grams and its
 * words of three letters or more, hashed into {@value #BUCKETS} buckets (CRC-32 of the n-gram, so
 * the features do not depend on the JVM), each count as log(1 + count), then the number of lines
 * and log(1 + letters). Letters only, a to z after lower-casing: the n-grams run over the letters
 * with spaces and everything else removed, so they survive a reader that loses the spaces
 * ("COMINGTHISSUMMER"), and words are the runs of letters. A poster with no text has all zeros.
 */
public final class TextFeatures {
  /** Hash buckets of n-grams and words. */
  public static final int BUCKETS = 4096;
  /** Values per poster: the buckets, the line count, log(1 + letters). */
  public static final int SIZE = BUCKETS + 2;

  private TextFeatures() {}

  /** The features of one poster's lines, in a dense array of {@link #SIZE}. */
  public static float[] of(List<String> lines) {
    float[] x = new float[SIZE];
    String letters = String.join(" ", lines).toLowerCase(Locale.ROOT).replaceAll("[^a-z]+", " ");
    String compact = letters.replace(" ", "");
    CRC32 crc = new CRC32();
    for (int n = 3; n <= 4; n++) {
      for (int i = 0; i + n <= compact.length(); i++) x[bucket(crc, n + compact.substring(i, i + n))]++;
    }
    for (String word : letters.trim().split(" ")) {
      if (word.length() > 2) x[bucket(crc, "w" + word)]++;
    }
    for (int j = 0; j < BUCKETS; j++) if (x[j] > 0) x[j] = (float) Math.log1p(x[j]);
    x[BUCKETS] = lines.size();
    x[BUCKETS + 1] = (float) Math.log1p(compact.length());
    return x;
  }

  private static int bucket(CRC32 crc, String gram) {
    crc.reset();
    crc.update(gram.getBytes(StandardCharsets.US_ASCII));
    return (int) (crc.getValue() % BUCKETS);
  }
}
