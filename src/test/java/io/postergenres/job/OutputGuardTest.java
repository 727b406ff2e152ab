package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code label} refuses to write over, before any work: nothing of the user's is deleted by a mistyped --output. */
class OutputGuardTest {
  @TempDir Path tmp;
  private final Configuration conf = new Configuration();

  private PosterGenresException refused(Path output, List<String> inputs, WriteMode mode) {
    PosterGenresException e = assertThrows(PosterGenresException.class,
        () -> RunSetup.checkOutput(output.toString(), inputs, mode, conf));
    assertEquals(Failure.INPUT, e.failure());
    return e;
  }

  /** A new output under a file, or under a folder this user cannot write, is refused before any poster is labelled. */
  @Test
  void aNewOutputMustBeCreatable() throws IOException {
    Path file = Files.writeString(tmp.resolve("a-file.txt"), "x");
    String underFile = refused(file.resolve("labels"), List.of(), WriteMode.ERROR).getMessage();
    assertTrue(underFile.contains("cannot be created") && underFile.contains("is a file, not a folder"), underFile);
    Path locked = Files.createDirectories(tmp.resolve("locked"));
    assertTrue(locked.toFile().setWritable(false, false));
    try {
      if (!Files.isWritable(locked)) { // root may write anywhere: nothing to refuse then
        String unwritable = refused(locked.resolve("deep/labels"), List.of(), WriteMode.ERROR).getMessage();
        assertTrue(unwritable.contains("cannot write in"), unwritable);
      }
    } finally {
      locked.toFile().setWritable(true, false);
    }
    assertDoesNotThrow(() -> RunSetup.checkOutput(tmp.resolve("new/deep/labels").toString(), List.of(), WriteMode.ERROR, conf));
  }

  /** A plain run's output and a nightly one's are never mixed in one folder, whichever comes second. */
  @Test
  void plainAndNightlyLayoutsDoNotMix() throws IOException {
    Path plain = Files.createDirectories(tmp.resolve("plain"));
    Files.writeString(plain.resolve("part-00000-x.snappy.parquet"), "");
    PosterGenresException e = assertThrows(PosterGenresException.class, () -> RunSetup.refusePlainOutput(plain.toString(), conf));
    assertEquals(Failure.INPUT, e.failure());
    assertTrue(e.getMessage().contains("plain label run"), e.getMessage());
    Path nightly = Files.createDirectories(tmp.resolve("nightly").resolve("current"));
    String append = refused(nightly.getParent(), List.of(), WriteMode.APPEND).getMessage();
    assertTrue(append.contains("is a nightly (--incremental) output"), append);
    assertDoesNotThrow(() -> RunSetup.refusePlainOutput(nightly.getParent().toString(), conf));
    assertDoesNotThrow(() -> RunSetup.refusePlainOutput(tmp.resolve("new").toString(), conf));
  }

  @Test
  void aFileIsNeverOverwrittenNorAppendedTo() throws IOException {
    Path readme = Files.writeString(tmp.resolve("README.md"), "# my notes\n");
    String overwrite = refused(readme, List.of(), WriteMode.OVERWRITE).getMessage();
    assertTrue(overwrite.contains("is a file") && overwrite.contains("would delete it") && overwrite.contains("--output"), overwrite);
    assertTrue(refused(readme, List.of(), WriteMode.APPEND).getMessage().contains("is a file"));
    assertEquals("# my notes\n", Files.readString(readme));
  }

