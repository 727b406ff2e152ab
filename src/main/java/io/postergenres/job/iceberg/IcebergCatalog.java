package io.postergenres.job.iceberg;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.RunSummary;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/**
 * The Iceberg catalog that holds a nightly output's table, {@code <namespace>.labels}, registered
 * with Spark as an Iceberg {@code SparkCatalog}:
 *
 * <ul>
 *   <li>no URI: a Hadoop catalog whose warehouse is the output directory (local disk, HDFS: commits
 *       by atomic rename, nothing to start);
 *   <li>{@code jdbc:postgresql://...}: the JDBC catalog (commits by a compare-and-swap in the
 *       database), with the data files under the output directory (s3a:// too);
 *   <li>{@code http(s)://...}: a REST catalog.
 * </ul>
 *
 * @param uri the catalog's URI, or null for a Hadoop catalog in {@code warehouse}
 * @param warehouse where new tables' files go: the run's output directory
 * @param namespace the namespace of the table
 */
public record IcebergCatalog(String uri, String warehouse, String namespace) {
  private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public IcebergCatalog {
    if (!NAMESPACE.matcher(namespace).matches()) {
      throw usage("--namespace must be a plain name (letters, digits, underscores), not '" + namespace + "'");
    }
    if (uri == null && warehouse.toLowerCase(Locale.ROOT).startsWith("s3")) {
      throw usage("an Iceberg table on S3 needs a catalog that commits atomically there: pass --catalog "
          + "jdbc:postgresql://HOST:PORT/DB (or a REST catalog's http(s):// URL); without --catalog the Hadoop catalog "
          + "commits by renames, which S3 does not make atomic");
    }
    if (uri != null && !uri.startsWith("jdbc:") && !uri.startsWith("http://") && !uri.startsWith("https://")) {
      throw usage("--catalog must be a JDBC URL (jdbc:postgresql://HOST:PORT/DB) or a REST catalog URL (http(s)://...), not '"
          + shown(uri) + "'");
    }
  }

  /** Spark's name of a JDBC or REST catalog, which is also the name the catalog keeps its tables under. */
  public static final String SHARED_NAME = "poster_labels";

  /**
   * Spark's name for this catalog. A JDBC or REST catalog is {@value #SHARED_NAME} whatever the
   * output (the JDBC catalog keys its tables by this name, so every run and reader must use it); a
   * Hadoop catalog has one name per warehouse, so one session can hold several.
   */
  public String sparkName() {
    if (uri != null) return SHARED_NAME;
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(warehouse.getBytes(StandardCharsets.UTF_8));
      return SHARED_NAME + "_" + HexFormat.of().formatHex(h, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A table of the namespace as Spark SQL names it: {@code catalog.namespace.table}. */
  public String table(String name) {
    return sparkName() + "." + namespace + "." + name;
  }

  /**
   * Registers the catalog with {@code spark} unless a {@code --conf spark.sql.catalog.<name>}
   * already did (then that configuration stands).
   */
  public void register(SparkSession spark) {
    String key = "spark.sql.catalog." + sparkName();
    if (spark.conf().getOption(key).isDefined()) {
      scala.Option<String> registered = spark.conf().getOption(key + ".uri");
      if (uri != null && registered.isDefined() && !registered.get().equals(uri)) {
        throw usage("the Spark catalog " + sparkName() + " is configured with another URI (" + shown(registered.get())
            + ") than --catalog " + shown(uri) + "; give one of them");
      }
      return;
    }
    spark.conf().set(key + ".type", uri == null ? "hadoop" : uri.startsWith("jdbc:") ? "jdbc" : "rest");
    if (uri != null) spark.conf().set(key + ".uri", uri);
    // The JDBC catalog's current schema (with views), which it creates in a new database.
    if (uri != null && uri.startsWith("jdbc:")) spark.conf().set(key + ".jdbc.schema-version", "V1");
    spark.conf().set(key + ".warehouse", warehouse);
    // Every run reads the table's latest metadata (another run may have committed since).
    spark.conf().set(key + ".cache-enabled", "false");
    spark.conf().set(key, "org.apache.iceberg.spark.SparkCatalog");
  }

  /** The URI for messages: no query string (a JDBC URL may carry a password there) and no user info. */
  public static String shown(String uri) {
    if (uri == null) return "the Hadoop catalog";
    int q = uri.indexOf('?');
    return RunSummary.redact(q < 0 ? uri : uri.substring(0, q) + "?...");
  }

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
