package io.postergenres.job.incremental;

import static org.apache.spark.sql.functions.col;

import io.postergenres.job.OutputRows;
import io.postergenres.job.OutputSchema;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelSpec;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reuse by scores: a poster whose row was written by an earlier version of this model with the
 * same scores ({@link ModelSpec#sameScoresAs()}: the same network, thresholds chosen again) keeps
 * its scores and gets its genres decided again under this version's rules. Nothing is read and no
 * model runs: a threshold change costs a pass over the ledger, not a relabelling of the catalogue.
 */
final class ScoreReuse {
  private ScoreReuse() {}

  /** The new rows of the {@code plan}'s {@value IncrementalJob#NEW_THRESHOLDS} posters, from their {@code ledger} rows. */
  static Dataset<Row> redecidedRows(Dataset<Row> plan, Dataset<Row> ledger, ModelSpec spec, OutputRows rows) {
    Dataset<Row> paths = plan.where(col("decision").equalTo(IncrementalJob.NEW_THRESHOLDS)).select(col("path").as("_path"));
    return ledger.join(paths, ledger.col(OutputSchema.PATH).equalTo(paths.col("_path")), "left_semi")
        .map(new Redecide(GenreRules.of(spec), rows), Encoders.row(OutputSchema.SCHEMA));
  }

  /** One poster's row with its genres decided again from its scores. */
  record Redecide(GenreRules rules, OutputRows rows) implements MapFunction<Row, Row> {
    @Override
    public Row call(Row r) {
      Map<String, Float> scores = CollectionConverters.asJava(r.<scala.collection.Map<String, Float>>getAs(OutputSchema.SCORES));
      List<String> genres = rules.genres();
      float[] s = new float[genres.size()];
      Map<String, Float> ordered = new LinkedHashMap<>(); // in the model's genre order, as the labeller writes them
      for (int j = 0; j < s.length; j++) {
        Float v = scores.get(genres.get(j));
        // Same network, same genres: a row without one of them was not written by it.
        if (v == null) throw new IllegalStateException(r.getAs(OutputSchema.PATH) + " has no score for " + genres.get(j));
        s[j] = v;
        ordered.put(genres.get(j), v);
      }
      Long length = r.isNullAt(r.fieldIndex(OutputSchema.LENGTH)) ? null : r.getAs(OutputSchema.LENGTH);
      return rows.labelled(r.getAs(OutputSchema.PATH), r.getAs(OutputSchema.MODIFICATION_TIME), length, r.getAs(OutputSchema.SHA256),
          rules.assign(s, 0).toArray(new String[0]), ordered, r.<Integer>getAs(OutputSchema.ATTEMPTS),
          new Timestamp(System.currentTimeMillis()));
    }
  }
}
