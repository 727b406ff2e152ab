package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelCacheTest;
import io.postergenres.model.ModelPackage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.SparkException;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Executors copy the broadcast model into Spark's own directory and delete the copy, even when TensorFlow refuses it. */
class ModelCopyTest extends SparkTestBase {
  /** Copies of this model under {@code under} (other processes on the machine may hold copies of theirs). */
  static List<Path> copies(Path under, ModelPackage pkg) throws IOException {
    String prefix = ModelCache.COPY_PREFIX + pkg.fingerprint().substring(0, 12);
    try (Stream<Path> s = Files.list(under)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
    }
  }

  @Test
  void aModelThatFailsToLoadOnTheExecutorsLeavesNoCopy(@TempDir Path dir) throws IOException {
    ModelPackage pkg = ModelCacheTest.unloadable(dir);
    Path sparkDir = Path.of(SparkFiles.getRootDirectory());
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    PosterLabeller labeller = new PosterLabeller(jsc.broadcast(pkg), pkg.fingerprint(), pkg.spec(),
        jsc.broadcast(new HadoopConf(spark.sparkContext().hadoopConfiguration())),
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(1, 1)), "copy-test",
        spark.sparkContext().longAccumulator());
    List<Row> files = List.of(RowFactory.create(dir.resolve("a.jpg").toString(), new Timestamp(0), 10L),
        RowFactory.create(dir.resolve("b.jpg").toString(), new Timestamp(0), 10L));
    // two partitions: two tasks try (and fail) to load the model
    SparkException e = assertThrows(SparkException.class, () -> spark.createDataFrame(files, Listing.SCHEMA).repartition(2)
        .mapPartitions(labeller, Encoders.row(OutputSchema.SCHEMA)).collectAsList());
    assertTrue(String.valueOf(e.getMessage()).contains("cannot load"), e.getMessage());
    assertEquals(List.of(), copies(sparkDir, pkg), "no model copy left in Spark's directory " + sparkDir);
    assertEquals(List.of(), copies(tmp, pkg), "nor in java.io.tmpdir");
  }
}
