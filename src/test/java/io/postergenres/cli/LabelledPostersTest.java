package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.train.CcuDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A manifest's rows that evaluate or calibrate leave out are counted and said, not dropped in silence. */
class LabelledPostersTest {
  @Test
  void rowsLeftOutAreCountedByReason(@TempDir Path tmp) throws Exception {
    Files.write(tmp.resolve("a.jpg"), new byte[] {1});
    Files.write(tmp.resolve("b.jpg"), new byte[] {1});
    Path csv = Files.writeString(tmp.resolve("m.csv"),
        "path,genres\na.jpg,Drama\nmissing.jpg,Comedy\nb.jpg,\na.jpg,Horror\n");
    CcuDataset.Loaded data = CcuDataset.readManifest(csv);
    assertEquals(1, data.examples().size());
    String said = LabelledPosters.skipped(data.stats(), tmp);
    assertEquals("4 rows, 1 kept; left out: 1 naming no poster file (relative paths are read from " + tmp
        + "), 1 with no genre, 1 repeating a path named before; the figures are on the posters kept", said);
    Path clean = Files.writeString(tmp.resolve("clean.csv"), "a.jpg,Drama\n");
    assertNull(LabelledPosters.skipped(CcuDataset.readManifest(clean).stats(), tmp), "nothing to say when every row is kept");
  }
}
