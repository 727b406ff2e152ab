package io.postergenres.job;

import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import java.nio.file.Files;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Reads one poster's bytes through Hadoop's file systems, refusing files over a size limit before
 * reading them. Missing files and I/O failures become {@link PosterException}s, so a file deleted
 * after listing is an error row, not a failed task. Thread-safe (Hadoop caches the file systems).
 */
public final class PosterReader {
  private final Configuration conf;
  private final long maxFileBytes;

  public PosterReader(Configuration conf, long maxFileBytes) {
    this.conf = conf;
    this.maxFileBytes = maxFileBytes;
  }

  /** @param listedLength size when listed, or -1 if unknown */
  public byte[] read(String pathString, long listedLength) throws PosterException {
    if (listedLength > maxFileBytes) {
      throw tooLarge(listedLength);
    }
    Path path = new Path(pathString);
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (listedLength <= 0) refuseSpecialFile(fs, path); // listed as 0 bytes (or unknown): the only way a special file arrives
      try (InputStream in = fs.open(path)) {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxFileBytes + 1));
        if (bytes.length > maxFileBytes) {
          throw tooLarge(bytes.length);
        }
        return bytes;
      }
    } catch (FileNotFoundException e) {
      if (isFolder(path)) throw new PosterException(ErrorKind.READ_ERROR, "a folder, not a poster file (an inventory row naming a folder?)");
      String target = brokenLinkTarget(path);
      if (target != null) throw new PosterException(ErrorKind.NOT_FOUND, "broken symbolic link: its target " + target + " does not exist");
      throw new PosterException(ErrorKind.NOT_FOUND, "file no longer exists (deleted after listing?)");
    } catch (IOException e) {
      throw new PosterException(ErrorKind.READ_ERROR, "cannot read: " + e, e);
    }
  }

  /**
   * On a local disk, a named pipe, socket or device that the listing took for a file (it reports
   * them as files of 0 bytes) is refused before it is opened: reading a pipe nobody writes to
   * blocks forever, and would hang the run. Checked only for files listed as empty or of unknown
   * size, so that a poster with bytes costs no extra stat.
   */
  private static void refuseSpecialFile(FileSystem fs, Path path) throws PosterException {
    java.io.File file;
    if (fs instanceof LocalFileSystem local) {
      file = local.pathToFile(path);
    } else if (fs instanceof RawLocalFileSystem raw) {
      file = raw.pathToFile(path);
    } else {
      return;
    }
    java.nio.file.Path p = file.toPath();
    if (Files.exists(p) && !Files.isRegularFile(p) && !Files.isDirectory(p)) {
      throw new PosterException(ErrorKind.READ_ERROR, "not a regular file (a named pipe, socket or device): not read");
    }
  }

  /** Whether the path names a folder (a local open of one fails as if the file were missing). */
  private boolean isFolder(Path path) {
    try {
      return path.getFileSystem(conf).getFileStatus(path).isDirectory();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Where a local path that is a symbolic link points, or null (not local, not a link). */
  private static String brokenLinkTarget(Path path) {
    try {
      if (path.toUri().getScheme() != null && !path.toUri().getScheme().equals("file")) return null;
      java.nio.file.Path p = java.nio.file.Path.of(path.toUri().getPath());
      return Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).toString() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Bytes the caller already holds (the DataFrame API's content column), under the same size limit. */
  public byte[] checkSize(byte[] bytes) throws PosterException {
    if (bytes.length > maxFileBytes) throw tooLarge(bytes.length);
    return bytes;
  }

  private PosterException tooLarge(long bytes) {
    return new PosterException(ErrorKind.TOO_LARGE_FILE,
        "file of " + bytes + " bytes is over the limit of " + maxFileBytes + " (max-file-bytes)");
  }
}
