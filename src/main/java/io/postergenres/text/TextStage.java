package io.postergenres.text;

import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.GraphDef;

/**
 * The text stage of a model: reads each poster's text ({@link TextReader}), turns it into
 * {@link TextFeatures}, scores it with the {@link TextHead}, and blends that with the image model's
 * scores: sigmoid(logit(image score) + weight x text logit). A poster with no text (or none read)
 * still gets the head's logits for "no text", as in training. Thread-safe; the owner closes it.
 */
public final class TextStage implements AutoCloseable {
  private final TextSpec spec;
  private final TextReader reader;
  private final TextHead head;

  public TextStage(TextSpec spec, TextReader reader, TextHead head) {
    if (head.genres() != spec.genres().size() || head.features() != TextFeatures.SIZE) {
      throw new IllegalArgumentException("text head has " + head.features() + " features and " + head.genres() + " genres; expected "
          + TextFeatures.SIZE + " and " + spec.genres().size());
    }
    this.spec = spec;
    this.reader = reader;
    this.head = head;
  }

  /**
   * Loads the stage from a model directory's {@value TextSpec#DIR} folder.
   *
   * @param modelGenres the image model's genres (the stage must have the same, in the same order)
   * @throws IllegalArgumentException or IOException saying what is missing or wrong
   */
  public static TextStage load(Path dir, List<String> modelGenres, int threads) throws IOException {
    TextSpec spec = TextSpec.parse(Files.readAllBytes(dir.resolve(TextSpec.FILE_NAME)), modelGenres);
    TextHead head;
    try (InputStream in = Files.newInputStream(dir.resolve(spec.head()))) {
      head = TextHead.read(in);
    }
    List<String> characters = new ArrayList<>(Files.readAllLines(dir.resolve(spec.characters()), StandardCharsets.UTF_8));
    GraphDef detector = GraphDef.parseFrom(Files.readAllBytes(dir.resolve(spec.detector())));
    GraphDef recogniser = GraphDef.parseFrom(Files.readAllBytes(dir.resolve(spec.recogniser())));
    TextReader reader = new TextReader(detector, recogniser, characters, threads);
    try {
      return new TextStage(spec, reader, head);
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  public TextSpec spec() {
    return spec;
  }

  /** The lines read on each poster (null: nothing to read). */
  public List<List<String>> read(List<BufferedImage> posters) {
    List<BufferedImage> present = new ArrayList<>();
    for (BufferedImage p : posters) if (p != null) present.add(p);
    List<List<String>> read = present.isEmpty() ? List.of() : reader.read(present);
    List<List<String>> out = new ArrayList<>();
    int k = 0;
    for (BufferedImage p : posters) out.add(p == null ? List.of() : read.get(k++));
    return out;
  }

  /** Text logits, posters x genres row-major, of each poster's lines. */
  public float[] logits(List<List<String>> lines) {
    int g = head.genres();
    float[] out = new float[lines.size() * g];
    for (int i = 0; i < lines.size(); i++) System.arraycopy(head.logits(TextFeatures.of(lines.get(i))), 0, out, i * g, g);
    return out;
  }

  /** Blends image scores (n x g sigmoid scores, in place) with the posters' text. */
  public void blend(float[] scores, List<BufferedImage> posters) {
    blendLines(scores, read(posters));
  }

  /** Posters decoded for the reader at a time by {@link #blendFiles}: few full-size images held at once. */
  static final int FILES_AT_A_TIME = 8;

  /**
   * Blends image scores (n x g, in place) with the text on the n posters' files, each decoded by
   * {@code decoder} ({@link TextReader#decoder}), {@value #FILES_AT_A_TIME} at a time so that only a
   * few decoded posters are held at once. A file the decoder cannot read counts as a poster without
   * text (the image model's own decoder took it, or it would not be scored).
   */
  public void blendFiles(float[] scores, List<byte[]> posters, Preprocessor decoder) {
    int g = head.genres();
    if (scores.length != posters.size() * g) throw new IllegalArgumentException(scores.length + " scores for " + posters.size() + " posters");
    for (int start = 0; start < posters.size(); start += FILES_AT_A_TIME) {
      int m = Math.min(FILES_AT_A_TIME, posters.size() - start);
      List<BufferedImage> images = new ArrayList<>(m);
      for (int k = 0; k < m; k++) {
        try {
          images.add(decoder.decode(posters.get(start + k)));
        } catch (PosterException e) {
          images.add(null);
        }
      }
      float[] part = java.util.Arrays.copyOfRange(scores, start * g, (start + m) * g);
      blend(part, images);
      System.arraycopy(part, 0, scores, start * g, m * g);
    }
  }

  /** Blends image scores (n x g sigmoid scores, in place) with the lines already read on the n posters. */
  public void blendLines(float[] scores, List<List<String>> lines) {
    float[] text = logits(lines);
    if (text.length != scores.length) throw new IllegalArgumentException(scores.length + " scores for " + text.length + " text logits");
    for (int i = 0; i < scores.length; i++) scores[i] = blend(scores[i], text[i], spec.weight());
  }

  /** sigmoid(logit(score) + weight x text logit), the score clipped to [1e-6, 1 - 1e-6] first. */
  public static float blend(float score, float textLogit, double weight) {
    double s = Math.min(1 - 1e-6, Math.max(1e-6, score));
    double z = Math.log(s / (1 - s)) + weight * textLogit;
    return (float) (1 / (1 + Math.exp(-z)));
  }

  @Override
  public void close() {
    reader.close();
  }
}
