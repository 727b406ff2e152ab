package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.errors.Failure;
import io.postergenres.model.TestModels;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench` refuses job sizes it cannot run, before it measures anything, saying what to change. */
class BenchCommandTest {
  @Test
  void aSizeOverCountOrBelowOneIsAUsageError(@TempDir Path tmp) throws Exception {
    Path model = TestModels.write(tmp.resolve("m"), 16, 12, 3);
    Files.createDirectories(tmp.resolve("posters"));
    for (String sizes : new String[] {"10,50", "0"}) {
      StringWriter err = new StringWriter();
      int code = ConvertCommandTest.run(err, "bench", "--model", model.toString(), "--posters", tmp.resolve("posters").toString(),
          "--count", "20", "--sizes", sizes, "--output", tmp.resolve("bench.json").toString());
      assertEquals(ExitCode.of(Failure.USAGE).code(), code, err.toString());
      assertTrue(err.toString().contains("--sizes") && err.toString().contains("--count 20"), err.toString());
      assertFalse(Files.exists(tmp.resolve("bench.json")), "nothing measured");
    }
  }
}
