package io.postergenres.serve;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceBatcherTest {
  @Test
  void queuedPostersRunTogetherAndEachGetsItsOwnScores(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 4);
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    try (PosterModel model = PosterModel.load(dir, pkg.spec(), 1, 1);
        InferenceBatcher batcher = new InferenceBatcher(model, 4, 0)) {
      List<float[]> images = new ArrayList<>();
      List<CompletableFuture<InferenceBatcher.Result>> results = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        float[] img = new float[8 * 6 * 3];
        Arrays.fill(img, i / 6f);
        images.add(img);
        results.add(batcher.submit(img)); // queued before the worker starts
      }
      batcher.start();
      for (int i = 0; i < 6; i++) {
        InferenceBatcher.Result r = results.get(i).get();
        assertArrayEquals(model.predict(images.get(i), 1), r.scores(), 1e-6f);
        assertEquals(i < 4 ? 4 : 2, r.batchSize(), "six queued posters run as 4 + 2");
      }
      assertEquals(2, batcher.batches());
      assertEquals(4, batcher.largestBatch());
    }
  }

  @Test
  void batchOfOneTurnsBatchingOff(@TempDir Path tmp) throws Exception {
    Path dir = TestModels.write(tmp.resolve("m"), 8, 6, 4);
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    try (PosterModel model = PosterModel.load(dir, pkg.spec(), 1, 1);
        InferenceBatcher batcher = new InferenceBatcher(model, 1, 10_000)) {
      List<CompletableFuture<InferenceBatcher.Result>> results = new ArrayList<>();
      for (int i = 0; i < 3; i++) results.add(batcher.submit(new float[8 * 6 * 3]));
      batcher.start();
      for (CompletableFuture<InferenceBatcher.Result> r : results) assertEquals(1, r.get().batchSize());
      assertEquals(3, batcher.batches());
      assertThrows(IllegalArgumentException.class, () -> batcher.submit(new float[5]));
    }
  }
}
