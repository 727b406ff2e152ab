package io.postergenres.serve;

import io.postergenres.model.PosterModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gathers preprocessed posters from concurrent requests into batches for one model: a worker
 * thread takes the first waiting poster, waits at most {@code maxWait} for more (up to {@code
 * maxBatch}), runs them in one TensorFlow call and completes each request's future with its own
 * scores. With {@code maxBatch} 1 every request runs alone. Thread-safe; close stops the worker
 * and fails what is still queued.
 */
public final class InferenceBatcher implements AutoCloseable {
  /** Scores {@code n} preprocessed posters at once: {@link PosterModel#predict}. */
  @FunctionalInterface
  public interface Scorer {
    float[] predict(float[] pixels, int n);
  }

  private record Job(float[] image, CompletableFuture<Result> done) {}

  /** One poster's scores and the size of the batch it ran in. */
  public record Result(float[] scores, int batchSize) {}

  private final Scorer model;
  private final int maxBatch;
  private final long maxWaitNanos;
  private final int floatsPerImage;
  private final int genres;
  private final BlockingQueue<Job> queue;
  private final Thread worker;
  private volatile boolean running = true;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong posters = new AtomicLong();
  private final AtomicLong largestBatch = new AtomicLong();

  public InferenceBatcher(PosterModel model, int maxBatch, long maxWaitMicros) {
    this(model, maxBatch, maxWaitMicros, 1024);
  }

  /**
   * @param maxQueue posters waiting at most; {@link #submit} fails the next one with a {@link
   *     RejectedExecutionException} (the server answers 503) rather than letting the queue grow
   */
  public InferenceBatcher(PosterModel model, int maxBatch, long maxWaitMicros, int maxQueue) {
    this(model::predict, model.spec().inputHeight() * model.spec().inputWidth() * 3, model.spec().genres().size(),
        maxBatch, maxWaitMicros, maxQueue);
  }

  /** As above, for any scorer of {@code floatsPerImage} floats a poster into {@code genres} scores. */
  public InferenceBatcher(Scorer model, int floatsPerImage, int genres, int maxBatch, long maxWaitMicros, int maxQueue) {
    if (maxQueue < 1) throw new IllegalArgumentException("max queue must be at least 1, got " + maxQueue);
    this.queue = new LinkedBlockingQueue<>(maxQueue);
    if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
    if (maxWaitMicros < 0) throw new IllegalArgumentException("max wait must be 0 or more, got " + maxWaitMicros);
    this.model = model;
    this.maxBatch = maxBatch;
    this.maxWaitNanos = TimeUnit.MICROSECONDS.toNanos(maxWaitMicros);
    this.floatsPerImage = floatsPerImage;
    this.genres = genres;
    this.worker = new Thread(this::loop, "poster-genres-batcher");
    this.worker.setDaemon(true);
  }

  /** Starts the worker; posters submitted before this wait in the queue. */
  public InferenceBatcher start() {
    worker.start();
    return this;
  }

  /** Queues one preprocessed poster (H x W x 3 floats). */
  public CompletableFuture<Result> submit(float[] image) {
    if (image.length != floatsPerImage) {
      throw new IllegalArgumentException("poster has " + image.length + " floats, the model takes " + floatsPerImage);
    }
    CompletableFuture<Result> done = new CompletableFuture<>();
    if (!running) {
      done.completeExceptionally(new IllegalStateException("server is shutting down"));
      return done;
    }
    if (!worker.isAlive() && worker.getState() != Thread.State.NEW) {
      done.completeExceptionally(new IllegalStateException("the batcher thread has stopped"));
      return done;
    }
    if (!queue.offer(new Job(image, done))) {
      done.completeExceptionally(new RejectedExecutionException("more than " + (queue.size() + queue.remainingCapacity())
          + " posters are waiting for the model"));
    }
    return done;
  }

  private void loop() {
    float[] pixels = new float[maxBatch * floatsPerImage];
    List<Job> batch = new ArrayList<>(maxBatch);
    while (running) {
      try {
        Job first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) continue;
        batch.add(first);
        long deadline = System.nanoTime() + maxWaitNanos;
        while (batch.size() < maxBatch) {
          Job next = queue.poll();
          if (next == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            next = queue.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) break;
          }
          batch.add(next);
        }
        run(batch, pixels);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Throwable e) {
        // Never let the worker die: every later request would wait for nothing.
        for (Job j : batch) j.done().completeExceptionally(e);
      } finally {
        batch.clear();
      }
    }
  }

  private void run(List<Job> batch, float[] pixels) {
    int n = batch.size();
    for (int i = 0; i < n; i++) System.arraycopy(batch.get(i).image(), 0, pixels, i * floatsPerImage, floatsPerImage);
    try {
      float[] scores = model.predict(pixels, n);
      batches.incrementAndGet();
      posters.addAndGet(n);
      largestBatch.accumulateAndGet(n, Math::max);
      for (int i = 0; i < n; i++) {
        float[] own = new float[genres];
        System.arraycopy(scores, i * genres, own, 0, genres);
        batch.get(i).done().complete(new Result(own, n));
      }
    } catch (Throwable e) {
      // An Error too (OutOfMemoryError, a native library's UnsatisfiedLinkError...): fail this
      // batch's requests, keep the worker for the next ones.
      for (Job j : batch) j.done().completeExceptionally(e);
    }
  }

  /** Whether the worker thread is running (false before {@link #start} and after it died or closed). */
  public boolean alive() {
    return running && worker.isAlive();
  }

  public long batches() {
    return batches.get();
  }

  public long posters() {
    return posters.get();
  }

  public long largestBatch() {
    return largestBatch.get();
  }

  public int maxBatch() {
    return maxBatch;
  }

  @Override
  public void close() {
    running = false;
    worker.interrupt();
    try {
      worker.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Job j;
    while ((j = queue.poll()) != null) j.done().completeExceptionally(new IllegalStateException("server stopped"));
  }
}
