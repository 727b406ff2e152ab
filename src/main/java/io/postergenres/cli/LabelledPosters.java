package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.train.CcuDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Labelled posters given as {@code --dataset DIR} (the CCU layout) or {@code --manifest CSV}: one of them ({@code evaluate}, {@code calibrate}). */
final class LabelledPosters {
  @Option(names = "--dataset", paramLabel = "DIR", description = "A CCU Movie Poster Dataset folder.")
  Path dataset;

  @Option(names = "--manifest", paramLabel = "CSV", description = "A CSV of path,genres lines (genres separated by |).")
  Path manifest;

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LabelledPosters.class);

  /** What a manifest's reading left out, in words; null when every row was kept. */
  static String skipped(CcuDataset.Stats s, Path base) {
    if (s.examples() == s.records()) return null;
    StringBuilder b = new StringBuilder().append(s.records()).append(" rows, ").append(s.examples()).append(" kept; left out: ");
    java.util.List<String> why = new java.util.ArrayList<>();
    if (s.skippedNoPoster() > 0) why.add(s.skippedNoPoster() + " naming no poster file (relative paths are read from " + base + ")");
    if (s.skippedNoGenre() > 0) why.add(s.skippedNoGenre() + " with no genre");
    if (s.duplicates() > 0) why.add(s.duplicates() + " repeating a path named before");
    return b.append(String.join(", ", why)).append("; the figures are on the posters kept").toString();
  }

  /** The posters and the folder relative paths (model lists, out-of-fold scores) resolve against. */
  record Read(CcuDataset.Loaded data, Path root) {}

  /** Reads them; a missing folder or file, or one that cannot be read, exits 3 with what is wrong. */
  Read read() {
    try {
      if (dataset != null) {
        if (!Files.isDirectory(dataset)) throw new PosterGenresException(Failure.INPUT, "--dataset " + dataset + " is not a directory");
        return new Read(CcuDataset.readCcu(dataset), dataset);
      }
      if (!Files.isRegularFile(manifest)) throw new PosterGenresException(Failure.INPUT, "--manifest " + manifest + " is not a file");
      CcuDataset.Loaded data = CcuDataset.readManifest(manifest);
      String skipped = skipped(data.stats(), manifest.toAbsolutePath().getParent());
      if (skipped != null) LOG.warn("--manifest {}: {}", manifest, skipped);
      return new Read(data, manifest.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot read the labelled posters: " + e.getMessage(), e);
    }
  }
}
