package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What the labeller reads of one file. */
class PosterReaderTest {
  /** A named pipe that the listing took for a poster is an error row at once, not a read that blocks forever. */
  @Test
  @Timeout(60)
  void aNamedPipeIsRefusedNotRead(@TempDir Path tmp) throws Exception {
    Path fifo = tmp.resolve("fifo.jpg");
    boolean made;
    try {
      made = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() == 0;
    } catch (java.io.IOException e) {
      made = false;
    }
    assumeTrue(made, "mkfifo is not available here: no named pipe to test with");
    PosterReader reader = new PosterReader(new Configuration(), 1_000_000);
    PosterException e = assertThrows(PosterException.class, () -> reader.read(fifo.toString(), 0));
    assertEquals(ErrorKind.READ_ERROR, e.kind());
    assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    Path poster = tmp.resolve("p.jpg");
    Files.write(poster, new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {1, 2, 3}, reader.read(poster.toUri().toString(), 3), "a plain file is read");
    Path folder = java.nio.file.Files.createDirectories(tmp.resolve("folder.jpg"));
    PosterException dir = assertThrows(PosterException.class, () -> reader.read(folder.toString(), -1));
    assertEquals(ErrorKind.READ_ERROR, dir.kind(), dir.getMessage());
    assertTrue(dir.getMessage().contains("a folder, not a poster file"), dir.getMessage());
    Path link = tmp.resolve("link.jpg");
    Files.createSymbolicLink(link, poster);
    assertArrayEquals(new byte[] {1, 2, 3}, reader.read(link.toString(), 3), "a link to a plain file is read");
  }
}
