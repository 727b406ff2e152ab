package io.postergenres.job.iceberg;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.ExpireSnapshots;
import org.apache.iceberg.actions.RewriteDataFiles;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.SparkSession;

/**
 * Keeps the nightly Iceberg table small, after a run: compaction (data files rewritten sorted by
 * path, with the rows that runs' position deletes removed applied, the rows unchanged) and snapshot
 * expiry (older snapshots' files go, and branches of runs that died; time travel and rollback reach
 * back that far). Both are commits of their own, with the same optimistic concurrency as a run's; a
 * failure here never touches the run's labels.
 */
public final class IcebergMaintenance {
  private IcebergMaintenance() {}

  /**
   * Compacts the table when {@code compact}, then expires its snapshots older than {@code keep}
   * (the latest always stays) if {@code keep} is not null.
   *
   * @return one line per step, for the run's output
   */
  public static List<String> run(SparkSession spark, IcebergCatalog catalog, Duration keep, boolean compact) {
    catalog.register(spark);
    String full = catalog.table(IcebergNightlyTable.LABELS);
    Table table = new IcebergNightlyTable(spark, catalog).load();
    List<String> done = new ArrayList<>();
    if (compact) {
      RewriteDataFiles.Result r = SparkActions.get(spark).rewriteDataFiles(table).sort()
          .option("delete-file-threshold", "1")
          .option(RewriteDataFiles.REMOVE_DANGLING_DELETES, "true")
          .execute();
      done.add(String.format("compacted %s: %d data files into %d, %d delete files no longer needed", full,
          r.rewrittenDataFilesCount(), r.addedDataFilesCount(), r.removedDeleteFilesCount()));
      table.refresh();
    }
    if (keep != null) {
      ExpireSnapshots.Result r = SparkActions.get(spark).expireSnapshots(table)
          .expireOlderThan(System.currentTimeMillis() - keep.toMillis()).retainLast(1).execute();
      done.add(String.format("expired snapshots of %s older than %d days: %d data files and %d delete files deleted", full,
          keep.toDays(), r.deletedDataFilesCount(), r.deletedPositionDeleteFilesCount()));
    }
    return done;
  }
}
