package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.model.ModelCache;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inventories instead of listing: the same rows as a listing, S3 Inventory reports as AWS writes them, bad inventories. */
class InventoryTest extends SparkTestBase {
  @TempDir static Path tmp;
  static Path modelDir;
  static final String GLOB = "*.{jpg,jpeg,png,gif,bmp}";

  @BeforeAll
  static void model() throws Exception {
    modelDir = TestModels.write(tmp.resolve("model"), 32, 24, 7);
  }

  private static LabelRequest request(List<String> inputs, List<String> lists, Path output) {
    return new LabelRequest(inputs, output.toString(), modelDir.toString(), GLOB, WriteMode.ERROR, 3, 1.0, Map.of(), null, null,
        new LabelOptions(4, 50_000_000, 10_000_000, new ModelCache.Settings(0, 0)), lists);
  }

  /** Every column but the run's own (run_id, labelled_at), by path. */
  static Map<String, List<Object>> content(Path output) {
    Map<String, List<Object>> out = new TreeMap<>();
    for (Row r : spark.read().parquet(output.toString()).collectAsList()) {
      List<Object> values = new ArrayList<>();
      for (String c : OutputSchema.SCHEMA.fieldNames()) {
        if (c.equals(OutputSchema.RUN_ID) || c.equals(OutputSchema.LABELLED_AT)) continue;
        values.add(r.getAs(c) instanceof scala.collection.Map<?, ?> m ? new TreeMap<>(scala.jdk.javaapi.CollectionConverters.asJava(m))
            : r.getAs(c) instanceof scala.collection.Seq<?> s ? scala.jdk.javaapi.CollectionConverters.asJava(s) : r.getAs(c));
      }
      assertNull(out.put(r.getAs(OutputSchema.PATH), values), "one row per path");
    }
    return out;
  }

  private static String iso(Path f) throws Exception {
    return Instant.ofEpochMilli(Files.getLastModifiedTime(f).toMillis()).toString();
  }

  @Test
  void postersFromAnInventoryGetExactlyTheRowsOfAListing() throws Exception {
    PosterFixtures fx = PosterFixtures.write(tmp.resolve("posters"), 1);
    Path spaced = fx.root.resolve("2005/night of the + living.jpg");
    Files.createDirectories(spaced.getParent());
    Files.write(spaced, TestImages.jpeg(TestImages.solid(60, 90, Color.GRAY), false));
    RunSummary listed = new LabelJob(spark).run(request(List.of(fx.root.toString()), List.of(), tmp.resolve("from-listing")));
    Map<String, List<Object>> expected = content(tmp.resolve("from-listing"));
    assertEquals(fx.expected.size() + 1, expected.size());

    // a plain CSV: absolute paths and file: URIs mixed, the glob's leftovers, a duplicate row and a file that is gone
    List<Path> files;
    try (Stream<Path> walk = Files.walk(fx.root)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    StringBuilder csv = new StringBuilder("path,length,modification_time\n");
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      String path = i % 2 == 0 ? f.toString() : "file://" + f; // Hadoop path strings, as the output writes them
      csv.append('"').append(path).append("\",").append(Files.size(f)).append(',').append(iso(f)).append('\n');
    }
    csv.append('"').append(files.get(0)).append("\",").append(Files.size(files.get(0))).append(',').append(iso(files.get(0))).append('\n');
    Path gone = fx.root.resolve("2006/gone.jpg");
    csv.append(gone).append(",4321,2026-11-01T10:00:00Z\n");
    Path list = tmp.resolve("inventory.csv");
    Files.writeString(list, csv);

    RunSummary fromCsv = new LabelJob(spark).run(request(List.of(), List.of(list.toString()), tmp.resolve("from-csv")));
    Map<String, List<Object>> got = content(tmp.resolve("from-csv"));
    List<Object> goneRow = got.remove("file:" + gone);
    assertNotNull(goneRow, "the missing file has its row: " + got.keySet());
    assertEquals("not_found", goneRow.get(List.of(OutputSchema.SCHEMA.fieldNames()).indexOf(OutputSchema.ERROR_KIND) - 2));
    assertEquals(4321L, goneRow.get(2), "its length as the inventory gave it");
    ScoreAsserts.assertSameRows(expected, got, "the same rows as the listing");
    assertEquals(listed.filesListed() + 1, fromCsv.filesListed(), "duplicate row counted once, notes.txt left out");
    assertEquals(listed.labelled(), fromCsv.labelled());
    assertEquals(0, fromCsv.skippedByScan());
    assertEquals(List.of(list.toString()), fromCsv.inputs());

    // Parquet with a real timestamp column and other column cases names the same files, in the same form
    StructType schema = new StructType().add("Path", DataTypes.StringType).add("LENGTH", DataTypes.LongType)
        .add("modification_time", DataTypes.TimestampType);
    List<Row> rows = new ArrayList<>();
    for (Path f : files) rows.add(RowFactory.create("file://" + f, Files.size(f), new Timestamp(Files.getLastModifiedTime(f).toMillis())));
    Path parquet = tmp.resolve("inventory.parquet");
    spark.createDataFrame(rows, schema).coalesce(2).write().parquet(parquet.toString());
    assertEquals(Set.copyOf(Inventory.read(spark, List.of(list.toString()), GLOB).where("length != 4321").collectAsList()),
        Set.copyOf(Inventory.read(spark, List.of(parquet.toString()), GLOB).collectAsList()));
  }

