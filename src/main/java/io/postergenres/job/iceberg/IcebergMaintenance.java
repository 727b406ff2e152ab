package io.postergenres.job.iceberg;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.ExpireSnapshots;
import org.apache.iceberg.actions.RewriteDataFiles;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.SparkSession;

/**
 * Keeps the nightly Iceberg tables small, after a run: snapshot expiry (older snapshots' files go;
 * time travel and rollback reach back that far) and compaction (small data files rewritten into
 * larger ones, the rows unchanged). Both are commits of their own, with the same optimistic
 * concurrency as a run's; a failure here never touches the run's labels.
 */
public final class IcebergMaintenance {
  private IcebergMaintenance() {}

  /**
   * Expires the snapshots of both tables older than {@code keep} (the latest always stays), if
   * {@code keep} is not null, and compacts both when {@code compact}.
   *
   * @return one line per table and step, for the run's output
   */
  public static List<String> run(SparkSession spark, IcebergCatalog catalog, Duration keep, boolean compact) {
    catalog.register(spark);
    List<String> done = new ArrayList<>();
    for (String name : List.of(IcebergNightlyTable.HISTORY, IcebergNightlyTable.CURRENT)) {
      String full = catalog.table(name);
      Table table;
      try {
        table = Spark3Util.loadIcebergTable(spark, full);
      } catch (Exception e) {
        throw new IllegalStateException("cannot load " + full + ": " + e.getMessage(), e);
      }
      if (compact) {
        RewriteDataFiles.Result r = SparkActions.get(spark).rewriteDataFiles(table).execute();
        done.add(String.format("compacted %s: %d data files into %d", full, r.rewrittenDataFilesCount(), r.addedDataFilesCount()));
        table.refresh();
      }
      if (keep != null) {
        ExpireSnapshots.Result r = SparkActions.get(spark).expireSnapshots(table)
            .expireOlderThan(System.currentTimeMillis() - keep.toMillis()).retainLast(1).execute();
        done.add(String.format("expired snapshots of %s older than %d days: %d data files deleted", full, keep.toDays(),
            r.deletedDataFilesCount()));
      }
    }
    return done;
  }
}
