package io.postergenres.job;

import io.postergenres.errors.PosterException;
import java.io.Serializable;
import java.sql.Timestamp;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Builds the rows of {@link OutputSchema}: the one place that knows its column order. Labelled,
 * reused and failed rows of one run differ only in the columns set here. Serializable, so that
 * executors build rows with it.
 *
 * @param modelName model.json name written into each row
 * @param modelVersion model.json version written into each row
 * @param runId id of the run writing the rows
 */
public record OutputRows(String modelName, String modelVersion, String runId) implements Serializable {

  /** A poster the model labelled, on its {@code attempts}-th try. */
  public Row labelled(String path, Timestamp modificationTime, Long length, String sha256, String[] genres,
      Map<String, Float> scores, int attempts, Timestamp labelledAt) {
    return row(path, modificationTime, length, sha256, genres, scores, labelledAt, null, null, attempts, null);
  }

  /** A poster that took the labels of an identical file, {@code from}, that was renamed. */
  public Row reused(String path, Timestamp modificationTime, Long length, String sha256, String[] genres,
      Map<String, Float> scores, String from, Timestamp labelledAt) {
    return row(path, modificationTime, length, sha256, genres, scores, labelledAt, null, null, 1, from);
  }

  /** A poster that could not be labelled; {@code sha256} is null when it could not be read. */
  public Row failed(String path, Timestamp modificationTime, Long length, String sha256, PosterException e, int attempts,
      Timestamp labelledAt) {
    return row(path, modificationTime, length, sha256, null, null, labelledAt, e.kind().columnValue(), e.getMessage(),
        attempts, null);
  }

  private Row row(String path, Timestamp modificationTime, Long length, String sha256, String[] genres,
      Map<String, Float> scores, Timestamp labelledAt, String errorKind, String error, int attempts, String reusedFrom) {
    return RowFactory.create(path, modificationTime, length, sha256, genres,
        scores == null ? null : CollectionConverters.asScala(scores),
        modelName, modelVersion, runId, labelledAt, errorKind, error, attempts, reusedFrom);
  }
}
