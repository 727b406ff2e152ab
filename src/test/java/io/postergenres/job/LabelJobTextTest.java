package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.text.TextReader;
import io.postergenres.text.TextSpec;
import io.postergenres.text.TextStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code label --read-text} with the shipped default model's text stage (models/mobilenet-poster/text)
 * on the bundled sample posters: each row's scores are the plain run's image scores blended with
 * what the stage reads on the poster, its genres follow the stage's thresholds, and a corrupt poster
 * is still an error row.
 */
class LabelJobTextTest extends SparkTestBase {
  static final Path MODEL = Path.of("models", "mobilenet-poster");
  static final Path SAMPLES = Path.of("src", "samples", "posters");
  @TempDir Path tmp;

  private static LabelRequest request(Path output, boolean readText) {
    return new LabelRequest(List.of(SAMPLES.toString()), output.toString(), MODEL.toString(), "*", WriteMode.ERROR, 2, 0.5, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0), LabelOptions.DecodeAhead.AUTO, readText));
  }

  private Map<String, Row> byName(Path out) {
    Map<String, Row> rows = new HashMap<>();
    for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
      String path = r.getAs(OutputSchema.PATH);
      rows.put(path.substring(path.lastIndexOf('/') + 1), r);
    }
    return rows;
  }

  private static Map<String, Float> scores(Row r) {
    return CollectionConverters.asJava(r.<scala.collection.Map<String, Float>>getAs(OutputSchema.SCORES));
  }

  @Test
  void readTextBlendsTheImageScoresWithWhatTheTextStageReads() throws Exception {
    assertTrue(Files.isRegularFile(MODEL.resolve(TextSpec.DIR).resolve(TextSpec.FILE_NAME)), "the default model ships a text stage");
    Path plainOut = tmp.resolve("plain");
    Path textOut = tmp.resolve("text");
    new LabelJob(spark).run(request(plainOut, false), () -> {});
    new LabelJob(spark).run(request(textOut, true), () -> {});
    Map<String, Row> plain = byName(plainOut);
    Map<String, Row> text = byName(textOut);
    assertEquals(plain.keySet(), text.keySet(), "one row per poster either way");

    ModelPackage pkg = ModelPackage.read(MODEL.toString(), new Configuration());
    ModelSpec imageSpec = pkg.withoutTextStage().spec();
    ModelSpec textSpec = pkg.withTextStage().spec();
    GenreRules rules = GenreRules.of(textSpec);
    List<String> genres = textSpec.genres();
    int labelled = 0;
    int moved = 0;
    try (TextStage stage = TextStage.load(MODEL.resolve(TextSpec.DIR), genres, 2)) {
      double weight = stage.spec().weight();
      for (Map.Entry<String, Row> e : text.entrySet()) {
        Row t = e.getValue();
        Row p = plain.get(e.getKey());
        if (p.getAs(OutputSchema.ERROR_KIND) != null) {
          assertNotNull(t.getAs(OutputSchema.ERROR_KIND), e.getKey() + " is an error row with the text stage too");
          continue;
        }
        assertNull(t.getAs(OutputSchema.ERROR_KIND), e.getKey() + ": " + t.getAs(OutputSchema.ERROR));
        labelled++;
        assertEquals(imageSpec.version(), p.getAs(OutputSchema.MODEL_VERSION));
        assertEquals(imageSpec.version() + "+text-" + stage.spec().version(), t.getAs(OutputSchema.MODEL_VERSION));
        // the stage run here on the same file: its text logits blended with the plain run's scores give the row's scores
        byte[] bytes = Files.readAllBytes(SAMPLES.resolve(e.getKey()));
        List<List<String>> lines = stage.read(List.of(TextReader.decoder(50_000_000).decode(bytes)));
        float[] logits = stage.logits(lines);
        Map<String, Float> image = scores(p);
        Map<String, Float> blended = scores(t);
        float[] row = new float[genres.size()];
        for (int j = 0; j < genres.size(); j++) {
          String g = genres.get(j);
          float expected = TextStage.blend(image.get(g), logits[j], weight);
          assertEquals(expected, blended.get(g), 2e-4f, e.getKey() + " " + g + " (text read: " + lines.get(0) + ")");
          if (Math.abs(blended.get(g) - image.get(g)) > 0.005f) moved++;
          row[j] = blended.get(g);
        }
        assertEquals(rules.assign(row, 0), t.<String>getList(t.fieldIndex(OutputSchema.GENRES)),
            e.getKey() + ": genres by the text stage's thresholds");
      }
    }
    assertEquals(10, labelled, "the 10 readable samples");
    assertTrue(moved > 0, "the text stage moved some scores");
  }
}
