package io.postergenres.job;

import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

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
      try (InputStream in = fs.open(path)) {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxFileBytes + 1));
        if (bytes.length > maxFileBytes) {
          throw tooLarge(bytes.length);
        }
        return bytes;
      }
    } catch (FileNotFoundException e) {
      throw new PosterException(ErrorKind.NOT_FOUND, "file no longer exists (deleted after listing?)");
    } catch (IOException e) {
      throw new PosterException(ErrorKind.READ_ERROR, "cannot read: " + e, e);
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
