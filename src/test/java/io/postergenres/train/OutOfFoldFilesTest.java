package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one reader of what {@code train --folds} leaves for evaluate, calibrate and train-text. */
class OutOfFoldFilesTest {
  @TempDir Path dir;

  @Test
  void readsScoresAndFoldsKeyedByThePostersPathUnderTheDatasetRoot() throws IOException {
    Path root = dir.resolve("data");
    Files.writeString(dir.resolve(OutOfFoldFiles.SCORES), "poster,Drama,Comedy\na/1.jpg,0.1250,0.9000\nb/2.jpg,0.5000,0.0001\n");
    Files.writeString(dir.resolve(OutOfFoldFiles.FOLDS), "# fold\tposter\n0\ta/1.jpg\n1\tb/2.jpg\n");

    OutOfFoldFiles.Scores s = OutOfFoldFiles.scores(dir, root, List.of("Drama", "Comedy"));
    assertEquals(List.of("Drama", "Comedy"), s.genres());
    assertEquals(List.of(root.resolve("a/1.jpg").toAbsolutePath().normalize(), root.resolve("b/2.jpg").toAbsolutePath().normalize()),
        List.copyOf(s.byPoster().keySet()), "file order, absolute paths");
    assertArrayEquals(new float[] {0.5f, 0.0001f}, s.byPoster().get(root.resolve("b/2.jpg").toAbsolutePath().normalize()));
    Map<Path, Integer> folds = OutOfFoldFiles.folds(dir, root);
    assertEquals(1, folds.get(root.resolve("b/2.jpg").toAbsolutePath().normalize()));
  }

  @Test
  void aDamagedFileNamesItsLineAndWhatIsWrong() throws IOException {
    Path root = dir.resolve("data");
    Path scores = dir.resolve(OutOfFoldFiles.SCORES);
    Path folds = dir.resolve(OutOfFoldFiles.FOLDS);
    assertTrue(assertThrows(FileNotFoundException.class, () -> OutOfFoldFiles.scores(dir, root, null)).getMessage().contains("train --folds K"));
    assertTrue(assertThrows(FileNotFoundException.class, () -> OutOfFoldFiles.folds(dir, root)).getMessage().contains("train --folds K"));

    Files.writeString(scores, "poster,Drama,Comedy\na.jpg,0.1,0.2\nb.jpg,0.1,x\n");
    assertEquals(scores + " line 3: 'x' is not a score", assertThrows(IOException.class, () -> OutOfFoldFiles.scores(dir, root, null)).getMessage());
    Files.writeString(scores, "poster,Drama,Comedy\na.jpg,0.1,1.5\n");
    assertTrue(assertThrows(IOException.class, () -> OutOfFoldFiles.scores(dir, root, null)).getMessage().endsWith("line 2: score 1.5 is not in [0, 1]"));
    Files.writeString(scores, "poster,Drama,Comedy\na.jpg,0.1\n");
    assertTrue(assertThrows(IOException.class, () -> OutOfFoldFiles.scores(dir, root, null)).getMessage().contains("line 2: 1 scores where the header has 2"));
    Files.writeString(scores, "poster,Comedy,Drama\na.jpg,0.1,0.2\n");
    assertTrue(assertThrows(IOException.class, () -> OutOfFoldFiles.scores(dir, root, List.of("Drama", "Comedy"))).getMessage()
        .contains("has the genres [Comedy, Drama] where the model has [Drama, Comedy]"));

    Files.writeString(folds, "0\ta.jpg\nfirst\tb.jpg\n");
    assertTrue(assertThrows(IOException.class, () -> OutOfFoldFiles.folds(dir, root)).getMessage()
        .endsWith("line 2: expected fold<TAB>poster with a whole-number fold, got first\tb.jpg"));
    Files.writeString(folds, "0\ta.jpg\n0\tb.jpg\n");
    assertTrue(assertThrows(IOException.class, () -> OutOfFoldFiles.folds(dir, root)).getMessage().endsWith("holds fewer than two folds"));
  }
}
