package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.LabelsTable;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code poster-genres show}: a label output read back in one line, with Spark in local mode. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Shows what a label run wrote: posters per genre, failures by kind, and the first rows; or one poster's row.",
      "For an --incremental output it reads current/, one row per poster. Exit code 3 when there is nothing to show."
    })
public final class ShowCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @Parameters(index = "0", paramLabel = "OUTPUT", description = "The --output of a label run (local, hdfs:// or s3a://).")
  String output;

  @Option(names = "--genres", description = "Only the posters per genre.")
  boolean genres;

  @Option(names = "--failures", description = "Only the failures: per kind with an example reason, then the failed paths.")
  boolean failures;

  @Option(names = "--rows", paramLabel = "N", defaultValue = "5",
      description = "How many rows (and failed paths) to list. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--poster", paramLabel = "PATH",
      description = "Only this poster's row: its genres and every score. A full path, or its end (a file name).")
  String poster;

  @Override
  public Integer call() {
    verbosity.apply();
    if (rows < 0) throw new PosterGenresException(Failure.USAGE, "--rows must be 0 or more, got " + rows);
    if (output.isBlank()) throw new PosterGenresException(Failure.USAGE, "OUTPUT must not be empty; name the --output of a label run");
    if (poster != null && poster.isBlank()) throw new PosterGenresException(Failure.USAGE, "--poster must not be empty; name a poster's path");
    if (poster != null && (genres || failures)) {
      throw new PosterGenresException(Failure.USAGE, "--poster shows one poster's row; --genres and --failures show the whole output: pass one of them");
    }
    SparkSession spark = session();
    try {
      LabelsTable table = LabelsTable.open(spark, output, spark.sparkContext().hadoopConfiguration());
      PrintWriter out = commandSpec.commandLine().getOut();
      if (poster != null) {
        out.print(table.poster(poster));
      } else {
        boolean all = !genres && !failures;
        if (all) out.print(table.overview());
        if (all || genres) out.print(table.genreCounts());
        if (all || failures) out.print(table.failures(rows));
        if (all && rows > 0) out.print(table.sample(rows));
      }
      out.flush();
      return ExitCode.OK.code();
    } finally {
      spark.stop();
    }
  }

  private SparkSession session() {
    SparkConf conf = new SparkConf(true)
        .setIfMissing("spark.master", "local[2]")
        .setIfMissing("spark.app.name", "poster-genres show")
        .setIfMissing("spark.ui.enabled", "false")
        .setIfMissing("spark.ui.showConsoleProgress", "false")
        .setIfMissing("spark.sql.shuffle.partitions", "4");
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    if (verbosity.level() == 0) spark.sparkContext().setLogLevel("WARN");
    return spark;
  }
}
