package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** What models/ ships: within its size limit, and the default model readable with and without its text stage. */
class ShippedModelsTest {
  static final long LIMIT_BYTES = 40_000_000L;

  @Test
  void allOfModelsFitsIn40Megabytes() throws IOException {
    long total;
    try (Stream<Path> files = Files.walk(Path.of("models"))) {
      total = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    assertTrue(total <= LIMIT_BYTES, "models/ holds " + total + " bytes, over the limit of " + LIMIT_BYTES);
  }

  @Test
  void theDefaultModelReadsWithItsTextStageOrWithout() {
    ModelPackage pkg = ModelPackage.read("models/mobilenet-poster", new Configuration());
    assertTrue(pkg.hasTextStage(), "the default model ships its text stage");
    ModelPackage image = pkg.withoutTextStage();
    ModelPackage text = pkg.withTextStage();
    assertEquals(image.spec().genres(), text.spec().genres());
    assertTrue(text.spec().version().startsWith(image.spec().version() + "+text-"), text.spec().version());
    assertTrue(image.sizeBytes() + 5_000_000 < text.sizeBytes(), "the text stage's networks travel only with --read-text");
  }
}
