package io.postergenres.job;

import org.apache.spark.sql.SaveMode;

/** What {@code label} does when its output exists ({@code --mode}). */
public enum WriteMode {
  /** Refuse, before any work is done. */
  ERROR(SaveMode.ErrorIfExists),
  /** Replace the output. */
  OVERWRITE(SaveMode.Overwrite),
  /** Add this run's rows to the output. */
  APPEND(SaveMode.Append);

  private final SaveMode saveMode;

  WriteMode(SaveMode saveMode) {
    this.saveMode = saveMode;
  }

  public SaveMode saveMode() {
    return saveMode;
  }
}
