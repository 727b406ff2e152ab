package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

/**
 * Scores compared as TensorFlow computes them: the same to 1e-5, not to the last bit. Which kernels
 * run depends on the CPU (oneDNN's with AVX-512, TensorFlow's own without), and a batch of another
 * size or make-up may sum in another order: on an AVX2-only CPU the same poster scored 0.6748065 in
 * the job and 0.6748064 through the API.
 */
public final class ScoreAsserts {
  public static final float TOLERANCE = 1e-5f;

  private ScoreAsserts() {}

  /** Two genre-to-score maps (Java or Scala, or both null) with the same genres and scores within {@link #TOLERANCE}. */
  public static void assertSameScores(Object want, Object got, String message) {
    Map<?, ?> w = javaMap(want);
    Map<?, ?> g = javaMap(got);
    if (w == null || g == null) {
      assertEquals(w, g, message);
      return;
    }
    assertEquals(w.keySet(), g.keySet(), message);
    for (Object genre : w.keySet()) {
      assertEquals(((Number) w.get(genre)).floatValue(), ((Number) g.get(genre)).floatValue(), TOLERANCE, message + ": " + genre);
    }
  }

  /** Rows of values (as {@code InventoryTest.content} makes them) equal, their score maps within {@link #TOLERANCE}. */
  public static void assertSameRows(Map<String, List<Object>> want, Map<String, List<Object>> got, String message) {
    assertEquals(want.keySet(), got.keySet(), message);
    for (String path : want.keySet()) {
      List<Object> w = want.get(path);
      List<Object> g = got.get(path);
      assertEquals(w.size(), g.size(), message + ": " + path);
      for (int i = 0; i < w.size(); i++) {
        if (w.get(i) instanceof Map<?, ?> || g.get(i) instanceof Map<?, ?>) {
          assertSameScores(w.get(i), g.get(i), message + ": " + path);
        } else {
          assertEquals(w.get(i), g.get(i), message + ": " + path + ", value " + i);
        }
      }
    }
  }

  private static Map<?, ?> javaMap(Object m) {
    if (m instanceof scala.collection.Map<?, ?> s) return scala.jdk.javaapi.CollectionConverters.asJava(s);
    return (Map<?, ?>) m;
  }
}
