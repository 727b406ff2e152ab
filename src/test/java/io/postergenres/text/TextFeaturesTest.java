package io.postergenres.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextFeaturesTest {
  @Test
  void bucketsAreCrc32OfTheNgramAsPythonsZlibComputesIt() {
    // zlib.crc32(b"3com") % 4096 == 1959 and so on: the buckets do not depend on the JVM or the language
    float[] x = TextFeatures.of(List.of("Comedy"));
    float one = (float) Math.log1p(1);
    assertEquals(one, x[1959], 1e-6f, "3-gram 'com'");
    assertEquals(one, x[3478], 1e-6f, "4-gram 'come'");
    assertEquals(one, x[1699], 1e-6f, "3-gram 'edy'");
    assertEquals(one, x[3485], 1e-6f, "word 'comedy'");
    assertEquals(1f, x[TextFeatures.BUCKETS], "one line");
    assertEquals((float) Math.log1p(6), x[TextFeatures.BUCKETS + 1], 1e-6f, "six letters");
    int nonZero = 0;
    for (int j = 0; j < TextFeatures.BUCKETS; j++) if (x[j] != 0) nonZero++;
    assertTrue(nonZero <= 8, "4 three-grams, 3 four-grams and a word: at most 8 buckets, got " + nonZero);
  }

  @Test
  void lostSpacesKeepTheNgramsAndLoseTheWords() {
    float[] spaced = TextFeatures.of(List.of("COMING THIS SUMMER"));
    float[] run = TextFeatures.of(List.of("comingthissummer"));
    int sharedNgrams = 0;
    for (int j = 0; j < TextFeatures.BUCKETS; j++) if (spaced[j] > 0 && run[j] > 0) sharedNgrams++;
    assertTrue(sharedNgrams >= 20, "the letter n-grams of both spellings: " + sharedNgrams);
    assertEquals(spaced[TextFeatures.BUCKETS + 1], run[TextFeatures.BUCKETS + 1], "same letters");
  }

  @Test
  void noTextIsAllZerosAndDigitsAndPunctuationAreNotLetters() {
    float[] none = TextFeatures.of(List.of());
    for (float v : none) assertEquals(0f, v);
    float[] digits = TextFeatures.of(List.of("2019 !!", "#1"));
    assertEquals(2f, digits[TextFeatures.BUCKETS], "two lines");
    for (int j = 0; j <= TextFeatures.BUCKETS; j++) if (j != TextFeatures.BUCKETS) assertEquals(0f, digits[j], "bucket " + j);
    assertEquals(0f, digits[TextFeatures.BUCKETS + 1]);
  }

  @Test
  void repeatedNgramsCountLogarithmically() {
    float[] x = TextFeatures.of(List.of("murder", "MURDER", "Murder"));
    assertEquals((float) Math.log1p(3), x[1785], 1e-6f, "word 'murder' three times");
  }
}
