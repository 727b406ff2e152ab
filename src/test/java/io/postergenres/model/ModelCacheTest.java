package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/** Where the temporary copy of a model goes, and that it goes away whether the load works or not. */
public class ModelCacheTest {
  /**
   * A model that passes the driver's checks (contract, op allow-list) but that TensorFlow cannot
   * load: its graph has an Identity node whose input does not exist.
   */
  public static ModelPackage unloadable(Path dir) throws IOException {
    Path model = TestModels.write(dir.resolve("unloadable"), 8, 8, 11);
    Path pb = model.resolve("saved_model.pb");
    SavedModel saved = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef meta = saved.getMetaGraphs(0);
    MetaGraphDef broken = meta.toBuilder().setGraphDef(meta.getGraphDef().toBuilder()
        .addNode(NodeDef.newBuilder().setName("dangling").setOp("Identity").addInput("no_such_node")
            .putAttr("T", meta.getGraphDef().getNodeList().stream().filter(n -> n.getName().equals("scores")).findFirst()
                .orElseThrow().getAttrOrThrow("T"))))
        .build();
    Files.write(pb, saved.toBuilder().setMetaGraphs(0, broken).build().toByteArray());
    return ModelPackage.read(model.toString(), new Configuration());
  }

  static List<Path> copiesIn(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(ModelCache.COPY_PREFIX)).toList();
    }
  }

  @Test
  void aModelThatFailsToLoadLeavesNoCopy(@TempDir Path dir) throws IOException {
    ModelPackage pkg = unloadable(dir);
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    for (int attempt = 0; attempt < 2; attempt++) { // as two task attempts would
      ModelException e = assertThrows(ModelException.class,
          () -> ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(1, 1), scratch, () -> {}));
      assertTrue(e.getMessage().contains("cannot load"), e.getMessage());
    }
    assertEquals(List.of(), copiesIn(scratch), "no temporary copy left after failed loads");
    // and the copy was made there, not in java.io.tmpdir: a scratch directory that is missing fails the load
    assertThrows(java.io.UncheckedIOException.class,
        () -> ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(1, 1), dir.resolve("missing"), () -> {}));
  }

  @Test
  void aLoadedModelLeavesNoCopyEither(@TempDir Path dir) throws IOException {
    ModelPackage pkg = ModelPackage.read(TestModels.write(dir.resolve("good"), 8, 8, 12).toString(), new Configuration());
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    int[] loads = {0};
    // as an executor's SparkFiles root gives it: "." made absolute, not normalised
    Path unnormalised = Path.of(scratch + "/.");
    PosterModel model = ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(1, 1), unnormalised, () -> loads[0]++);
    try {
      assertEquals(1, loads[0]);
      assertEquals(5, model.predict(new float[8 * 8 * 3], 1).length, "the model works after its copy is gone");
      assertEquals(List.of(), copiesIn(scratch), "the copy is deleted once TensorFlow has read it");
    } finally {
      ModelCache.closeAll();
    }
  }
}