  /** Writes a manifest.json the way AWS does: data files named by their key in the destination bucket. */
  private static Path manifest(Path bucket, String format, String fileSchema, List<String> keys) throws Exception {
    Path dir = bucket.resolve("inventories/catalogue/daily/2026-11-29T01-00Z");
    Files.createDirectories(dir);
    String files = keys.stream().map(k -> "{\"key\": \"" + k + "\", \"size\": 123, \"MD5checksum\": \"0\"}").collect(Collectors.joining(", "));
    Files.writeString(dir.resolve("manifest.json"), "{\n  \"sourceBucket\": \"catalogue\",\n"
        + "  \"destinationBucket\": \"arn:aws:s3:::inventory-dest\",\n  \"version\": \"2016-11-30\",\n"
        + "  \"creationTimestamp\": \"1764378000000\",\n  \"fileFormat\": \"" + format + "\",\n"
        + "  \"fileSchema\": \"" + fileSchema + "\",\n  \"files\": [" + files + "]\n}\n");
    return dir.resolve("manifest.json");
  }

  private static Map<String, Row> read(Path manifest) {
    return Inventory.read(spark, List.of(manifest.toString()), GLOB).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getString(0), r -> r));
  }

  @Test
  void s3InventoryReportsInCsvOrcAndParquet() throws Exception {
    // CSV: gzip, no header, quoted, URL-encoded keys, columns as fileSchema says; versions and folder markers
    Path csvBucket = tmp.resolve("dest-csv");
    String key = "inventories/catalogue/daily/data/4f1e-csv.csv.gz";
    Files.createDirectories(csvBucket.resolve(key).getParent());
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(csvBucket.resolve(key)))) {
      out.write(String.join("\n",
          "\"catalogue\",\"posters/1999/night+of+the+%2B%28living%29.JPG\",\"\",\"true\",\"false\",\"1234\",\"2026-11-28T10:00:00.000Z\",\"STANDARD\"",
          "\"catalogue\",\"posters/1999/old.jpg\",\"v1\",\"false\",\"false\",\"99\",\"2026-01-01T00:00:00.000Z\",\"STANDARD\"",
          "\"catalogue\",\"posters/1999/old.jpg\",\"v2\",\"true\",\"false\",\"100\",\"2026-02-01T00:00:00.000Z\",\"STANDARD\"",
          "\"catalogue\",\"posters/1999/deleted.jpg\",\"v3\",\"true\",\"true\",\"\",\"2026-02-01T00:00:00.000Z\",\"\"",
          "\"catalogue\",\"posters/1999/\",\"\",\"true\",\"false\",\"0\",\"2026-02-01T00:00:00.000Z\",\"STANDARD\"",
          "\"catalogue\",\"posters/1999/notes.txt\",\"\",\"true\",\"false\",\"5\",\"2026-02-01T00:00:00.000Z\",\"STANDARD\"",
          "").getBytes(StandardCharsets.UTF_8));
    }
    Map<String, Row> csv = read(manifest(csvBucket, "CSV",
        "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, StorageClass", List.of(key)));
    assertEquals(Set.of("s3a://catalogue/posters/1999/night of the +(living).JPG", "s3a://catalogue/posters/1999/old.jpg"), csv.keySet());
    Row night = csv.get("s3a://catalogue/posters/1999/night of the +(living).JPG");
    assertEquals(1234L, night.getLong(2));
    assertEquals(Instant.parse("2026-11-28T10:00:00Z"), night.getTimestamp(1).toInstant());
    assertEquals(100L, csv.get("s3a://catalogue/posters/1999/old.jpg").getLong(2), "the current version only");

    // ORC and Parquet: snake_case columns, keys not encoded, last_modified_date a timestamp
    StructType schema = new StructType().add("bucket", DataTypes.StringType).add("key", DataTypes.StringType)
        .add("size", DataTypes.LongType).add("last_modified_date", DataTypes.TimestampType).add("e_tag", DataTypes.StringType);
    List<Row> rows = List.of(
        RowFactory.create("catalogue", "posters/a+b.jpg", 10L, Timestamp.from(Instant.parse("2026-11-28T10:00:00Z")), "x"),
        RowFactory.create("other", "p/c.png", 20L, Timestamp.from(Instant.parse("2026-11-27T10:00:00Z")), "y"),
        RowFactory.create("other", "p/readme.md", 30L, Timestamp.from(Instant.parse("2026-11-27T10:00:00Z")), "z"));
    for (String format : List.of("orc", "parquet")) {
      Path bucket = tmp.resolve("dest-" + format);
      Path data = bucket.resolve("inventories/catalogue/daily/data");
      spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.Overwrite).format(format).save(data.resolve("tmp").toString());
      List<String> keys = new ArrayList<>();
      try (Stream<Path> parts = Files.list(data.resolve("tmp"))) {
        for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
          Path target = data.resolve("5a2b-" + keys.size() + "." + format);
          Files.move(part, target);
          keys.add(bucket.relativize(target).toString());
        }
      }
      Map<String, Row> got = read(manifest(bucket, format.equals("orc") ? "ORC" : "Parquet",
          format.equals("orc") ? "struct<bucket:string,key:string,size:bigint,last_modified_date:timestamp,e_tag:string>"
              : "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional int64 size; "
                  + "optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); }", keys));
      assertEquals(Set.of("s3a://catalogue/posters/a+b.jpg", "s3a://other/p/c.png"), got.keySet(), format);
      assertEquals(20L, got.get("s3a://other/p/c.png").getLong(2), format);
      assertEquals(Instant.parse("2026-11-28T10:00:00Z"), got.get("s3a://catalogue/posters/a+b.jpg").getTimestamp(1).toInstant(), format);
    }
  }

  @Test
  void badInventoriesSayWhatToChange() throws Exception {
    PosterGenresException missing = assertThrows(PosterGenresException.class,
        () -> Inventory.read(spark, List.of(tmp.resolve("nowhere.csv").toString()), GLOB));
    assertEquals(Failure.INPUT, missing.failure());
    assertTrue(missing.getMessage().contains("does not exist; check --input-list"), missing.getMessage());

    Path noPath = tmp.resolve("no-path.csv");
    Files.writeString(noPath, "file,size\n/x/a.jpg,3\n");
    PosterGenresException columns = assertThrows(PosterGenresException.class,
        () -> Inventory.read(spark, List.of(noPath.toString()), GLOB));
    assertEquals(Failure.INPUT, columns.failure());
    assertTrue(columns.getMessage().contains("has no path column (its columns: file, size)"), columns.getMessage());

    Path text = tmp.resolve("list.txt");
    Files.writeString(text, "/x/a.jpg\n");
    PosterGenresException format = assertThrows(PosterGenresException.class, () -> Inventory.read(spark, List.of(text.toString()), GLOB));
    assertTrue(format.getMessage().contains("cannot be read as an inventory"), format.getMessage());

    Path bucket = tmp.resolve("dest-bad");
    Path manifest = manifest(bucket, "JSON", "Bucket, Key", List.of("inventories/x.csv.gz"));
    PosterGenresException fileFormat = assertThrows(PosterGenresException.class, () -> read(manifest));
    assertTrue(fileFormat.getMessage().contains("fileFormat 'JSON'"), fileFormat.getMessage());
    Path lost = manifest(bucket, "CSV", "Bucket, Key", List.of("inventories/catalogue/daily/data/lost.csv.gz"));
    PosterGenresException data = assertThrows(PosterGenresException.class, () -> read(lost));
    assertTrue(data.getMessage().contains("found under none of the manifest's parent folders"), data.getMessage());

    Path onlyText = tmp.resolve("only-text.csv");
    Files.writeString(onlyText, "path\n/x/a.txt\n");
    PosterGenresException none = assertThrows(PosterGenresException.class,
        () -> new LabelJob(spark).run(request(List.of(), List.of(onlyText.toString()), tmp.resolve("none"))));
    assertEquals(Failure.INPUT, none.failure());
    assertTrue(none.getMessage().contains("names a file matching --glob"), none.getMessage());
  }
}