  @Test
  void aFolderOfOtherThingsIsNotOverwritten() throws IOException {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Files.writeString(home.resolve("thesis.tex"), "x");
    Files.createDirectories(home.resolve("photos"));
    Files.writeString(home.resolve("_SUCCESS"), "");
    String message = refused(home, List.of(), WriteMode.OVERWRITE).getMessage();
    assertTrue(message.contains("thesis.tex") && message.contains("photos") && message.contains("would delete the whole folder"), message);
    assertTrue(Files.exists(home.resolve("thesis.tex")));
    // hidden or underscored is not enough: only what Spark, its committers and the run reports leave
    for (String name : List.of(".git", "_archive", ".env", "_notes.txt", "part-00000.csv")) {
      Path other = Files.createDirectories(tmp.resolve("other-" + name));
      Files.writeString(other.resolve("_SUCCESS"), "");
      if (name.contains(".txt") || name.contains(".csv") || name.equals(".env")) Files.writeString(other.resolve(name), "x");
      else Files.createDirectories(other.resolve(name));
      assertTrue(refused(other, List.of(), WriteMode.OVERWRITE).getMessage().contains(name));
    }
    // appending adds files beside them and deletes nothing: allowed
    assertDoesNotThrow(() -> RunSetup.checkOutput(home.toString(), List.of(), WriteMode.APPEND, conf));
  }

  @Test
  void anEarlierRunsLabelsMayBeReplaced() throws IOException {
    Path labels = Files.createDirectories(tmp.resolve("labels"));
    Files.writeString(labels.resolve("_SUCCESS"), "");
    Files.writeString(labels.resolve("._SUCCESS.crc"), "");
    Files.writeString(labels.resolve("part-00000-88b6-c000.zstd.parquet"), "PAR1");
    Files.createDirectories(labels.resolve("_runs"));
    Files.createDirectories(labels.resolve("_temporary"));
    Files.writeString(labels.resolve(".part-00000-88b6-c000.zstd.parquet.crc"), "");
    assertDoesNotThrow(() -> RunSetup.checkOutput(labels.toString(), List.of("posters"), WriteMode.OVERWRITE, conf));
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertDoesNotThrow(() -> RunSetup.checkOutput(empty.toString(), List.of(), WriteMode.OVERWRITE, conf));
    // the default mode still refuses anything that exists
    assertTrue(refused(labels, List.of(), WriteMode.ERROR).getMessage().contains("already exists"));
    assertDoesNotThrow(() -> RunSetup.checkOutput(tmp.resolve("new").toString(), List.of(), WriteMode.ERROR, conf));
  }

  @Test
  void theInputIsNeverInsideTheOutput() throws IOException {
    Path catalogue = Files.createDirectories(tmp.resolve("catalogue"));
    Path posters = Files.createDirectories(catalogue.resolve("posters"));
    for (String input : List.of(catalogue.toString(), posters.toString(), posters + "/*.jpg", "file://" + posters)) {
      String message = refused(catalogue, List.of(input), WriteMode.OVERWRITE).getMessage();
      assertTrue(message.contains("is inside --output") && message.contains("delete them first"), message);
    }
    assertTrue(refused(catalogue, List.of(posters.toString()), WriteMode.APPEND).getMessage().contains("is inside --output"));
    // a glob whose last part matches the output itself
    Path labels = Files.createDirectories(tmp.resolve("labels"));
    Files.writeString(labels.resolve("_SUCCESS"), "");
    assertTrue(refused(labels, List.of(tmp + "/lab*"), WriteMode.OVERWRITE).getMessage().contains("is inside --output"));
    assertDoesNotThrow(() -> RunSetup.checkOutput(labels.toString(), List.of(tmp + "/cat*"), WriteMode.OVERWRITE, conf));
    // an inventory (--input-list) counts as an input: overwrite would delete the list before reading it
    Path list = Files.writeString(catalogue.resolve("posters.csv"), "path\n");
    assertTrue(refused(catalogue, List.of(list.toString()), WriteMode.OVERWRITE).getMessage().contains("is inside --output"));
    // labels written below the posters' folder are fine: the glob keeps them out of the next listing
    Path below = Files.createDirectories(posters.resolve("labels"));
    assertDoesNotThrow(() -> RunSetup.checkOutput(below.toString(), List.of(posters.toString()), WriteMode.OVERWRITE, conf));
  }
}
