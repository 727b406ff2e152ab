package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --model pointed at the wrong folder fails at once, before a file below it is read. */
class ModelPackageReadTest {
  @TempDir Path tmp;

  /** The local file system, counting the files it opens. */
  public static final class Counting extends LocalFileSystem {
    static final AtomicInteger OPENED = new AtomicInteger();

    @Override
    public FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize) throws IOException {
      OPENED.incrementAndGet();
      return super.open(f, bufferSize);
    }
  }

  private static Configuration counting() {
    Configuration conf = new Configuration();
    conf.setClass("fs.file.impl", Counting.class, org.apache.hadoop.fs.FileSystem.class);
    conf.setBoolean("fs.file.impl.disable.cache", true);
    return conf;
  }

  @Test
  void aFolderWithoutModelJsonIsRefusedBeforeAnythingIsRead() throws IOException {
    Path home = Files.createDirectories(tmp.resolve("home"));
    for (int i = 0; i < 40; i++) Files.write(Files.createDirectories(home.resolve("d" + i % 4)).resolve("f" + i), new byte[1000]);
    Files.write(home.resolve("saved_model.pb"), new byte[10]);
    Counting.OPENED.set(0);
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(home.toString(), counting()));
    assertTrue(e.getMessage().contains("has no model.json"), e.getMessage());
    assertEquals(0, Counting.OPENED.get());

    Path noGraph = Files.createDirectories(tmp.resolve("no-graph"));
    Files.writeString(noGraph.resolve("model.json"), "{}");
    e = assertThrows(ModelException.class, () -> ModelPackage.read(noGraph.toString(), counting()));
    assertTrue(e.getMessage().contains("has no saved_model.pb"), e.getMessage());
    assertEquals(0, Counting.OPENED.get());
  }

  @Test
  void aModelIsStillReadWhole() throws IOException {
    Path model = TestModels.write(tmp.resolve("good"), 8, 8, 3);
    Counting.OPENED.set(0);
    ModelPackage pkg = ModelPackage.read(model.toString(), counting());
    assertEquals(ModelPackage.read(model.toString(), new Configuration()).fingerprint(), pkg.fingerprint());
    try (var files = Files.walk(model)) {
      assertEquals(files.filter(Files::isRegularFile).count(), Counting.OPENED.get());
    }
  }
}
