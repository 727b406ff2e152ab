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

  @Test
  @org.junit.jupiter.api.Timeout(20)
  void anErrorFailsItsBatchButNotTheWorker() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    InferenceBatcher.Scorer scorer = (pixels, n) -> {
      if (calls.incrementAndGet() == 1) throw new OutOfMemoryError("simulated native allocation failure");
      return new float[n * 2];
    };
    try (InferenceBatcher batcher = new InferenceBatcher(scorer, 3, 2, 1, 0, 8).start()) {
      var failed = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> batcher.submit(new float[3]).get(5, java.util.concurrent.TimeUnit.SECONDS));
      assertInstanceOf(OutOfMemoryError.class, failed.getCause());
      assertTrue(batcher.alive(), "the worker survives an Error");
      assertEquals(2, batcher.submit(new float[3]).get(5, java.util.concurrent.TimeUnit.SECONDS).scores().length,
          "the next request is answered at once, not after a 30 s timeout");
    }
  }

  @Test
  void theQueueIsBounded() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    InferenceBatcher.Scorer stuck = (pixels, n) -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new float[n];
    };
    try (InferenceBatcher batcher = new InferenceBatcher(stuck, 1, 1, 1, 0, 4)) {
      List<CompletableFuture<InferenceBatcher.Result>> queued = new ArrayList<>();
      for (int i = 0; i < 4; i++) queued.add(batcher.submit(new float[1]));
      CompletableFuture<InferenceBatcher.Result> over = batcher.submit(new float[1]);
      var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> over.get(1, java.util.concurrent.TimeUnit.SECONDS));
      assertInstanceOf(java.util.concurrent.RejectedExecutionException.class, e.getCause());
      batcher.start();
      release.countDown();
      for (var q : queued) q.get(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
