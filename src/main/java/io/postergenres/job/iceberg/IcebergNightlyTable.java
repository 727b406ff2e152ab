package io.postergenres.job.iceberg;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.OutputSchema;
import io.postergenres.job.incremental.IncrementalJob;
import io.postergenres.job.incremental.NightlyTable;
import io.postergenres.job.incremental.RunLock;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nightly table as two Apache Iceberg tables in one catalog ({@link IcebergCatalog}):
 *
 * <ul>
 *   <li>{@code history}: one row per labelling, partitioned by {@code run_date}; a run replaces its
 *       date's rows in one commit (an overwrite by filter), so a re-run of a date reproduces it.
 *   <li>{@code current}: one row per poster that still exists, kept by one {@code MERGE INTO} per run
 *       (insert new, update changed or relabelled, delete vanished).
 * </ul>
 *
 * Each commit is atomic and carries the run in its snapshot summary ({@code poster-genres.run-id},
 * model, counts). Nothing is staged in files: the run's rows are cached by Spark until they are
 * committed, and a run that dies leaves both tables at their previous snapshots (its data files are
 * orphans, never read). A run that finds that another one committed first (Iceberg's serializable
 * validation) stops with {@link Failure#LOCK_HELD}, having changed nothing it had not committed.
 */
public final class IcebergNightlyTable implements NightlyTable {
  private static final Logger LOG = LoggerFactory.getLogger(IcebergNightlyTable.class);
  static final String HISTORY = "history";
  static final String CURRENT = "current";
  private static final String RUN_DATE = "run_date";
  private static final String RUN_ID_PROPERTY = "poster-genres.run-id";

  private final SparkSession spark;
  private final IcebergCatalog catalog;
  private final String history;
  private final String current;
  /** The snapshot of history this run read its ledger from (null: history had none). */
  private Long readFrom;

  public IcebergNightlyTable(SparkSession spark, IcebergCatalog catalog) {
    this.spark = spark;
    this.catalog = catalog;
    this.history = catalog.table(HISTORY);
    this.current = catalog.table(CURRENT);
  }

  /** Nightly tables in the catalog at {@code catalogUri} (null: a Hadoop catalog in the output), namespace {@code namespace}. */
  public static NightlyTable.Factory factory(String catalogUri, String namespace) {
    return (spark, output, hadoop) -> new IcebergNightlyTable(spark, new IcebergCatalog(catalogUri, output, namespace));
  }

  /** Registers the catalog and creates the namespace and both tables where they are missing. */
  @Override
  public void recover() {
    create();
    readFrom = latestSnapshot(history);
  }

  void create() {
    catalog.register(spark);
    try {
      spark.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog.sparkName() + "." + catalog.namespace());
    } catch (Exception e) { // Spark's analysis exceptions are checked, and thrown undeclared
      if (!(e instanceof NamespaceAlreadyExistsException)) throw e; // another run created it in between
    }
    String columns = OutputSchema.SCHEMA.toDDL() + ", " + RUN_DATE + " DATE NOT NULL COMMENT 'the date of the run that wrote the row'";
    String properties = " TBLPROPERTIES ('format-version'='2', 'write.parquet.compression-codec'='zstd')";
    createTable("CREATE TABLE IF NOT EXISTS " + history + " (" + columns + ") USING iceberg PARTITIONED BY (" + RUN_DATE + ")"
        + properties);
    createTable("CREATE TABLE IF NOT EXISTS " + current + " (" + columns + ") USING iceberg" + properties);
  }

  private void createTable(String ddl) {
    try {
      spark.sql(ddl);
    } catch (Exception e) {
      if (!(e instanceof TableAlreadyExistsException)) throw e; // another run created it in between
    }
  }

  @Override
  public Dataset<Row> ledgerBefore(String date) {
    return IncrementalJob.latest(at(history, readFrom).where(col(RUN_DATE).lt(day(date)))).drop(RUN_DATE);
  }

  @Override
  public boolean hasDate(String date) {
    return !at(history, readFrom).where(col(RUN_DATE).equalTo(day(date))).limit(1).isEmpty();
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
   * Two atomic commits: history first (the date's rows replaced, validated against the snapshot
   * the ledger came from), then current by {@code MERGE INTO} from that history snapshot. A run that
   * dies between them left history complete and current at the previous run; the next run's merge
   * brings current up to date from the whole history.
   */
  @Override
  public Dataset<Row> publish(String runId, String date, Dataset<Row> staged, Dataset<Row> listing, RunLock lock,
      Map<String, String> properties) {
    lock.verify(); // a run that lost its lock commits nothing
    var write = staged.withColumn(RUN_DATE, day(date)).writeTo(history)
        .option("isolation-level", "serializable");
    if (readFrom != null) write = write.option("validate-from-snapshot-id", readFrom.toString());
    for (Map.Entry<String, String> p : properties.entrySet()) write = write.option("snapshot-property." + p.getKey(), p.getValue());
    try {
      write.overwrite(col(RUN_DATE).equalTo(day(date)));
    } catch (Exception e) {
      throw conflictOr(e, "nothing of this run was committed");
    }
    staged.unpersist();
    long committed = snapshotOfRun(runId);
    LOG.info("Committed {}'s rows of run {} to {} as snapshot {}", date, runId, history, committed);

    lock.verify();
    Dataset<Row> wanted = IncrementalJob.latest(at(history, committed))
        .join(listing.select(col("path").as("_listed")), col(OutputSchema.PATH).equalTo(col("_listed")), "left_semi");
    String view = "poster_genres_current_" + runId.replaceAll("[^A-Za-z0-9]", "_");
    wanted.createOrReplaceTempView(view);
    String merge = "MERGE INTO " + current + " t USING " + view + " s ON t." + OutputSchema.PATH + " = s." + OutputSchema.PATH
        + " WHEN MATCHED AND (t." + OutputSchema.RUN_ID + " <> s." + OutputSchema.RUN_ID
        + " OR t." + OutputSchema.LABELLED_AT + " <> s." + OutputSchema.LABELLED_AT + ") THEN UPDATE SET *"
        + " WHEN NOT MATCHED THEN INSERT * WHEN NOT MATCHED BY SOURCE THEN DELETE";
    try {
      CommitMetadata.withCommitProperties(properties, () -> spark.sql(merge), RuntimeException.class);
    } catch (RuntimeException e) {
      throw conflictOr(e, "its history rows were committed (snapshot " + committed + "), the current labels were not; "
          + "the next run brings them up to date");
    } finally {
      spark.catalog().dropTempView(view);
    }
    return at(history, committed).where(col(OutputSchema.RUN_ID).equalTo(lit(runId)));
  }

  /** The table as of {@code snapshot}; the table as it is when null (then it has no snapshot: empty). */
  private Dataset<Row> at(String table, Long snapshot) {
    return snapshot == null ? spark.table(table) : spark.sql("SELECT * FROM " + table + " VERSION AS OF " + snapshot);
  }

  private static Column day(String date) {
    return lit(date).cast("date");
  }

  /** The latest snapshot of {@code table}, or null when it has none. */
  Long latestSnapshot(String table) {
    List<Row> rows = spark.sql("SELECT snapshot_id FROM " + table + ".snapshots ORDER BY committed_at DESC LIMIT 1").collectAsList();
    return rows.isEmpty() ? null : rows.get(0).getLong(0);
  }

  private long snapshotOfRun(String runId) {
    List<Row> rows = spark.sql("SELECT snapshot_id FROM " + history + ".snapshots WHERE summary['" + RUN_ID_PROPERTY + "'] = '"
        + runId.replace("'", "") + "' ORDER BY committed_at DESC LIMIT 1").collectAsList();
    if (rows.isEmpty()) throw new IllegalStateException("the commit of run " + runId + " is not among " + history + "'s snapshots");
    return rows.get(0).getLong(0);
  }

  /**
   * {@code e} as the failure of a run that another one overtook (exit 6), when Iceberg refused the
   * commit because the table changed since this run read it; else {@code e} itself.
   */
  private RuntimeException conflictOr(Exception e, String state) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ValidationException || t instanceof CommitFailedException) {
        return new PosterGenresException(Failure.LOCK_HELD, "another run committed to the Iceberg tables in "
            + IcebergCatalog.shown(catalog.uri()) + " (namespace " + catalog.namespace() + ") while this one worked: "
            + state + ". Give each output one scheduled run at a time; run this one again to label what is still missing ("
            + t.getMessage() + ")", e);
      }
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
  }
}
