package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.text.TextFeatures;
import io.postergenres.text.TextHead;
import io.postergenres.text.TextSpec;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model directory with a text stage: read with it (--read-text) or without it. */
class ModelPackageTextTest {
  @TempDir Path tmp;

  static Map<String, Double> thresholds(double t) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String g : TestModels.GENRES) m.put(g, t);
    return m;
  }

  /** Writes text/ into {@code model}: text.json, a head of the right shape, placeholder graph files. */
  static void writeTextStage(Path model, String version, String headName) throws Exception {
    writeTextStage(model, version, headName, ModelPackage.read(model.toString(), new Configuration()).scoresFingerprint());
  }

  static void writeTextStage(Path model, String version, String headName, String imageFingerprint) throws Exception {
    Path text = Files.createDirectories(model.resolve(TextSpec.DIR));
    int g = TestModels.GENRES.size();
    try (OutputStream out = Files.newOutputStream(text.resolve("head.bin"))) {
      new TextHead(new float[TextFeatures.SIZE], filled(TextFeatures.SIZE, 1), new float[TextFeatures.SIZE * g], new float[g]).write(out);
    }
    Files.write(text.resolve("detector.pb"), new byte[] {1});
    Files.write(text.resolve("recogniser.pb"), new byte[] {2});
    Files.writeString(text.resolve("characters.txt"), "a\nb\n");
    TextSpec spec = new TextSpec(version, 0.2, TestModels.GENRES, thresholds(0.42), "detector.pb", "recogniser.pb", "characters.txt",
        headName, imageFingerprint, ModelPackage.read(model.toString(), new Configuration()).spec().version(), Map.of("note", "test"));
    Files.write(text.resolve(TextSpec.FILE_NAME), spec.toJson());
  }

  static float[] filled(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void withoutTheTextStageIsTheImageModelAsBefore() throws Exception {
    Path plain = TestModels.write(tmp.resolve("plain"), 32, 24, 7);
    Path withText = tmp.resolve("with-text");
    try (var files = Files.walk(plain)) { // the same image model, byte for byte
      for (Path p : (Iterable<Path>) files::iterator) Files.copy(p, withText.resolve(plain.relativize(p).toString()));
    }
    writeTextStage(withText, "1.0.0", "head.bin");
    Configuration conf = new Configuration();
    ModelPackage before = ModelPackage.read(plain.toString(), conf);
    ModelPackage read = ModelPackage.read(withText.toString(), conf);
    assertTrue(read.hasTextStage());
    assertFalse(before.hasTextStage());
    assertSame(before, before.withoutTextStage(), "nothing to strip");

    ModelPackage image = read.withoutTextStage();
    assertEquals(before.fingerprint(), image.fingerprint(), "adding text/ does not change the image model's identity");
    assertEquals(before.sizeBytes(), image.sizeBytes(), "text/ is not broadcast when the text is not read");
    assertFalse(image.readsText());
    assertEquals(before.spec(), image.spec());
  }

  @Test
  void withTheTextStageTheThresholdsAndVersionAreTheStages() throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 32, 24, 7);
    writeTextStage(dir, "2.1.0", "head.bin");
    ModelPackage read = ModelPackage.read(dir.toString(), new Configuration());
    ModelPackage text = read.withTextStage();
    assertTrue(text.readsText());
    assertEquals(read.spec().version() + "+text-2.1.0", text.spec().version());
    assertEquals(thresholds(0.42), text.spec().thresholds());
    assertEquals(read.spec().genres(), text.spec().genres());
    assertNotEquals(read.fingerprint(), text.fingerprint(), "labels from the blend are another model's");
    assertNotEquals(read.withoutTextStage().fingerprint(), text.fingerprint());
    assertEquals(read.sizeBytes(), text.sizeBytes(), "the stage's files travel with it");
  }

  @Test
  void aMissingOrBrokenTextStageSaysWhatToDo() throws Exception {
    Path plain = TestModels.write(tmp.resolve("plain"), 32, 24, 7);
    ModelException none = assertThrows(ModelException.class, () -> ModelPackage.read(plain.toString(), new Configuration()).withTextStage());
    assertTrue(none.getMessage().contains("no text stage") && none.getMessage().contains("train-text")
        && none.getMessage().contains("--read-text"), none.getMessage());

    Path missing = TestModels.write(tmp.resolve("missing"), 32, 24, 7);
    writeTextStage(missing, "1.0.0", "weights.bin");
    ModelException file = assertThrows(ModelException.class, () -> ModelPackage.read(missing.toString(), new Configuration()).withTextStage());
    assertTrue(file.getMessage().contains("text/weights.bin") && file.getMessage().contains("missing"), file.getMessage());

    // the card or the thresholds edited: still the image model the stage was trained beside
    Path edited = TestModels.write(tmp.resolve("edited"), 32, 24, 7);
    writeTextStage(edited, "1.0.0", "head.bin");
    Files.writeString(edited.resolve("README.md"), "a card written after training");
    assertTrue(ModelPackage.read(edited.toString(), new Configuration()).withTextStage().readsText());

    Path retrained = TestModels.write(tmp.resolve("retrained"), 32, 24, 7);
    writeTextStage(retrained, "1.0.0", "head.bin", "0".repeat(64)); // trained beside another image model
    ModelException stale = assertThrows(ModelException.class, () -> ModelPackage.read(retrained.toString(), new Configuration()).withTextStage());
    assertTrue(stale.getMessage().contains("another image model") && stale.getMessage().contains("train-text"), stale.getMessage());

    // the same network, its thresholds chosen again under another rule ('calibrate' gives it a new version)
    Path recalibrated = TestModels.write(tmp.resolve("recalibrated"), 32, 24, 7);
    writeTextStage(recalibrated, "1.0.0", "head.bin");
    ModelSpec old = ModelPackage.read(recalibrated.toString(), new Configuration()).spec();
    Files.write(recalibrated.resolve(ModelSpec.FILE_NAME), old.withVersion(old.version() + "-recalibrated").withThresholds(thresholds(0.3)).toJson());
    ModelException rule = assertThrows(ModelException.class, () -> ModelPackage.read(recalibrated.toString(), new Configuration()).withTextStage());
    assertTrue(rule.getMessage().contains("calibrated beside version " + old.version()) && rule.getMessage().contains("train-text"), rule.getMessage());
    assertEquals(old.version() + "-recalibrated", ModelPackage.read(recalibrated.toString(), new Configuration()).spec().version(),
        "without --read-text the model reads as before");

    Path wrong = TestModels.write(tmp.resolve("wrong"), 32, 24, java.util.List.of("Action", "Comedy", "Drama", "Horror", "Western"), 7, "float");
    writeTextStage(wrong, "1.0.0", "head.bin");
    ModelException genres = assertThrows(ModelException.class, () -> ModelPackage.read(wrong.toString(), new Configuration()).withTextStage());
    assertTrue(genres.getMessage().contains("genres are not the model's"), genres.getMessage());
  }
}
