package io.postergenres.ml;

import io.postergenres.api.GenreLabels;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * {@link GenreLabels} as a Spark ML {@link Transformer}: a pipeline stage that adds the job's
 * output columns (genres, scores, errors...) to a Dataset of posters, and saves and loads with its
 * {@code Pipeline} or {@code PipelineModel} like any other stage (only the params are saved; the
 * model directory is read when the stage transforms).
 *
 * <p>Needs {@code spark-mllib} at run time, which a Spark distribution ships; the plain job does not.
 *
 * <pre>{@code
 * PosterGenresLabeller genres = new PosterGenresLabeller().setModelPath("hdfs:///models/mobilenet-poster")
 *     .setThresholds(new String[] {"Horror=0.4"});
 * PipelineModel model = new Pipeline().setStages(new PipelineStage[] {genres}).fit(posters);
 * }</pre>
 */
public class PosterGenresLabeller extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> modelPath;
  private final Param<String> contentCol;
  private final Param<String> pathCol;
  private final Param<String> outputPrefix;
  private final IntParam batchSize;
  private final StringArrayParam thresholds;

  public PosterGenresLabeller() {
    this(Identifiable.randomUID("posterGenres"));
  }

  /** The constructor {@code DefaultParamsReader} calls on load. */
  public PosterGenresLabeller(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath", "model directory on any Hadoop file system (required)");
    contentCol = new Param<>(this, "contentCol", "binary column of the poster's bytes");
    pathCol = new Param<>(this, "pathCol", "string column of the poster's path, read when there is no content column");
    outputPrefix = new Param<>(this, "outputPrefix", "prefix of the added columns' names");
    batchSize = new IntParam(this, "batchSize", "posters per TensorFlow run (at least 1)");
    thresholds = new StringArrayParam(this, "thresholds", "per-genre threshold overrides, GENRE=SCORE");
    setDefault(contentCol, "content");
    setDefault(pathCol, "path");
    setDefault(outputPrefix, "");
    setDefault(batchSize, GenreLabels.DEFAULT_BATCH_SIZE);
    setDefault(thresholds, new String[0]);
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> modelPath() {
    return modelPath;
  }

  public Param<String> contentCol() {
    return contentCol;
  }

  public Param<String> pathCol() {
    return pathCol;
  }

  public Param<String> outputPrefix() {
    return outputPrefix;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public StringArrayParam thresholds() {
    return thresholds;
  }

  public PosterGenresLabeller setModelPath(String value) {
    set(modelPath, value);
    return this;
  }

  public PosterGenresLabeller setContentCol(String value) {
    set(contentCol, value);
    return this;
  }

  public PosterGenresLabeller setPathCol(String value) {
    set(pathCol, value);
    return this;
  }

  public PosterGenresLabeller setOutputPrefix(String value) {
    set(outputPrefix, value);
    return this;
  }

  public PosterGenresLabeller setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  /** Per-genre threshold overrides, each {@code GENRE=SCORE} as {@code label --threshold} takes them. */
  public PosterGenresLabeller setThresholds(String[] value) {
    set(thresholds, value);
    return this;
  }

  /** The {@link GenreLabels} these params describe; fails with what to change if one is invalid. */
  GenreLabels labels() {
    if (!isDefined(modelPath)) {
      throw new IllegalArgumentException("PosterGenresLabeller needs its modelPath param: call setModelPath(<model directory>)");
    }
    GenreLabels labels = GenreLabels.withModel($(modelPath)).contentCol($(contentCol)).pathCol($(pathCol))
        .outputPrefix($(outputPrefix)).batchSize((Integer) $(batchSize));
    for (String t : $(thresholds)) {
      int eq = t.indexOf('=');
      double score;
      try {
        score = eq > 0 ? Double.parseDouble(t.substring(eq + 1).trim()) : Double.NaN;
      } catch (NumberFormatException e) {
        score = Double.NaN;
      }
      if (Double.isNaN(score)) {
        throw new IllegalArgumentException("threshold '" + t + "' is not GENRE=SCORE, e.g. Drama=0.6");
      }
      labels = labels.threshold(t.substring(0, eq).trim(), score);
    }
    return labels;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return labels().label(dataset.toDF());
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return labels().outputSchema(schema);
  }

  @Override
  public PosterGenresLabeller copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  /** For {@code PipelineModel.load} and {@link #load}. */
  public static MLReader<PosterGenresLabeller> read() {
    return new DefaultParamsReader<>();
  }

  public static PosterGenresLabeller load(String path) {
    return read().load(path);
  }
}
