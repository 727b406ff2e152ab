package io.postergenres.train;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two files {@code train --folds K} writes beside a model for the steps that come after it
 * ({@code evaluate --split out-of-fold}, {@code calibrate}, {@code train-text}): every poster's
 * out-of-fold scores and every poster's fold. One reader for all of them, so that a damaged file
 * gets the same message, with its line, whichever command reads it. Poster paths in both files are
 * relative to the dataset root the model was trained on; they are returned absolute and normalised.
 */
public final class OutOfFoldFiles {
  /** {@code poster,GENRE,...}: each poster scored by the fold head that never saw it, 4 decimals. */
  public static final String SCORES = "out-of-fold-scores.csv";
  /** {@code fold<TAB>poster}, one line a poster. */
  public static final String FOLDS = "folds.txt";

  private OutOfFoldFiles() {}

  /** The scores file's genres (its header after {@code poster}) and each poster's scores, in file order. */
  public record Scores(Path file, List<String> genres, Map<Path, float[]> byPoster) {}

  /**
   * Reads {@code modelDir}'s out-of-fold scores; where {@code genres} is not null the header must
   * name exactly those genres, in that order.
   *
   * @throws FileNotFoundException where the model has no such file (it was not trained with folds)
   * @throws IOException for a row with the wrong number of fields or a value that is not a score in [0, 1]
   */
  public static Scores scores(Path modelDir, Path datasetRoot, List<String> genres) throws IOException {
    Path file = modelDir.resolve(SCORES);
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException(file + " does not exist: only a model trained with 'train --folds K' has out-of-fold scores");
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    if (lines.isEmpty()) throw new IOException(file + " is empty: expected a header poster,GENRE,... and a row per poster");
    String[] header = lines.get(0).split(",");
    List<String> columns = List.of(header).subList(1, header.length);
    if (genres != null && !columns.equals(genres)) {
      throw new IOException(file + " has the genres " + columns + " where the model has " + genres + "; is it the model's own file?");
    }
    Path root = datasetRoot.toAbsolutePath().normalize();
    Map<Path, float[]> out = new LinkedHashMap<>();
    for (int r = 1; r < lines.size(); r++) {
      String line = lines.get(r);
      if (line.isBlank()) continue;
      String[] f = line.split(",");
      if (f.length != header.length) {
        throw new IOException(file + " line " + (r + 1) + ": " + (f.length - 1) + " scores where the header has " + columns.size() + " genres");
      }
      float[] v = new float[f.length - 1];
      for (int j = 0; j < v.length; j++) {
        try {
          v[j] = Float.parseFloat(f[j + 1]);
        } catch (NumberFormatException e) {
          throw new IOException(file + " line " + (r + 1) + ": '" + f[j + 1] + "' is not a score");
        }
        if (!(v[j] >= 0 && v[j] <= 1)) throw new IOException(file + " line " + (r + 1) + ": score " + f[j + 1] + " is not in [0, 1]");
      }
      out.put(resolve(root, f[0]), v);
    }
    return new Scores(file, columns, out);
  }

  /**
   * Reads {@code modelDir}'s folds: each poster's fold.
   *
   * @throws FileNotFoundException where the model has no such file (it was not trained with folds)
   * @throws IOException for a line that is not {@code fold<TAB>poster} with a whole-number fold, or fewer than two folds
   */
  public static Map<Path, Integer> folds(Path modelDir, Path datasetRoot) throws IOException {
    Path file = modelDir.resolve(FOLDS);
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException(file + " does not exist: only a model trained with 'train --folds K' has its folds");
    }
    Path root = datasetRoot.toAbsolutePath().normalize();
    Map<Path, Integer> out = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int r = 0; r < lines.size(); r++) {
      String line = lines.get(r);
      if (line.isBlank() || line.startsWith("#")) continue;
      int tab = line.indexOf('\t');
      try {
        if (tab < 0) throw new NumberFormatException();
        out.put(resolve(root, line.substring(tab + 1)), Integer.parseInt(line.substring(0, tab).trim()));
      } catch (NumberFormatException e) {
        throw new IOException(file + " line " + (r + 1) + ": expected fold<TAB>poster with a whole-number fold, got " + line);
      }
    }
    if (out.values().stream().distinct().count() < 2) throw new IOException(file + " holds fewer than two folds");
    return out;
  }

  private static Path resolve(Path root, String poster) {
    Path p = Path.of(poster);
    return p.isAbsolute() ? p.normalize() : root.resolve(p).normalize();
  }
}
