package io.postergenres.job.iceberg;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.job.incremental.NightlyTable;
import io.postergenres.job.incremental.RunLock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.ManageSnapshots;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nightly table as ONE Apache Iceberg table in a catalog ({@link IcebergCatalog}), {@code
 * <namespace>.labels}: one row per labelling (the output schema plus {@code run_date}), partitioned
 * by {@code run_date} and sorted by {@code path}, and {@code replaced_on}: NULL while the row is its
 * poster's current label, else the run date that relabelled the poster or found it gone. The current
 * labels are {@code WHERE replaced_on IS NULL}.
 *
 * <p>A run is one {@code MERGE INTO} whose source holds only what the run changes: its new rows,
 * and the rows whose {@code replaced_on} changes (retired, or current again when a poster came
 * back), plus, on a re-run of a date, that date's earlier rows to delete. The table is
 * merge-on-read, so the merge writes those rows and position deletes, never a whole data file again.
 *
 * <p>The merge commits to a branch of the run's own, made at the snapshot the run read its ledger
 * from; then {@code main} is fast-forwarded to it. That is the run's one atomic commit (one new
 * snapshot on {@code main}, whose summary carries the run id, model and counts), and it fails when
 * {@code main} moved since the ledger was read: another run committed first, and this one stops
 * with {@link Failure#LOCK_HELD}, having changed nothing. A run that dies leaves {@code main} at the
 * previous snapshot; its branch (at most one day old before snapshot expiry removes it) and data
 * files are never read.
 */
public final class IcebergNightlyTable implements NightlyTable {
  private static final Logger LOG = LoggerFactory.getLogger(IcebergNightlyTable.class);
  /** The table's name in the namespace. */
  public static final String LABELS = "labels";
  /** The column that says until when a row was its poster's current label (NULL: it is). */
  public static final String REPLACED_ON = "replaced_on";
  /** The tables of poster-genres before the one table: a namespace that holds them is refused. */
  static final List<String> TWO_TABLE_LAYOUT = List.of("history", "current");
  private static final String RUN_DATE = "run_date";
  private static final String ACTION = "_action";
  /** How long a run's branch may outlive a run that died (snapshot expiry removes older ones). */
  static final Duration BRANCH_MAX_AGE = Duration.ofDays(1);
  /** How often a change of refs is tried when other commits keep coming first. */
  private static final int REF_ATTEMPTS = 20;

  private final SparkSession spark;
  private final IcebergCatalog catalog;
  private final String labels;
  /** The snapshot of main this run read its ledger from. */
  private long readFrom;

  public IcebergNightlyTable(SparkSession spark, IcebergCatalog catalog) {
    this.spark = spark;
    this.catalog = catalog;
    this.labels = catalog.table(LABELS);
  }

  /** Nightly tables in the catalog at {@code catalogUri} (null: a Hadoop catalog in the output), namespace {@code namespace}. */
  public static NightlyTable.Factory factory(String catalogUri, String namespace) {
    return (spark, output, hadoop) -> new IcebergNightlyTable(spark, new IcebergCatalog(catalogUri, output, namespace));
  }

  /** Registers the catalog, creates the namespace and the table where missing, and pins the snapshot this run reads. */
  @Override
  public void recover() {
    Table table = create();
    readFrom = table.currentSnapshot().snapshotId();
  }

  /**
   * Creates the namespace and the table where they are missing; a new table gets an empty first
   * snapshot, so that every run reads (and branches from) a snapshot.
   */
  Table create() {
    catalog.register(spark);
    try {
      spark.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog.sparkName() + "." + catalog.namespace());
    } catch (Exception e) { // Spark's analysis exceptions are checked, and thrown undeclared
      if (!(e instanceof NamespaceAlreadyExistsException)) throw e; // another run created it in between
    }
    if (!spark.catalog().tableExists(labels)) refuseTwoTableLayout();
    String columns = OutputSchema.SCHEMA.toDDL()
        + ", " + RUN_DATE + " DATE NOT NULL COMMENT 'the date of the run that wrote the row'"
        + ", " + REPLACED_ON + " DATE COMMENT 'NULL: the poster''s current label; else the run date that relabelled the poster or found it gone'";
    try {
      spark.sql("CREATE TABLE IF NOT EXISTS " + labels + " (" + columns + ") USING iceberg PARTITIONED BY (" + RUN_DATE + ")"
          + " TBLPROPERTIES ('format-version'='2', 'write.parquet.compression-codec'='zstd',"
          + " 'write.merge.mode'='merge-on-read', 'write.update.mode'='merge-on-read', 'write.delete.mode'='merge-on-read')");
    } catch (Exception e) {
      if (!(e instanceof TableAlreadyExistsException)) throw e; // another run created it in between
    }
    Table table = load();
    if (table.sortOrder().isUnsorted()) {
      table.replaceSortOrder().asc(OutputSchema.PATH).commit(); // one poster's lookup reads the files whose paths span it
    }
    if (table.currentSnapshot() == null) {
      table.newFastAppend().commit();
      table.refresh();
    }
    return table;
  }

  /** An output with last version's two tables (history, current) and no labels table is not mixed with a new one. */
  private void refuseTwoTableLayout() {
    String namespace = catalog.sparkName() + "." + catalog.namespace();
    List<String> old = TWO_TABLE_LAYOUT.stream().filter(t -> spark.catalog().tableExists(namespace + "." + t)).toList();
    if (old.isEmpty()) return;
    throw new PosterGenresException(Failure.USAGE, "the namespace " + catalog.namespace() + " in "
        + IcebergCatalog.shown(catalog.uri()) + " holds the tables " + String.join(" and ", old)
        + " of an earlier poster-genres, which kept history and current labels apart; this version keeps both in one table, "
        + LABELS + ", so that a run is one commit. Migrate once with the Spark SQL in docs/nightly.md "
        + "(section 'From history and current to labels'), or give --namespace a new name (its first run labels every poster again)");
  }

  Table load() {
    try {
      return Spark3Util.loadIcebergTable(spark, labels);
    } catch (Exception e) {
      throw new IllegalStateException("cannot load " + labels + ": " + e.getMessage(), e);
    }
  }

  /**
   * The latest row per path of the dates before {@code date}; a date older than the table's latest
   * run date is refused (a re-run of it would change what the later runs decided on).
   */
  @Override
  public Dataset<Row> ledgerBefore(String date) {
    List<Row> latest = at(readFrom).agg(org.apache.spark.sql.functions.max(RUN_DATE).cast("string")).collectAsList();
    String last = latest.isEmpty() || latest.get(0).isNullAt(0) ? null : latest.get(0).getString(0);
    if (last != null && last.compareTo(date) > 0) {
      throw new PosterGenresException(Failure.USAGE, "--run-date " + date + " is before the latest run of " + labels
          + " (" + last + "): re-running an earlier date would change what the runs after it decided on. Re-run " + last
          + " or a later date; to redo " + date + " and the dates after it, roll the table back to the snapshot before " + date
          + " (docs/nightly.md, rollback) and run them again in order");
    }
    return IncrementalJob.latest(at(readFrom).where(col(RUN_DATE).lt(day(date)))).drop(RUN_DATE, REPLACED_ON);
  }

  @Override
  public boolean hasDate(String date) {
    return !at(readFrom).where(col(RUN_DATE).equalTo(day(date))).limit(1).isEmpty();
  }

  /** Labels once into Spark's cache (memory, spilling to local disk): nothing reaches the table before the commit. */
  @Override
  public Dataset<Row> stage(String runId, String date, Dataset<Row> rows) {
    return rows.persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** Staged lazily: the job's count of the cached rows is what labels them, before the commit. */
  @Override
  public boolean stagesInOneWrite() {
    return false;
  }

  /**
   * One {@code MERGE INTO} on the run's branch (made at the snapshot the ledger came from), then
   * {@code main} fast-forwarded to it: the run's one commit, refused when another run committed
   * since the ledger was read.
   */
  @Override
  public Dataset<Row> publish(String runId, String date, Dataset<Row> staged, Dataset<Row> listing, RunLock lock,
      Map<String, String> properties) {
    lock.verify(); // a run that lost its lock commits nothing
    String branch = "run_" + runId.replaceAll("[^A-Za-z0-9]", "_");
    updateRefs(m -> m.createBranch(branch, readFrom).setMaxRefAgeMs(branch, BRANCH_MAX_AGE.toMillis()));
    String view = "poster_genres_changes_" + branch;
    long committed;
    try {
      changes(date, staged, listing).createOrReplaceTempView(view);
      String merge = "MERGE INTO " + labels + ".branch_" + branch + " t USING " + view + " s"
          + " ON t." + OutputSchema.PATH + " = s." + OutputSchema.PATH + " AND t." + RUN_DATE + " = s." + RUN_DATE
          + " WHEN MATCHED AND s." + ACTION + " = 'delete' THEN DELETE"
          + " WHEN MATCHED AND s." + ACTION + " = 'set' THEN UPDATE SET t." + REPLACED_ON + " = s." + REPLACED_ON
          + " WHEN MATCHED AND s." + ACTION + " = 'insert' THEN UPDATE SET " + columns().stream().map(c -> "t." + c + " = s." + c)
              .collect(Collectors.joining(", "))
          + " WHEN NOT MATCHED AND s." + ACTION + " = 'insert' THEN INSERT (" + String.join(", ", columns()) + ") VALUES ("
          + columns().stream().map(c -> "s." + c).collect(Collectors.joining(", ")) + ")";
      CommitMetadata.withCommitProperties(properties, () -> spark.sql(merge), RuntimeException.class);
      staged.unpersist();
      lock.verify();
      committed = load().refs().get(branch).snapshotId();
      try {
        updateRefs(m -> m.fastForwardBranch(SnapshotRef.MAIN_BRANCH, branch));
      } catch (IllegalArgumentException e) { // main is no longer an ancestor of the branch: another run committed
        throw conflict(e);
      }
    } catch (RuntimeException e) {
      throw conflictOr(e);
    } finally {
      spark.catalog().dropTempView(view);
      removeBranch(branch);
    }
    LOG.info("Committed run {} of {} to {} as snapshot {}", runId, date, labels, committed);
    return at(committed).where(col(OutputSchema.RUN_ID).equalTo(lit(runId))).drop(REPLACED_ON);
  }

  /**
   * The merge's source, only what this run changes, with an {@value #ACTION} per row: {@code
   * insert} the run's rows; {@code set} {@code replaced_on} of a row that stops being current
   * (relabelled or gone: the run date) or becomes current again (its poster is listed again, or a
   * re-run no longer relabels it: NULL); {@code delete} a row of an earlier run of this date that
   * this run does not replace. A target row (path, run_date) is matched by at most one source row.
   */
  Dataset<Row> changes(String date, Dataset<Row> staged, Dataset<Row> listing) {
    Column d = day(date);
    Dataset<Row> before = at(readFrom);
    Dataset<Row> prior = before.where(col(RUN_DATE).lt(d));
    Dataset<Row> relabelled = staged.select(col(OutputSchema.PATH).as("_relabelled"));
    // Listed and not labelled by this run: these posters keep (or get back) their latest label.
    Dataset<Row> kept = listing.select(col("path").as("_kept"))
        .join(relabelled, col("_kept").equalTo(col("_relabelled")), "left_anti");
    Dataset<Row> current = prior.where(col(REPLACED_ON).isNull()).select(col(OutputSchema.PATH).as("_current"), col(RUN_DATE).as("_date"));
    Dataset<Row> both = current.join(kept, col("_current").equalTo(col("_kept")), "full_outer");
    Dataset<Row> retired = both.where(col("_kept").isNull()).select(col("_current").as(OutputSchema.PATH), col("_date").as(RUN_DATE), d.as(REPLACED_ON));
    Dataset<Row> back = IncrementalJob.latest(prior.join(both.where(col("_current").isNull()), col(OutputSchema.PATH).equalTo(col("_kept")), "left_semi"))
        .select(col(OutputSchema.PATH), col(RUN_DATE), lit(null).cast("date").as(REPLACED_ON));
    Dataset<Row> dropped = before.where(col(RUN_DATE).equalTo(d))
        .join(relabelled, col(OutputSchema.PATH).equalTo(col("_relabelled")), "left_anti")
        .select(col(OutputSchema.PATH), col(RUN_DATE), lit(null).cast("date").as(REPLACED_ON));
    Dataset<Row> inserted = staged.select(Stream.concat(Stream.of(OutputSchema.SCHEMA.fieldNames()).map(c -> col(c)),
        Stream.of(d.as(RUN_DATE), lit(null).cast("date").as(REPLACED_ON), lit("insert").as(ACTION))).toArray(Column[]::new));
    return inserted
        .unionByName(keys(retired, "set"))
        .unionByName(keys(back, "set"))
        .unionByName(keys(dropped, "delete"));
  }

  /** Rows of (path, run_date, replaced_on) widened to the merge source's columns, the others NULL. */
  private static Dataset<Row> keys(Dataset<Row> rows, String action) {
    List<Column> cols = new ArrayList<>();
    for (StructField f : OutputSchema.SCHEMA.fields()) {
      cols.add(f.name().equals(OutputSchema.PATH) ? col(f.name()) : lit(null).cast(f.dataType()).as(f.name()));
    }
    cols.add(col(RUN_DATE));
    cols.add(col(REPLACED_ON));
    cols.add(lit(action).as(ACTION));
    return rows.select(cols.toArray(Column[]::new));
  }

  /** The table's columns in order. */
  private static List<String> columns() {
    List<String> names = new ArrayList<>(List.of(OutputSchema.SCHEMA.fieldNames()));
    names.add(RUN_DATE);
    names.add(REPLACED_ON);
    return names;
  }

  /**
   * Changes the table's refs from its latest metadata, again when another commit (another run's
   * branch, say) came first: such a commit changes no ref this run uses, and the change is
   * validated anew against the refreshed metadata each time.
   */
  private void updateRefs(Consumer<ManageSnapshots> change) {
    for (int attempt = 1; ; attempt++) {
      ManageSnapshots update = load().manageSnapshots();
      change.accept(update);
      try {
        update.commit();
        return;
      } catch (CommitFailedException e) {
        if (attempt == REF_ATTEMPTS) throw e;
        LOG.info("Another commit to {} came first; changing its refs again ({})", labels, e.getMessage());
        try {
          Thread.sleep(50L * attempt);
        } catch (InterruptedException i) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private void removeBranch(String branch) {
    try {
      if (load().refs().containsKey(branch)) updateRefs(m -> m.removeBranch(branch));
    } catch (RuntimeException e) {
      LOG.warn("Could not remove the run's branch {} of {} (snapshot expiry removes it after {}): {}", branch, labels,
          BRANCH_MAX_AGE, e.getMessage());
    }
  }

  /** The table as of {@code snapshot} of main. */
  private Dataset<Row> at(long snapshot) {
    return spark.sql("SELECT * FROM " + labels + " VERSION AS OF " + snapshot);
  }

  private static Column day(String date) {
    return lit(date).cast("date");
  }

  /**
   * {@code e} as the failure of a run that another one overtook (exit 6), when Iceberg refused the
   * commit because the table changed since this run read it; else {@code e} itself.
   */
  private RuntimeException conflictOr(RuntimeException e) {
    if (e instanceof PosterGenresException) return e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ValidationException || t instanceof CommitFailedException) return conflict(e);
    }
    return e;
  }

  private PosterGenresException conflict(RuntimeException e) {
    return new PosterGenresException(Failure.LOCK_HELD, "another run committed to the Iceberg table " + catalog.namespace() + "."
        + LABELS + " in " + IcebergCatalog.shown(catalog.uri()) + " since this one read it (snapshot " + readFrom
        + "): nothing of this run was committed. Give each output one scheduled run at a time; run this one again to label "
        + "what is still missing (" + e.getMessage() + ")", e);
  }
}
