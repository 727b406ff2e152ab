package io.postergenres.job.incremental;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

import io.postergenres.errors.PosterException;
import io.postergenres.job.HadoopConf;
import io.postergenres.job.OutputRows;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.PosterReader;
import io.postergenres.model.ModelSpec;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reuse by content: a poster to label whose bytes (sha256) equal those of a labelled poster that
 * is gone from the inputs, labelled by the current model, takes that poster's labels instead of
 * running the model (a renamed file). A join on executors, so that the number of vanished posters
 * is unbounded and nothing of them is collected to the driver.
 */
final class ContentReuse {
  /** The files hashed: the todo columns and the hex sha256 of the bytes, null when unreadable. */
  static final StructType HASHED = new StructType()
      .add("path", DataTypes.StringType, false)
      .add("modificationTime", DataTypes.TimestampType, true)
      .add("length", DataTypes.LongType, true)
      .add("prior_attempts", DataTypes.IntegerType, true)
      .add(OutputSchema.SHA256, DataTypes.StringType, true);

  private ContentReuse() {}

  /**
   * The output rows of the posters in {@code todo} ({@code path, modificationTime, length,
   * prior_attempts}) that reuse the labels of one of the {@code vanished} ledger rows.
   *
   * <p>Only files whose listed length equals a candidate's are read and hashed (same content means
   * same length), so a night without renames reads nothing twice. When two vanished posters had the
   * same content, the one with the smallest path gives its labels.
   */
  static Dataset<Row> reusedRows(Dataset<Row> todo, Dataset<Row> vanished, ModelSpec spec, OutputRows rows,
      Broadcast<HadoopConf> conf, long maxFileBytes) {
    Dataset<Row> candidates = vanished.where(col(OutputSchema.ERROR_KIND).isNull()
            .and(col(OutputSchema.MODEL_NAME).equalTo(spec.name()))
            .and(col(OutputSchema.MODEL_VERSION).equalTo(spec.version()))
            .and(col(OutputSchema.SHA256).isNotNull()))
        .withColumn("_rank", row_number().over(Window.partitionBy(OutputSchema.SHA256).orderBy(OutputSchema.PATH)))
        .where(col("_rank").equalTo(1))
        .select(col(OutputSchema.SHA256).as("_sha256"), col(OutputSchema.PATH).as("_from"),
            col(OutputSchema.GENRES).as("_genres"), col(OutputSchema.SCORES).as("_scores"),
            col(OutputSchema.LENGTH).as("_length"));
    Dataset<Row> sameLength = todo.join(candidates.select("_length").distinct(),
        col("length").equalTo(col("_length")), "left_semi");
    Dataset<Row> hashed = sameLength.map(new HashFile(conf, maxFileBytes), Encoders.row(HASHED));
    return hashed.join(candidates, hashed.col(OutputSchema.SHA256).equalTo(candidates.col("_sha256")), "inner")
        .select(col("path"), col("modificationTime"), col("length"), col(OutputSchema.SHA256), col("_from"),
            col("_genres"), col("_scores"))
        .map(new ReusedRow(rows), Encoders.row(OutputSchema.SCHEMA));
  }

  /** Reads one listed file on an executor and adds its sha256 (null when it cannot be read). */
  record HashFile(Broadcast<HadoopConf> conf, long maxFileBytes) implements MapFunction<Row, Row> {
    @Override
    public Row call(Row r) throws NoSuchAlgorithmException {
      String sha256;
      try {
        byte[] bytes = new PosterReader(conf.value().get(), maxFileBytes).read(r.getString(0), r.isNullAt(2) ? -1 : r.getLong(2));
        sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      } catch (PosterException e) {
        sha256 = null; // the labeller reads it again and writes the error row
      }
      return RowFactory.create(r.get(0), r.get(1), r.get(2), r.get(3), sha256);
    }
  }

  /** The output row of a poster that takes the labels of the vanished poster with its content. */
  record ReusedRow(OutputRows rows) implements MapFunction<Row, Row> {
    @Override
    public Row call(Row r) {
      List<String> genres = r.getList(5);
      Map<String, Float> scores = CollectionConverters.asJava(r.<scala.collection.Map<String, Float>>getAs(6));
      return rows.reused(r.getString(0), r.getTimestamp(1), r.isNullAt(2) ? null : r.getLong(2), r.getString(3),
          genres.toArray(new String[0]), scores, r.getString(4), new Timestamp(System.currentTimeMillis()));
    }
  }
}
