package io.postergenres.train.pretrained;

import java.util.List;

/**
 * Where a model's logits for each genre sit: their mean and standard deviation over reference
 * posters, the posters that model was trained on. Heads trained on different posters (one per
 * cross-validation fold, and the shipped one on all of them) put a rare genre's logits at somewhat
 * different places: the held-out folds' scores of such a genre then sit higher or lower than the
 * other folds' by a few tenths, and thresholds calibrated on all of them give it to twice the posters
 * that have it on one fold and to a third on another. Put on one scale (each fold's logits
 * standardised by its own heads' reference statistics, then set on the shipped heads' scale), the
 * out-of-fold scores choose thresholds that mean the same for the model that is shipped.
 */
record LogitScale(float[] mean, float[] sd) {
  /** The statistics of logits [n, g] for each of the g genres; a genre whose logits do not vary gets a unit deviation. */
  static LogitScale of(float[] logits, int g) {
    int n = logits.length / g;
    double[] sum = new double[g];
    double[] sq = new double[g];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < g; j++) {
        double v = logits[i * g + j];
        sum[j] += v;
        sq[j] += v * v;
      }
    }
    float[] mean = new float[g];
    float[] sd = new float[g];
    for (int j = 0; j < g; j++) {
      double m = sum[j] / n;
      double s = Math.sqrt(Math.max(0, sq[j] / n - m * m));
      mean[j] = (float) m;
      sd[j] = s > 1e-6 ? (float) s : 1f;
    }
    return new LogitScale(mean, sd);
  }

  /** The mean of several scales, genre by genre: a fold's typical place. */
  static LogitScale average(List<LogitScale> scales) {
    int g = scales.get(0).mean().length;
    float[] mean = new float[g];
    float[] sd = new float[g];
    for (LogitScale s : scales) {
      for (int j = 0; j < g; j++) {
        mean[j] += s.mean()[j] / scales.size();
        sd[j] += s.sd()[j] / scales.size();
      }
    }
    return new LogitScale(mean, sd);
  }

  /** Logits [n, g] in units of this scale: (logit - mean) / sd. */
  float[] standardise(float[] logits) {
    int g = mean.length;
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) out[i] = (logits[i] - mean[i % g]) / sd[i % g];
    return out;
  }

  /** Standard units [n, g] back on this scale: z * sd + mean. */
  float[] apply(float[] standard) {
    int g = mean.length;
    float[] out = new float[standard.length];
    for (int i = 0; i < standard.length; i++) out[i] = standard[i] * sd[i % g] + mean[i % g];
    return out;
  }
}
