package io.postergenres.text;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One logistic regression per genre over a poster's {@link TextFeatures}, standardised by the
 * training posters' mean and standard deviation: logit = sum_j (x_j - mean_j) / sd_j * w_jg + b_g.
 * Immutable; {@link #logits} is thread-safe.
 */
public final class TextHead {
  private static final int MAGIC = 0x50475448; // "PGTH"
  private final float[] mean;
  private final float[] sd;
  private final float[] weights; // features x genres, row-major
  private final float[] bias;
  private final int genres;
  private final double[] scaled; // weights / sd
  private final double[] offset; // bias - sum_j mean_j * weights_jg / sd_j

  public TextHead(float[] mean, float[] sd, float[] weights, float[] bias) {
    int f = mean.length;
    if (sd.length != f || bias.length == 0 || weights.length != (long) f * bias.length) {
      throw new IllegalArgumentException("text head: " + f + " means, " + sd.length + " deviations, " + weights.length
          + " weights and " + bias.length + " biases do not fit together");
    }
    for (float[] a : new float[][] {mean, sd, weights, bias}) {
      for (float v : a) if (!Float.isFinite(v)) throw new IllegalArgumentException("text head holds a value that is not finite");
    }
    for (float v : sd) if (!(v > 0)) throw new IllegalArgumentException("text head holds a standard deviation that is not positive");
    this.mean = mean.clone();
    this.sd = sd.clone();
    this.weights = weights.clone();
    this.bias = bias.clone();
    this.genres = bias.length;
    this.scaled = new double[weights.length];
    this.offset = new double[genres];
    for (int g = 0; g < genres; g++) offset[g] = bias[g];
    for (int j = 0; j < f; j++) {
      for (int g = 0; g < genres; g++) {
        scaled[j * genres + g] = weights[j * genres + g] / (double) sd[j];
        offset[g] -= mean[j] * scaled[j * genres + g];
      }
    }
  }

  public int features() {
    return mean.length;
  }

  public int genres() {
    return genres;
  }

  /** The per-genre logits of one poster's features. */
  public float[] logits(float[] x) {
    if (x.length != mean.length) throw new IllegalArgumentException("expected " + mean.length + " features, got " + x.length);
    double[] z = offset.clone();
    for (int j = 0; j < x.length; j++) {
      if (x[j] == 0) continue;
      for (int g = 0; g < genres; g++) z[g] += x[j] * scaled[j * genres + g];
    }
    float[] out = new float[genres];
    for (int g = 0; g < genres; g++) out[g] = (float) z[g];
    return out;
  }

  /**
   * Fits the per-genre regressions by full-batch gradient descent on the mean log loss plus
   * {@code lambda}/2 times the squared weights (the biases are not penalised), biases starting at
   * each genre's log odds. The features are sparse (a poster's text touches a few hundred of the
   * buckets), so each step costs the nonzero features, not features x posters.
   *
   * @param x n posters' features
   * @param labels n x g, 1 where the poster has the genre
   */
  public static TextHead fit(float[][] x, float[] labels, int g, double lambda, int steps, double rate) {
    int n = x.length;
    if (n == 0 || labels.length != (long) n * g) throw new IllegalArgumentException("need n x g labels for n > 0 posters");
    int f = x[0].length;
    int[][] idx = new int[n][];
    float[][] val = new float[n][];
    double[] mean = new double[f];
    double[] square = new double[f];
    for (int i = 0; i < n; i++) {
      int k = 0;
      for (float v : x[i]) if (v != 0) k++;
      idx[i] = new int[k];
      val[i] = new float[k];
      k = 0;
      for (int j = 0; j < f; j++) {
        if (x[i][j] == 0) continue;
        idx[i][k] = j;
        val[i][k++] = x[i][j];
        mean[j] += x[i][j];
        square[j] += (double) x[i][j] * x[i][j];
      }
    }
    double[] sd = new double[f];
    for (int j = 0; j < f; j++) {
      mean[j] /= n;
      sd[j] = Math.sqrt(Math.max(0, square[j] / n - mean[j] * mean[j])) + 1e-3;
    }
    double[] w = new double[f * g];
    double[] b = new double[g];
    for (int q = 0; q < g; q++) {
      double p = 0;
      for (int i = 0; i < n; i++) p += labels[i * g + q];
      p /= n;
      b[q] = Math.log(p + 1e-3) - Math.log(1 - p + 1e-3);
    }
    double[] v = new double[f * g];
    double[] c = new double[g];
    double[] grad = new double[f * g];
    double[] r = new double[g];
    double[] rsum = new double[g];
    for (int step = 0; step < steps; step++) {
      System.arraycopy(b, 0, c, 0, g);
      for (int j = 0; j < f; j++) {
        for (int q = 0; q < g; q++) {
          v[j * g + q] = w[j * g + q] / sd[j];
          c[q] -= mean[j] * v[j * g + q];
        }
      }
      java.util.Arrays.fill(grad, 0);
      java.util.Arrays.fill(rsum, 0);
      for (int i = 0; i < n; i++) {
        System.arraycopy(c, 0, r, 0, g);
        int[] ii = idx[i];
        float[] vv = val[i];
        for (int k = 0; k < ii.length; k++) {
          int base = ii[k] * g;
          for (int q = 0; q < g; q++) r[q] += vv[k] * v[base + q];
        }
        for (int q = 0; q < g; q++) {
          r[q] = 1 / (1 + Math.exp(-r[q])) - labels[i * g + q];
          rsum[q] += r[q];
        }
        for (int k = 0; k < ii.length; k++) {
          int base = ii[k] * g;
          for (int q = 0; q < g; q++) grad[base + q] += vv[k] * r[q];
        }
      }
      for (int j = 0; j < f; j++) {
        for (int q = 0; q < g; q++) {
          double gr = (grad[j * g + q] - mean[j] * rsum[q]) / sd[j] / n + lambda * w[j * g + q];
          w[j * g + q] -= rate * gr;
        }
      }
      for (int q = 0; q < g; q++) b[q] -= rate * rsum[q] / n;
    }
    return new TextHead(toFloats(mean), toFloats(sd), toFloats(w), toFloats(b));
  }

  private static float[] toFloats(double[] d) {
    float[] out = new float[d.length];
    for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
    return out;
  }

  /** Writes the head: a magic number, the feature and genre counts, then means, deviations, weights, biases (big-endian float32). */
  public void write(OutputStream out) throws IOException {
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(MAGIC);
    d.writeInt(mean.length);
    d.writeInt(genres);
    for (float[] a : new float[][] {mean, sd, weights, bias}) for (float v : a) d.writeFloat(v);
    d.flush();
  }

  /** Reads what {@link #write} wrote. */
  public static TextHead read(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(new java.io.BufferedInputStream(in));
    if (d.readInt() != MAGIC) throw new IOException("not a text head file (wrong magic number)");
    int f = d.readInt();
    int g = d.readInt();
    if (f <= 0 || g <= 0 || (long) f * g > 10_000_000) throw new IOException("text head file holds " + f + " x " + g + " weights");
    float[] mean = readFloats(d, f);
    float[] sd = readFloats(d, f);
    float[] w = readFloats(d, f * g);
    float[] b = readFloats(d, g);
    if (d.read() != -1) throw new IOException("text head file has bytes after its " + f + " x " + g + " weights");
    try {
      return new TextHead(mean, sd, w, b);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private static float[] readFloats(DataInputStream d, int n) throws IOException {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = d.readFloat();
    return a;
  }
}
