package io.postergenres.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CcuDatasetTest {
  @TempDir Path dir;

  private static String record(String id, String genre) {
    // Multi-line objects, one after another: the CCU groundtruth format.
    return "{\n  \"Title\" : \"Film " + id + "\",\n  \"imdbID\" : \"" + id + "\",\n  \"Genre\" : \"" + genre + "\"\n}\n";
  }

  private void poster(String year, String id) throws IOException {
    Path p = dir.resolve("Movie_Poster_Dataset").resolve(year).resolve(id + ".jpg");
    Files.createDirectories(p.getParent());
    Files.write(p, new byte[] {1, 2, 3});
  }

  @Test
  void readsStreamOfObjectsJoinsPostersAndCountsSkips() throws IOException {
    Files.createDirectories(dir.resolve("groundtruth"));
    poster("1990", "tt001");
    poster("1990", "tt002");
    poster("1990", "tt004");
    poster("1991", "tt005");
    poster("1991", "tt099"); // a poster no record names
    Files.writeString(dir.resolve("groundtruth/1990.txt"),
        record("tt001", "Action, Adventure, Sci-Fi")
            + record("tt002", "Drama")
            + record("tt003", "Comedy") // no poster file
            + record("tt004", "N/A"), // only N/A: no genre
        StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("groundtruth/1991.txt"),
        record("tt001", "Action") // duplicate of 1990's record
            + record("tt005", "Comedy, N/A, Drama"),
        StandardCharsets.UTF_8);

    CcuDataset.Loaded data = CcuDataset.readCcu(dir);

    assertEquals(List.of("Action", "Adventure", "Comedy", "Drama", "Sci-Fi"), data.genres());
    assertEquals(3, data.examples().size());
    CcuDataset.Example first = data.examples().get(0);
    assertEquals(dir.resolve("Movie_Poster_Dataset/1990/tt001.jpg"), first.path());
    assertEquals(Set.of("Action", "Adventure", "Sci-Fi"), first.genres()); // the first record of a duplicate wins
    assertEquals(Set.of("Comedy", "Drama"), data.examples().get(2).genres()); // N/A dropped from a list
    CcuDataset.Stats s = data.stats();
    assertEquals(6, s.records());
    assertEquals(3, s.examples());
    assertEquals(1, s.skippedNoPoster());
    assertEquals(1, s.duplicates());
    assertEquals(1, s.skippedNoGenre());
    assertEquals(1, s.postersWithoutRecord());
    assertEquals(2, data.genreCounts().get("Drama"));
  }

  @Test
  void findsPosterFiledUnderAnotherYear() throws IOException {
    Files.createDirectories(dir.resolve("groundtruth"));
    poster("2001", "tt100");
    Files.writeString(dir.resolve("groundtruth/2000.txt"), record("tt100", "Horror"), StandardCharsets.UTF_8);
    CcuDataset.Loaded data = CcuDataset.readCcu(dir);
    assertEquals(1, data.examples().size());
    assertEquals(dir.resolve("Movie_Poster_Dataset/2001/tt100.jpg"), data.examples().get(0).path());
  }

  @Test
  void findsWebpPoster() throws IOException {
    Files.createDirectories(dir.resolve("groundtruth"));
    Path webp = dir.resolve("Movie_Poster_Dataset/2000/tt200.webp");
    Files.createDirectories(webp.getParent());
    Files.write(webp, new byte[] {1, 2, 3});
    Files.writeString(dir.resolve("groundtruth/2000.txt"), record("tt200", "Drama"), StandardCharsets.UTF_8);
    CcuDataset.Loaded data = CcuDataset.readCcu(dir);
    assertEquals(List.of(webp), data.examples().stream().map(CcuDataset.Example::path).toList());
  }

  @Test
  void rejectsFolderWithoutTheLayout() {
    IOException e = assertThrows(IOException.class, () -> CcuDataset.readCcu(dir));
    assertTrue(e.getMessage().contains("Movie_Poster_Dataset"), e.getMessage());
  }

  @Test
  void readsCsvManifestWithAndWithoutHeader() throws IOException {
    Files.createDirectories(dir.resolve("img"));
    Files.write(dir.resolve("img/a.png"), new byte[] {1});
    Files.write(dir.resolve("img/b, c.png"), new byte[] {1});
    Path abs = dir.resolve("abs.png");
    Files.write(abs, new byte[] {1});
    Files.writeString(dir.resolve("with-header.csv"),
        "path,genres\n"
            + "img/a.png,Drama|Romance\n"
            + "\"img/b, c.png\", Comedy | N/A \n"
            + "\n"
            + "# a comment\n"
            + "img/missing.png,Drama\n"
            + "img/a.png,Horror\n"
            + abs + ",\n",
        StandardCharsets.UTF_8);
    CcuDataset.Loaded data = CcuDataset.readManifest(dir.resolve("with-header.csv"));
    assertEquals(List.of("Comedy", "Drama", "Romance"), data.genres());
    assertEquals(2, data.examples().size());
    assertEquals(dir.resolve("img/b, c.png"), data.examples().get(1).path());
    assertEquals(Set.of("Comedy"), data.examples().get(1).genres());
    assertEquals(5, data.stats().records());
    assertEquals(1, data.stats().skippedNoPoster());
    assertEquals(1, data.stats().duplicates());
    assertEquals(1, data.stats().skippedNoGenre());

    Files.writeString(dir.resolve("no-header.csv"), "img/a.png,Drama|Romance\n", StandardCharsets.UTF_8);
    CcuDataset.Loaded plain = CcuDataset.readManifest(dir.resolve("no-header.csv"));
    assertEquals(1, plain.examples().size());
    assertEquals(List.of("Drama", "Romance"), plain.genres());
  }

  @Test
  void manifestLineWithWrongFieldCountIsAnError() throws IOException {
    Files.writeString(dir.resolve("bad.csv"), "a.png\n", StandardCharsets.UTF_8);
    IOException e = assertThrows(IOException.class, () -> CcuDataset.readManifest(dir.resolve("bad.csv")));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
  }
}
