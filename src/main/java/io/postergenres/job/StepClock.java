package io.postergenres.job;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a run's time goes: each {@link #lap} books the time since the previous one under a step's
 * name, in the order the steps ran (a step booked twice adds up). Driver-only, one thread.
 */
public final class StepClock {
  private final Map<String, Double> seconds = new LinkedHashMap<>();
  private long last = System.nanoTime();

  /** Books the time since the last lap (or since the clock started) under {@code step}. */
  public void lap(String step) {
    long now = System.nanoTime();
    seconds.merge(step, (now - last) / 1e9, Double::sum);
    last = now;
  }

  /** Starts the next step now, booking the time since the last lap nowhere (a test hook's). */
  public void skip() {
    last = System.nanoTime();
  }

  /** The steps so far, in seconds to the millisecond. */
  public Map<String, Double> seconds() {
    Map<String, Double> out = new LinkedHashMap<>();
    seconds.forEach((k, v) -> out.put(k, Math.round(v * 1000) / 1000.0));
    return out;
  }
}
