package io.postergenres.job;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schema of the labels: exactly one row per input file. The README's "Output schema"
 * table is this class in prose; each field carries its description as a column comment.
 */
public final class OutputSchema {
  private OutputSchema() {}

  public static final String PATH = "path";
  public static final String MODIFICATION_TIME = "modification_time";
  public static final String LENGTH = "length";
  public static final String SHA256 = "sha256";
  public static final String GENRES = "genres";
  public static final String SCORES = "scores";
  public static final String MODEL_NAME = "model_name";
  public static final String MODEL_VERSION = "model_version";
  public static final String RUN_ID = "run_id";
  public static final String LABELLED_AT = "labelled_at";
  public static final String ERROR_KIND = "error_kind";
  public static final String ERROR = "error";
  public static final String ATTEMPTS = "attempts";
  public static final String REUSED_FROM = "reused_from";

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            field(PATH, DataTypes.StringType, false, "fully qualified URI of the poster file"),
            field(MODIFICATION_TIME, DataTypes.TimestampType, true, "file modification time when listed"),
            field(LENGTH, DataTypes.LongType, true, "file size in bytes when listed"),
            field(SHA256, DataTypes.StringType, true, "hex SHA-256 of the bytes read; null if the file could not be read"),
            field(GENRES, DataTypes.createArrayType(DataTypes.StringType, false), true,
                "assigned genres, highest score first; null on error"),
            field(SCORES, DataTypes.createMapType(DataTypes.StringType, DataTypes.FloatType, false), true,
                "sigmoid score of every genre the model knows; null on error"),
            field(MODEL_NAME, DataTypes.StringType, false, "model.json name"),
            field(MODEL_VERSION, DataTypes.StringType, false, "model.json version"),
            field(RUN_ID, DataTypes.StringType, false, "id of the run that wrote the row (see _runs/<run_id>.json)"),
            field(LABELLED_AT, DataTypes.TimestampType, false, "when the row was produced"),
            field(ERROR_KIND, DataTypes.StringType, true,
                "null when labelled, else one of empty, unsupported_format, corrupt, too_many_pixels, too_large_file, not_found, read_error, inference_error"),
            field(ERROR, DataTypes.StringType, true, "human-readable reason; null when labelled"),
            field(ATTEMPTS, DataTypes.IntegerType, false,
                "tries so far for this file version (incremental runs retry failures up to a limit)"),
            field(REUSED_FROM, DataTypes.StringType, true,
                "when the labels were copied from an identical file (same sha256) that was renamed: its old path"),
          });

  private static StructField field(String name, DataType type, boolean nullable, String doc) {
    Metadata meta = new MetadataBuilder().putString("comment", doc).build();
    return new StructField(name, type, nullable, meta);
  }
}
