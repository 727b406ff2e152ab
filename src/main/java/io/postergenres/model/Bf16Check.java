package io.postergenres.model;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Whether bfloat16 keeps a model's genres on this CPU. oneDNN's bfloat16 kernels differ between
 * CPUs (on an AMD EPYC with AVX512_BF16 and no AMX, the ensemble's Conv2D layers in bfloat16 moved
 * scores by up to 0.54 and changed the top three genres of most posters; on an Intel CPU with AMX
 * the same model moved by 0.04). So {@code --bf16} is checked where it runs: a fixed reference
 * batch, made from a seed at the model's own input size (so any model can be checked), is scored
 * in float32 and in bfloat16, and bfloat16 is used only when every score is within {@link
 * #MAX_SCORE_DIFFERENCE} and every poster gets the same genres under the model's rules.
 */
public final class Bf16Check {
  /** Largest score difference accepted between float32 and bfloat16 on the reference batch. */
  public static final double MAX_SCORE_DIFFERENCE = 0.05;
  /** Posters in the reference batch. */
  public static final int REFERENCE_POSTERS = 8;

  /** The outcome: passed, the largest difference, and how many posters changed genres. */
  public record Result(boolean passed, double maxScoreDifference, int postersWithOtherGenres, int posters) {
    public String describe() {
      return String.format(java.util.Locale.ROOT,
          "bfloat16 against float32 on %d reference posters: largest score difference %.3f (tolerance %.2f), %d with other genres",
          posters, maxScoreDifference, MAX_SCORE_DIFFERENCE, postersWithOtherGenres);
    }
  }

  private Bf16Check() {}

  /** Scores the reference batch with both models and compares. */
  public static Result run(PosterModel float32, PosterModel bf16) {
    ModelSpec spec = float32.spec();
    float[] batch = referenceBatch(spec.inputHeight(), spec.inputWidth(), REFERENCE_POSTERS);
    return compare(float32.predict(batch, REFERENCE_POSTERS), bf16.predict(batch, REFERENCE_POSTERS), GenreRules.of(spec),
        spec.genres().size());
  }

  /** Compares float32 and bfloat16 scores of the same posters (n x genres, row-major). */
  static Result compare(float[] float32, float[] bf16, GenreRules rules, int genres) {
    int n = float32.length / genres;
    double max = 0;
    int changed = 0;
    for (int i = 0; i < n; i++) {
      for (int g = 0; g < genres; g++) max = Math.max(max, Math.abs(float32[i * genres + g] - bf16[i * genres + g]));
      List<String> a = rules.assign(float32, i * genres);
      List<String> b = rules.assign(bf16, i * genres);
      if (!new java.util.HashSet<>(a).equals(new java.util.HashSet<>(b))) changed++;
    }
    return new Result(max <= MAX_SCORE_DIFFERENCE && changed == 0, max, changed, n);
  }

  /**
   * {@code n} poster-like images (H x W x 3 in [0, 1]): smooth colour fields, blocks of flat colour
   * as titles and figures make, and some grain, from a fixed seed; the same every time.
   */
  static float[] referenceBatch(int height, int width, int n) {
    float[] out = new float[n * height * width * 3];
    SplittableRandom random = new SplittableRandom(20261129L);
    for (int i = 0; i < n; i++) {
      float[][] corner = new float[4][3];
      for (float[] c : corner) for (int k = 0; k < 3; k++) c[k] = (float) random.nextDouble();
      int blocks = 3 + random.nextInt(6);
      int[][] box = new int[blocks][4];
      float[][] colour = new float[blocks][3];
      for (int b = 0; b < blocks; b++) {
        box[b][0] = random.nextInt(height);
        box[b][1] = random.nextInt(width);
        box[b][2] = box[b][0] + 1 + random.nextInt(Math.max(1, height / 3));
        box[b][3] = box[b][1] + 1 + random.nextInt(Math.max(1, width / 2));
        for (int k = 0; k < 3; k++) colour[b][k] = (float) random.nextDouble();
      }
      int base = i * height * width * 3;
      for (int y = 0; y < height; y++) {
        float fy = height == 1 ? 0 : y / (float) (height - 1);
        for (int x = 0; x < width; x++) {
          float fx = width == 1 ? 0 : x / (float) (width - 1);
          int p = base + (y * width + x) * 3;
          for (int k = 0; k < 3; k++) {
            float v = (1 - fy) * ((1 - fx) * corner[0][k] + fx * corner[1][k]) + fy * ((1 - fx) * corner[2][k] + fx * corner[3][k]);
            out[p + k] = v;
          }
          for (int b = 0; b < blocks; b++) {
            if (y >= box[b][0] && y < box[b][2] && x >= box[b][1] && x < box[b][3]) {
              for (int k = 0; k < 3; k++) out[p + k] = colour[b][k];
            }
          }
          for (int k = 0; k < 3; k++) out[p + k] = Math.min(1f, Math.max(0f, out[p + k] + (float) (random.nextDouble() - 0.5) * 0.08f));
        }
      }
    }
    return out;
  }
}
