package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelContractTest {
  private static final Configuration CONF = new Configuration();

  @Test
  void conformingModelLoadsAndScoresEachPosterOnItsOwn(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 1);
    ModelPackage pkg = ModelPackage.read(dir.toString(), CONF);
    assertEquals(TestModels.GENRES, pkg.spec().genres());
    assertEquals(64, pkg.fingerprint().length());
    try (PosterModel model = PosterModel.load(dir, pkg.spec(), 1, 1)) {
      int per = 8 * 6 * 3;
      float[] batch = new float[2 * per];
      Arrays.fill(batch, 0, per, 1f); // white poster, then black
      float[] both = model.predict(batch, 2);
      assertEquals(2 * 5, both.length);
      float[] whiteAlone = model.predict(Arrays.copyOf(batch, per), 1);
      assertArrayEquals(whiteAlone, Arrays.copyOf(both, 5), 1e-6f, "batching must not change a poster's scores");
      assertFalse(Arrays.equals(Arrays.copyOf(both, 5), Arrays.copyOfRange(both, 5, 10)), "scores depend on the image");
      for (float s : both) assertTrue(s > 0 && s < 1, "sigmoid score " + s);
    }
  }

  @Test
  void fingerprintIsStableAndChangesWithTheWeights(@TempDir Path tmp) throws Exception {
    String a = ModelPackage.read(TestModels.write(tmp.resolve("a"), 8, 6, 1).toString(), CONF).fingerprint();
    String b = ModelPackage.read(TestModels.write(tmp.resolve("b"), 8, 6, 2).toString(), CONF).fingerprint();
    String a2 = ModelPackage.read(tmp.resolve("a").toString(), CONF).fingerprint();
    assertNotEquals(a, b);
    assertEquals(a, a2);
  }

  @Test
  void missingModelJsonSaysWhatIsNeeded(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 1);
    Files.delete(dir.resolve("model.json"));
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(dir.toString(), CONF));
    assertTrue(e.getMessage().contains("has no model.json"), e.getMessage());
  }

  @Test
  void missingDirectory(@TempDir Path tmp) {
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(tmp.resolve("nope").toString(), CONF));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void aGraphWithAnOpAnImageClassifierDoesNotNeedIsRefusedBeforeItRuns(@TempDir Path tmp) throws Exception {
    Path written = tmp.resolve("written-by-the-model");
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, TestModels.GENRES, 1, "write-file:" + written);
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(dir.toString(), CONF));
    assertTrue(e.getMessage().contains("WriteFile"), e.getMessage());
    ModelSpec spec = ModelSpec.parse(java.nio.file.Files.readAllBytes(dir.resolve(ModelSpec.FILE_NAME)), "test");
    ModelException onLoad = assertThrows(ModelException.class, () -> {
      try (PosterModel m = PosterModel.load(dir, spec, 1, 1)) {
        m.predict(new float[8 * 6 * 3], 1);
      }
    });
    assertTrue(onLoad.getMessage().contains("WriteFile"), onLoad.getMessage());
    assertFalse(java.nio.file.Files.exists(written), "the model never ran");
  }

  @Test
  void theShippedModelsUseOnlyAllowedOps() throws Exception {
    for (String m : List.of("models/ensemble", "models/postercnn", "models/postercnn-fp16")) {
      if (java.nio.file.Files.isDirectory(Path.of(m))) ModelPackage.read(m, CONF);
    }
  }

  @Test
  void wrongInputTypeIsRefused(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, TestModels.GENRES, 1, "int");
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(dir.toString(), CONF));
    assertTrue(e.getMessage().contains("input must be float32"), e.getMessage());
  }

  @Test
  void genreCountMustMatchTheOutput(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 1);
    ModelSpec spec = ModelSpec.parse(Files.readAllBytes(dir.resolve("model.json")), "x");
    List<String> four = spec.genres().subList(0, 4);
    java.util.Map<String, Double> t = new java.util.LinkedHashMap<>();
    four.forEach(g -> t.put(g, 0.5));
    ModelSpec wrong = new ModelSpec(spec.name(), spec.version(), 8, 6, four, t, 1, 3, null);
    Files.write(dir.resolve("model.json"), wrong.toJson());
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(dir.toString(), CONF));
    assertTrue(e.getMessage().contains("output dimension 1 is 5 but model.json implies 4"), e.getMessage());
  }

  @Test
  void inputSizeMustMatchModelJson(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 1);
    ModelSpec spec = ModelSpec.parse(Files.readAllBytes(dir.resolve("model.json")), "x");
    Files.write(dir.resolve("model.json"),
        new ModelSpec(spec.name(), spec.version(), 9, 6, spec.genres(), spec.thresholds(), 1, 3, null).toJson());
    ModelException e = assertThrows(ModelException.class, () -> ModelPackage.read(dir.toString(), CONF));
    assertTrue(e.getMessage().contains("input dimension 1 is 8"), e.getMessage());
  }

  @Test
  void modelJsonProblemsAreListed() {
    String json = "{\"name\":\"x\",\"version\":\"1\",\"input_height\":8,\"input_width\":6,"
        + "\"genres\":[\"A\",\"B\",\"A\"],\"thresholds\":{\"A\":1.5},\"min_genres\":2,\"max_genres\":1}";
    ModelException e = assertThrows(ModelException.class, () -> ModelSpec.parse(json.getBytes(), "m/model.json"));
    String m = e.getMessage();
    assertTrue(m.contains("lists A twice"), m);
    assertTrue(m.contains("threshold of A must be in [0, 1]"), m);
    assertTrue(m.contains("no entry for B"), m);
    assertTrue(m.contains("\"min_genres\" (2) is over \"max_genres\" (1)"), m);
  }

  @Test
  void brokenJsonIsReported() {
    ModelException e = assertThrows(ModelException.class, () -> ModelSpec.parse("{not json".getBytes(), "m/model.json"));
    assertTrue(e.getMessage().startsWith("m/model.json is not valid model.json"), e.getMessage());
  }
}
