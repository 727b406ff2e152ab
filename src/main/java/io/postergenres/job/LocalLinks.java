package io.postergenres.job;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.hadoop.fs.GlobPattern;

/**
 * What Spark's listing of a local folder does not say about symbolic links. Hadoop's local file
 * system skips a link whose target is missing without a word, and follows a link to a folder above
 * it again and again (the same poster listed under {@code self/self/self/...} until the path is too
 * long). The driver walks each local input folder once more, following links as Spark does: a loop
 * stops the run before anything is labelled (exit 3, naming the link), and each broken link that
 * matches the glob is returned, to be listed with the rest and given a {@code not_found} row.
 * Inputs on HDFS or S3, and globs, are left to the listing.
 */
public final class LocalLinks {
  private LocalLinks() {}

  /** The broken links under the local input folders whose names match {@code glob}, as the listing writes paths ({@code file:/x}). */
  public static List<String> brokenLinks(List<String> inputs, String glob) {
    GlobPattern names = new GlobPattern(Listing.caseInsensitiveGlob(glob));
    List<String> broken = new ArrayList<>();
    for (String input : inputs) {
      Path dir = localFolder(input);
      if (dir == null) continue;
      try {
        Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            // Followed links arrive with their target's attributes; only a link that cannot be followed is still a link here.
            if (attrs.isSymbolicLink() && names.matches(file.getFileName().toString())) {
              broken.add(new org.apache.hadoop.fs.Path(file.toUri()).toString());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof FileSystemLoopException) {
              throw new PosterGenresException(Failure.INPUT, "--input " + input + ": the symbolic link " + file
                  + " leads back to a folder above it (a loop), which the listing would follow again and again,"
                  + " labelling the same posters many times; remove the link or give a folder without it");
            }
            return FileVisitResult.CONTINUE; // unreadable entries are the listing's to report
          }
        });
      } catch (IOException e) {
        // the listing reads the same folders and reports what it cannot read
      }
    }
    return broken;
  }

  /** The local folder an input names, or null for a file, a glob, a missing path or another file system. */
  static Path localFolder(String input) {
    if (input.matches(".*[*?\\[{].*")) return null;
    Path p;
    try {
      URI uri = URI.create(input.replace(" ", "%20"));
      if (uri.getScheme() == null) {
        p = Path.of(input);
      } else if (uri.getScheme().equals("file")) {
        p = Path.of(new org.apache.hadoop.fs.Path(input).toUri().getPath());
      } else {
        return null;
      }
    } catch (IllegalArgumentException e) {
      p = Path.of(input);
    }
    return Files.isDirectory(p) ? p : null;
  }
}
