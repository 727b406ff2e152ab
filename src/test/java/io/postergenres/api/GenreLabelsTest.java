package io.postergenres.api;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.job.LabelJob;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.LabelRequest;
import io.postergenres.job.SparkTestBase;
import io.postergenres.job.WriteMode;
import io.postergenres.ml.PosterGenresLabeller;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/** The DataFrame API and the ML Transformer in local[2], against the job's own output. */
class GenreLabelsTest extends SparkTestBase {
  @TempDir static Path tmp;
  static Path modelDir;
  static Path posters;
  /** The job's rows for the same posters, by path. */
  static Map<String, Row> job = new HashMap<>();

  @BeforeAll
  static void labelWithTheJob() throws Exception {
    modelDir = TestModels.write(tmp.resolve("model"), 32, 24, 7);
    posters = tmp.resolve("posters");
    Files.createDirectories(posters);
    for (int i = 0; i < 9; i++) {
      Files.write(posters.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(60, 90, new Color(28 * i, 200 - 20 * i, 90)), false));
    }
    Files.write(posters.resolve("alpha.webp"), TestImages.webp("alpha.webp"));
    Files.write(posters.resolve("stripes.png"), TestImages.encode(TestImages.solid(50, 70, Color.MAGENTA), "png"));
    Files.write(posters.resolve("broken.jpg"),
        TestImages.truncated(TestImages.jpeg(TestImages.solid(200, 300, Color.RED), false), 0.4));
    Path out = tmp.resolve("job");
    new LabelJob(spark).run(new LabelRequest(List.of(posters.toString()), out.toString(), modelDir.toString(),
        "*.{jpg,png,webp}", WriteMode.ERROR, 3, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0))));
    for (Row r : spark.read().parquet(out.toString()).collectAsList()) job.put(r.getAs("path"), r);
    assertEquals(12, job.size());
  }

  static Dataset<Row> files() {
    return spark.read().format("binaryFile").load(posters.toString()).repartition(3);
  }

  static void assertSameAsTheJob(Row r, String prefix) {
    Row want = job.get(r.<String>getAs("path"));
    assertNotNull(want, "a poster the job labelled: " + r.getAs("path"));
    assertEquals(want.<String>getAs("sha256"), r.getAs(prefix + "sha256"));
    assertEquals(want.<String>getAs("error_kind"), r.getAs(prefix + "error_kind"));
    assertEquals(want.<String>getAs("error"), r.getAs(prefix + "error"));
    assertEquals(want.<Object>getAs("genres"), r.getAs(prefix + "genres"));
    io.postergenres.job.ScoreAsserts.assertSameScores(want.getAs("scores"), r.getAs(prefix + "scores"), "the job's scores");
    assertEquals("test-model", r.getAs(prefix + "model_name"));
    assertEquals("seed-7", r.getAs(prefix + "model_version"));
  }

  @Test
  void contentOrPathGiveTheJobsLabelsAndKeepEveryInputColumn() {
    Dataset<Row> in = files().withColumn("id", col("length").multiply(2));
    Dataset<Row> out = GenreLabels.withModel(modelDir.toString()).batchSize(5).label(in);
    assertEquals(List.of("path", "modificationTime", "length", "content", "id", "sha256", "genres", "scores", "model_name",
        "model_version", "run_id", "labelled_at", "error_kind", "error"), List.of(out.columns()));
    List<Row> rows = out.collectAsList();
    assertEquals(12, rows.size(), "one row per input row");
    for (Row r : rows) {
      assertSameAsTheJob(r, "");
      assertEquals(r.<Long>getAs("length") * 2, (long) r.<Long>getAs("id"), "input columns pass through");
    }
    assertEquals(1, rows.stream().filter(r -> "corrupt".equals(r.getAs("error_kind"))).count());
    assertEquals(1, rows.stream().map(r -> r.getAs("run_id")).distinct().count(), "one run_id per call");

    // Only paths: each poster is read through Hadoop's file system, as the job reads it.
    List<Row> byPath = GenreLabels.label(files().select("path"), modelDir.toString()).collectAsList();
    assertEquals(12, byPath.size());
    for (Row r : byPath) assertSameAsTheJob(r, "");
  }

  @Test
  void nullsAndMissingFilesBecomeErrorRows() {
    Dataset<Row> in = spark.createDataFrame(List.of(
        org.apache.spark.sql.RowFactory.create("a", null),
        org.apache.spark.sql.RowFactory.create("b", new byte[] {'h', 'i'})),
        DataTypes.createStructType(List.of(DataTypes.createStructField("name", DataTypes.StringType, false),
            DataTypes.createStructField("bytes", DataTypes.BinaryType, true))));
    Map<String, String> kinds = new HashMap<>();
    for (Row r : GenreLabels.withModel(modelDir.toString()).contentCol("bytes").outputPrefix("poster_").label(in).collectAsList()) {
      kinds.put(r.getAs("name"), r.getAs("poster_error_kind"));
      assertNull(r.getAs("poster_genres"));
    }
    assertEquals(Map.of("a", "empty", "b", "unsupported_format"), kinds);

    Dataset<Row> paths = spark.createDataset(List.of(posters.resolve("gone.jpg").toString()), org.apache.spark.sql.Encoders.STRING())
        .toDF("path");
    assertEquals("not_found", GenreLabels.label(paths, modelDir.toString()).first().getAs("error_kind"));
  }

  @Test
  void badInputSaysWhatToChange() {
    GenreLabels labels = GenreLabels.withModel(modelDir.toString());
    Dataset<Row> noPoster = files().select(col("length"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> labels.label(noPoster));
    assertTrue(e.getMessage().contains("neither a binary column 'content' nor a string column 'path'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> labels.label(files().withColumn("content", lit(1))));
    assertTrue(e.getMessage().contains("'content' must be binary"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> labels.label(files().withColumn("genres", lit("x"))));
    assertTrue(e.getMessage().contains("already has a column 'genres'") && e.getMessage().contains("outputPrefix"), e.getMessage());
    PosterGenresException unknown = assertThrows(PosterGenresException.class, () -> labels.threshold("Western", 0.5).label(files()));
    assertTrue(unknown.getMessage().contains("Western"), unknown.getMessage());
    PosterGenresException noModel = assertThrows(PosterGenresException.class,
        () -> GenreLabels.label(files(), tmp.resolve("no-model").toString()));
    assertTrue(noModel.getMessage().contains("no-model"), noModel.getMessage());
  }

  @Test
  void transformerLabelsAndRoundTripsThroughAPipelineSave() throws Exception {
    PosterGenresLabeller stage = new PosterGenresLabeller().setModelPath(modelDir.toString()).setBatchSize(3)
        .setOutputPrefix("pg_").setThresholds(new String[] {"Drama=0.05", "Horror = 0.95"});
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {stage});
    Path saved = tmp.resolve("pipeline-model");
    pipeline.fit(files()).write().save(saved.toString());
    pipeline.write().save(tmp.resolve("pipeline").toString());

    PipelineModel loaded = PipelineModel.load(saved.toString());
    PosterGenresLabeller back = (PosterGenresLabeller) loaded.stages()[0];
    assertEquals(stage.uid(), back.uid());
    assertEquals(modelDir.toString(), back.getOrDefault(back.modelPath()));
    assertEquals(3, (int) back.getOrDefault(back.batchSize()));
    assertArrayEquals(new String[] {"Drama=0.05", "Horror = 0.95"}, back.getOrDefault(back.thresholds()));
    assertEquals(1, Pipeline.load(tmp.resolve("pipeline").toString()).getStages().length);

    ModelSpec spec = ModelPackage.read(modelDir.toString(), new org.apache.hadoop.conf.Configuration()).spec();
    GenreRules rules = GenreRules.of(spec.withThresholds(new java.util.LinkedHashMap<>(Map.of(
        "Action", spec.thresholds().get("Action"), "Comedy", spec.thresholds().get("Comedy"), "Drama", 0.05,
        "Horror", 0.95, "Romance", spec.thresholds().get("Romance")))));
    List<Row> rows = loaded.transform(files()).collectAsList();
    assertEquals(12, rows.size());
    int labelled = 0;
    for (Row r : rows) {
      Row want = job.get(r.<String>getAs("path"));
      io.postergenres.job.ScoreAsserts.assertSameScores(want.getAs("scores"), r.getAs("pg_scores"), "same scores as the job");
      if (r.getAs("pg_error_kind") != null) continue;
      labelled++;
      Map<String, Float> scores = CollectionConverters.asJava(r.<scala.collection.Map<String, Float>>getAs("pg_scores"));
      float[] s = new float[rules.genres().size()];
      for (int j = 0; j < s.length; j++) s[j] = scores.get(rules.genres().get(j));
      assertEquals(rules.assign(s, 0), CollectionConverters.asJava(r.<scala.collection.immutable.Seq<String>>getAs("pg_genres")),
          "genres by the overridden thresholds");
    }
    assertEquals(11, labelled);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PosterGenresLabeller().transform(files()));
    assertTrue(e.getMessage().contains("setModelPath"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new PosterGenresLabeller().setModelPath(modelDir.toString()).setThresholds(new String[] {"Drama"}).transform(files()));
    assertTrue(e.getMessage().contains("GENRE=SCORE"), e.getMessage());
  }
}
