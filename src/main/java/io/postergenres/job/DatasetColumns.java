package io.postergenres.job;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * How {@link PosterLabeller} takes a caller's own rows (the DataFrame API) instead of a listing: the
 * poster is the bytes of the binary column at {@code content}, or else (no content column) the file
 * at the string column {@code path}; each row comes back whole, with the {@link OutputSchema}
 * columns named in {@code added} appended in that order.
 *
 * @param path index of the string path column, or -1
 * @param content index of the binary content column, or -1 (then the poster is read from {@code path})
 * @param added names of {@link OutputSchema} columns to append
 */
public record DatasetColumns(int path, int content, List<String> added) implements Serializable {
  /** The output columns the DataFrame API appends: the job's, less what describes a listed file. */
  public static final List<String> ADDED = List.of(OutputSchema.SHA256, OutputSchema.GENRES, OutputSchema.SCORES,
      OutputSchema.MODEL_NAME, OutputSchema.MODEL_VERSION, OutputSchema.RUN_ID, OutputSchema.LABELLED_AT,
      OutputSchema.ERROR_KIND, OutputSchema.ERROR);

  public DatasetColumns {
    if (path < 0 && content < 0) throw new IllegalArgumentException("a path or a content column is needed");
    added = List.copyOf(added);
  }

  /** Indexes into {@link OutputSchema#SCHEMA} of the {@code added} columns. */
  int[] addedIndexes() {
    StructType schema = OutputSchema.SCHEMA;
    return added.stream().mapToInt(schema::fieldIndex).toArray();
  }
}
