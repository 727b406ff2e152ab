package io.postergenres.image;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the pixels being decoded at once in a JVM, and so the memory decoding takes: a
 * progressive JPEG keeps every DCT coefficient of the full image while it decodes (about 6 bytes a
 * pixel, whatever scale it is decoded at), so four 49-megapixel uploads at once took 1.7 GB. Each
 * decode takes its image's width x height from the budget before it starts and gives it back after;
 * an image larger than the whole budget waits until it can run alone. Small posters (a few
 * megapixels) never wait in practice.
 *
 * <p>One budget per JVM ({@link #shared()}) serves the job's tasks of an executor and the server's
 * request threads alike. Its size is {@value #DEFAULT_PIXELS} pixels (about 400 MB of decoder
 * memory) unless the system property {@code poster.decode.budget.pixels} says otherwise.
 */
public final class DecodeBudget {
  public static final long DEFAULT_PIXELS = 64_000_000L;
  private static final int UNIT = 1024; // pixels a permit
  private static final DecodeBudget SHARED = new DecodeBudget(Long.getLong("poster.decode.budget.pixels", DEFAULT_PIXELS));

  private final Semaphore permits;
  private final int total;
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong peak = new AtomicLong();

  public DecodeBudget(long pixels) {
    if (pixels < UNIT) throw new IllegalArgumentException("decode budget must be at least " + UNIT + " pixels, got " + pixels);
    this.total = (int) Math.min(Integer.MAX_VALUE, pixels / UNIT);
    this.permits = new Semaphore(total, true);
  }

  public static DecodeBudget shared() {
    return SHARED;
  }

  /** A granted share of the budget; closing gives it back. */
  public final class Grant implements AutoCloseable {
    private final int units;
    private final long pixels;
    private boolean closed;

    private Grant(int units, long pixels) {
      this.units = units;
      this.pixels = pixels;
    }

    @Override
    public void close() {
      if (closed) return;
      closed = true;
      inFlight.addAndGet(-pixels);
      permits.release(units);
    }
  }

  /** Waits until {@code width x height} pixels fit in the budget (or the image runs alone). */
  public Grant acquire(long width, long height) {
    long pixels = Math.max(1, width) * Math.max(1, height);
    int units = (int) Math.min(total, (pixels + UNIT - 1) / UNIT);
    permits.acquireUninterruptibly(units);
    long now = inFlight.addAndGet(pixels);
    peak.accumulateAndGet(now, Math::max);
    return new Grant(units, pixels);
  }

  /** The most pixels ever decoding at once under this budget. */
  public long peakPixels() {
    return peak.get();
  }

  public long totalPixels() {
    return (long) total * UNIT;
  }
}
