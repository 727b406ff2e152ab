package io.postergenres.bench;

import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.image.TestImages;
import io.postergenres.model.GenreRules;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH micro-benchmarks of what the job does for every poster besides inference: decoding and
 * preprocessing a poster-sized JPEG (at 128, 224 and 350 px, through TensorFlow and through ImageIO),
 * hashing it, and turning scores into genres. Run with {@code scripts/jmh}; never part of a test.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HotPathBenchmark {
  @Param({"128", "224", "350"})
  public int size;

  private byte[] jpeg;
  private Preprocessor preprocessor;
  private Preprocessor imageIo;
  private float[] pixels;
  private GenreRules rules;
  private float[] scores;
  private MessageDigest sha256;

  @Setup
  public void setUp() throws Exception {
    BufferedImage poster = TestImages.solid(300, 444, new Color(40, 60, 120));
    Graphics2D g = poster.createGraphics();
    Random r = new Random(7);
    for (int i = 0; i < 40; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
      g.fillOval(r.nextInt(300), r.nextInt(444), 20 + r.nextInt(120), 20 + r.nextInt(120));
    }
    g.dispose();
    jpeg = TestImages.jpeg(poster, false);
    preprocessor = new Preprocessor(size, size, 50_000_000);
    imageIo = new Preprocessor(size, size, 50_000_000, false);
    pixels = new float[preprocessor.floatsPerImage()];
    List<String> genres = new ArrayList<>();
    for (int i = 0; i < 24; i++) genres.add("G" + i);
    float[] thresholds = new float[24];
    java.util.Arrays.fill(thresholds, 0.3f);
    rules = new GenreRules(genres, thresholds, 1, 3);
    scores = new float[24];
    for (int i = 0; i < 24; i++) scores[i] = r.nextFloat();
    sha256 = MessageDigest.getInstance("SHA-256");
  }

  @Benchmark
  public float[] decodeAndPreprocess() throws PosterException {
    preprocessor.preprocessInto(jpeg, pixels, 0);
    return pixels;
  }

  /** The same through ImageIO + Java2D, as before JPEG went through TensorFlow's decoder. */
  @Benchmark
  public float[] decodeAndPreprocessImageIo() throws PosterException {
    imageIo.preprocessInto(jpeg, pixels, 0);
    return pixels;
  }

  @Benchmark
  public byte[] sha256() {
    return sha256.digest(jpeg);
  }

  @Benchmark
  public List<String> assignGenres() {
    return rules.assign(scores, 0);
  }
}
