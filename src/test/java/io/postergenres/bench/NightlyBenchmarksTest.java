package io.postergenres.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.job.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the measurements behind the incremental mode's design on a small synthetic catalogue
 * (so that they keep working); pass {@code -Dbench.plan-scale.sizes=100000,1000000}, {@code
 * -Dbench.current-table.posters=1000000} or {@code -Dbench.iceberg.posters=1000000} for the sizes the README quotes.
 */
class NightlyBenchmarksTest extends SparkTestBase {
  @TempDir Path tmp;

  @Test
  void planScale() {
    long[] sizes = Arrays.stream(System.getProperty("bench.plan-scale.sizes", "2000").split(",")).mapToLong(Long::parseLong).toArray();
    String out = capture(o -> PlanScaleBench.run(spark, sizes, tmp, o));
    System.out.print(out);
    String[] lines = out.split("\n");
    assertEquals("known_posters,write_ledger_s,plan_s,decisions,driver_heap_used_mb", lines[0]);
    assertEquals(sizes.length + 1, lines.length, out);
    assertTrue(lines[1].startsWith(sizes[0] + ",") && lines[1].contains("new=") && lines[1].contains("unchanged="), out);
  }

  @Test
  void currentTable() {
    long n = Long.getLong("bench.current-table.posters", 2000);
    String out = capture(o -> CurrentTableBench.run(spark, n, tmp, o));
    System.out.print(out);
    assertTrue(out.startsWith("posters=" + n + " "), out);
    assertTrue(out.contains("genre counts: current table") && out.contains("one poster's labels"), out);
  }

  @Test
  void icebergNightly() {
    long n = Long.getLong("bench.iceberg.posters", 2000);
    String out = capture(o -> IcebergNightlyBench.run(spark, n, tmp, o));
    System.out.print(out);
    assertTrue(out.startsWith("posters=" + n + " "), out);
    // Day 2 of the synthetic catalogue: 1% new and 1% changed; 0.5% deleted leaves current at n + 1% - 0.5%.
    assertTrue(out.contains("new_or_changed=" + (n / 50) + " current_rows=" + (n + n / 100 - n / 200)), out);
    assertTrue(out.contains("commit (one MERGE INTO labels)"), out);
  }

  private static String capture(Consumer<PrintStream> run) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      run.accept(o);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
