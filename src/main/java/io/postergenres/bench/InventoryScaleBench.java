package io.postergenres.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.job.Inventory;
import io.postergenres.job.Listing;
import io.postergenres.job.RunSetup;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.sql.Timestamp;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;

/**
 * What planning a run costs the driver as the catalogue grows, from an inventory against from a
 * listing: everything the driver does before labelling starts, as {@code LabelJob} does it (read or
 * list the files, count them, pick partitions, plan the shuffle the labeller runs after), timed,
 * and the driver's heap in use after a full GC while the run still holds what it planned, less
 * the heap before. Synthetic inventories (Parquet; the files need not exist to plan) and real
 * small files for the listing, under {@code base} on any Hadoop file system. In local mode the
 * executors share the driver's JVM; nothing is cached, so the heap is the driver's.
 *
 * <p>Run by {@code InventoryScaleBenchTest} on small sizes; {@code -Dbench.inventory.rows=1000000,10000000}
 * and {@code -Dbench.listing.files=20000,200000} measure the sizes docs/inventories.md quotes.
 */
public final class InventoryScaleBench {
  static final String GLOB = "*.{jpg,jpeg,png,gif,bmp}";
  static final String HEADER = "source,files,prepare_s,plan_s,partitions,driver_heap_retained_mb";

  private InventoryScaleBench() {}

  /** One line per inventory size: a Parquet inventory of {@code n} rows, planned as the job does. */
  public static void inventories(SparkSession spark, long[] sizes, String base, PrintStream out) {
    for (long n : sizes) {
      long t0 = System.nanoTime();
      String list = base + "/inventory-" + n + ".parquet";
      spark.range(n).select(
              format_string("s3a://catalogue/posters/%04d/%08d.jpg", col("id").mod(40).plus(1980), col("id")).as("path"),
              col("id").mod(70_000).plus(3_000).as("length"),
              lit(Timestamp.valueOf("2026-11-01 00:00:00")).as("modification_time"))
          .write().mode(SaveMode.Overwrite).parquet(list);
      double prepare = (System.nanoTime() - t0) / 1e9;
      long before = heapAfterGc();
      long t1 = System.nanoTime();
      Dataset<Row> rows = Inventory.read(spark, List.of(list), GLOB);
      long count = rows.count();
      int partitions = RunSetup.partitions(spark, 0, count);
      SparkPlan plan = rows.repartition(partitions, col("path")).dropDuplicates("path").queryExecution().executedPlan();
      double planSeconds = (System.nanoTime() - t1) / 1e9;
      long retained = heapAfterGc() - before;
      Reference.reachabilityFence(plan);
      Reference.reachabilityFence(rows);
      line(out, "inventory", count, prepare, planSeconds, partitions, retained);
    }
  }

  /** One line per listing size: {@code n} small files written under {@code base}, listed and planned as the job does. */
  public static void listings(SparkSession spark, long[] sizes, String base, PrintStream out) {
    for (long n : sizes) {
      long t0 = System.nanoTime();
      String dir = base + "/files-" + n;
      writeFiles(spark, new Path(dir), n);
      double prepare = (System.nanoTime() - t0) / 1e9;
      long before = heapAfterGc();
      long t1 = System.nanoTime();
      Dataset<Row> listing = Listing.list(spark, List.of(dir), GLOB);
      String[] listed = Listing.asScanPaths(listing.inputFiles());
      int partitions = RunSetup.partitions(spark, 0, listed.length);
      SparkPlan plan = listing.repartition(partitions, col("path")).dropDuplicates("path").queryExecution().executedPlan();
      double planSeconds = (System.nanoTime() - t1) / 1e9;
      long retained = heapAfterGc() - before;
      Reference.reachabilityFence(plan);
      Reference.reachabilityFence(listing);
      Reference.reachabilityFence(listed);
      line(out, "listing " + new Path(base).toUri().getScheme(), listed.length, prepare, planSeconds, partitions, retained);
    }
  }

  public static void header(PrintStream out) {
    out.println(HEADER);
  }

  private static void line(PrintStream out, String source, long files, double prepare, double plan, int partitions, long retained) {
    out.printf(Locale.ROOT, "%s,%d,%.1f,%.2f,%d,%d%n", source, files, prepare, plan, partitions, retained / (1024 * 1024));
  }

  /** {@code n} files of a few bytes, 1,000 to a folder (the content is never read to plan). */
  static void writeFiles(SparkSession spark, Path dir, long n) {
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs instanceof LocalFileSystem local) fs = local.getRaw(); // no .crc file beside each
      if (fs.exists(dir)) fs.delete(dir, true);
      byte[] bytes = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9};
      for (long i = 0; i < n; i++) {
        try (FSDataOutputStream o = fs.create(new Path(dir, String.format(Locale.ROOT, "%04d/%08d.jpg", i / 1000, i)), false)) {
          o.write(bytes);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static long heapAfterGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
