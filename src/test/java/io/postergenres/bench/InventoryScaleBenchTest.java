package io.postergenres.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.job.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the planning-cost benchmark of inventories against listings working, on a small synthetic
 * catalogue; {@code -Dbench.inventory.rows=1000000,10000000 -Dbench.listing.files=20000,200000}
 * measures the sizes docs/inventories.md quotes (see there for the command and the machine).
 */
class InventoryScaleBenchTest extends SparkTestBase {
  @TempDir Path tmp;

  private static long[] sizes(String property, String small) {
    return Arrays.stream(System.getProperty(property, small).split(",")).mapToLong(Long::parseLong).toArray();
  }

  @Test
  void inventoryAndListingPlans() {
    long[] rows = sizes("bench.inventory.rows", "3000");
    long[] files = sizes("bench.listing.files", "300");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      InventoryScaleBench.header(o);
      InventoryScaleBench.inventories(spark, rows, tmp.toUri().toString(), o);
      InventoryScaleBench.listings(spark, files, tmp.toUri().toString(), o);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    String[] lines = out.split("\n");
    assertEquals(InventoryScaleBench.HEADER, lines[0]);
    assertEquals(1 + rows.length + files.length, lines.length, out);
    assertTrue(lines[1].startsWith("inventory," + rows[0] + ","), "every synthetic row counted: " + out);
    assertTrue(lines[1 + rows.length].startsWith("listing file," + files[0] + ","), "every file listed: " + out);
  }
}
