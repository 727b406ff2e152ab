package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue #13 item 2: --bf16 must not change the genres on CPUs whose bfloat16 kernels lose precision. */
class Bf16CheckTest {
  static final List<String> G = List.of("Action", "Comedy", "Drama");
  static final GenreRules RULES = new GenreRules(G, new float[] {0.5f, 0.5f, 0.5f}, 1, 2);

  @AfterEach
  void forget() {
    ModelCache.closeAll();
  }

  @Test
  void passesWithinToleranceAndSameGenres() {
    float[] a = {0.9f, 0.1f, 0.3f, 0.2f, 0.7f, 0.6f};
    float[] b = {0.88f, 0.12f, 0.31f, 0.21f, 0.69f, 0.62f};
    Bf16Check.Result r = Bf16Check.compare(a, b, RULES, 3);
    assertTrue(r.passed(), r.describe());
    assertEquals(2, r.posters());
  }

  @Test
  void failsWhenAGenreFlipsEvenWithSmallDifferences() {
    float[] a = {0.9f, 0.49f, 0.3f};
    float[] b = {0.9f, 0.51f, 0.3f};
    Bf16Check.Result r = Bf16Check.compare(a, b, RULES, 3);
    assertFalse(r.passed());
    assertEquals(1, r.postersWithOtherGenres());
  }

  @Test
  void failsWhenScoresMoveBeyondTolerance() {
    float[] a = {0.9f, 0.1f, 0.3f};
    float[] b = {0.8f, 0.1f, 0.3f};
    assertFalse(Bf16Check.compare(a, b, RULES, 3).passed());
  }

  @Test
  void theReferenceBatchIsFixedAndInRange() {
    float[] x = Bf16Check.referenceBatch(20, 12, 3);
    assertArrayEquals(x, Bf16Check.referenceBatch(20, 12, 3));
    for (float v : x) assertTrue(v >= 0 && v <= 1);
  }

  /**
   * Whatever this CPU does in bfloat16, a model loaded with --bf16 through the cache (as label and
   * serve load it) scores the reference batch within the tolerance of float32. On this project's
   * AMD EPYC (AVX512_BF16, no AMX) the ensemble's raw bfloat16 session is 0.54 off, so before the
   * check this failed; on CPUs where bfloat16 is close, the bfloat16 session is kept.
   */
  @Test
  @Timeout(300)
  void aModelLoadedWithBf16KeepsItsGenres() throws Exception {
    Path dir = Path.of("models/ensemble");
    assumeTrue(Files.isRegularFile(dir.resolve("model.json")), "models/ensemble is not in this checkout");
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    PosterModel checked = ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(2, 1, true), () -> {});
    try (PosterModel float32 = PosterModel.load(dir, pkg.spec(), 2, 1, false)) {
      int n = Bf16Check.REFERENCE_POSTERS;
      float[] batch = Bf16Check.referenceBatch(pkg.spec().inputHeight(), pkg.spec().inputWidth(), n);
      Bf16Check.Result r = Bf16Check.compare(float32.predict(batch, n), checked.predict(batch, n), GenreRules.of(pkg.spec()),
          pkg.spec().genres().size());
      assertTrue(r.passed(), "model loaded with --bf16 (" + (checked.bf16() ? "bf16" : "fell back to fp32") + "): " + r.describe());
      assertNotNull(ModelCache.lastBf16Check());
      assertEquals(ModelCache.lastBf16Check().passed(), checked.bf16());
      System.out.println("bf16 self-check on this CPU: " + ModelCache.lastBf16Check().describe() + " -> "
          + (checked.bf16() ? "kept" : "refused"));
    }
  }
}
