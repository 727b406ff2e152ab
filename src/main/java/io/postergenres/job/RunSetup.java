package io.postergenres.job;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * What every run does before it lists a file, for the plain and the incremental job alike: its id,
 * the checks of inputs, output and model (failing early, with a message that says what to change),
 * the model.json overrides, and the partition and thread counts picked for "0 = automatic".
 * Driver-only.
 */
public final class RunSetup {
  private static final Logger LOG = LoggerFactory.getLogger(RunSetup.class);
  /** Posters per partition when --partitions is 0. */
  static final int POSTERS_PER_PARTITION = 500;
  private static final Pattern LOCAL_MASTER = Pattern.compile("local(?:-cluster)?\\[([0-9*]+)(?:,.*)?\\]");

  private RunSetup() {}

  public static String newRunId(Instant started) {
    String time = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC).format(started);
    return time + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  public static void checkInputsExist(List<String> inputs, Configuration conf) {
    if (inputs.isEmpty()) {
      throw new PosterGenresException(Failure.USAGE, "no input given; pass --input with a file, directory or glob");
    }
    for (String input : inputs) {
      Path p = new Path(input);
      try {
        FileSystem fs = p.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(p);
        if (matches == null || matches.length == 0) {
          throw new PosterGenresException(Failure.INPUT,
              "input " + RunSummary.redact(input) + " does not exist (nor does anything match it as a glob); check --input");
        }
      } catch (IOException e) {
        throw new PosterGenresException(Failure.INPUT, "cannot list input " + RunSummary.redact(input) + ": " + e.getMessage(), e);
      }
    }
  }

  /** Files counted at most when telling what an empty listing left out (an object store lists slowly). */
  static final int LEFT_OUT_COUNT_LIMIT = 100_000;

  /**
   * Fails with exit code 3 when the listing found no poster: a scheduler pointed at the wrong
   * folder must not report success. The message says how many files the glob left out, and names
   * a few, so that a too narrow {@code --glob} is told apart from an empty folder.
   */
  public static void requireListed(long listed, List<String> inputs, String glob, Configuration conf) {
    if (listed > 0) return;
    long others = 0;
    List<String> examples = new ArrayList<>();
    try {
      for (String input : inputs) {
        Path p = new Path(input);
        FileSystem fs = p.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(p);
        if (matches == null) continue;
        for (FileStatus m : matches) {
          RemoteIterator<LocatedFileStatus> files = fs.listFiles(m.getPath(), true);
          while (files.hasNext() && others < LEFT_OUT_COUNT_LIMIT) {
            String name = files.next().getPath().getName();
            others++;
            if (examples.size() < 3) examples.add(name);
          }
        }
      }
    } catch (IOException e) {
      LOG.warn("Could not count the files under {}: {}", inputs.stream().map(RunSummary::redact).toList(), e.toString());
    }
    String where = String.join(", ", inputs.stream().map(RunSummary::redact).toList());
    String what = others == 0
        ? "there is no file there at all"
        : (others >= LEFT_OUT_COUNT_LIMIT ? "at least " : "") + others + (others == 1 ? " file is" : " files are")
            + " there, none matching (e.g. " + String.join(", ", examples) + ")";
    throw new PosterGenresException(Failure.INPUT, "no poster file under " + where + " matches --glob " + glob + ": " + what
        + "; check --input, or widen --glob");
  }

  /**
   * Refuses, before any work, an output the run must not write: one that exists, unless {@code
   * --mode} says what to do with it; a file (overwrite would delete it, append cannot add to it); a
   * folder of something other than labels, which overwrite would delete whole; and a folder that
   * holds the run's own {@code inputs}.
   */
  public static void checkOutput(String output, List<String> inputs, WriteMode mode, Configuration conf) {
    Path p = new Path(output);
    String shown = RunSummary.redact(output);
    try {
      FileSystem fs = p.getFileSystem(conf);
      FileStatus status;
      try {
        status = fs.getFileStatus(p);
      } catch (java.io.FileNotFoundException e) {
        checkLocalParent(fs, p, shown);
        return;
      }
      if (mode == WriteMode.ERROR) {
        throw new PosterGenresException(Failure.INPUT, "output " + shown
            + " already exists; choose a new --output, or pass --mode overwrite (replace it) or --mode append (add to it)");
      }
      if (!status.isDirectory()) {
        throw new PosterGenresException(Failure.INPUT, "output " + shown + " is a file, not a folder of labels; --mode "
            + mode.name().toLowerCase(Locale.ROOT) + " would " + (mode == WriteMode.OVERWRITE ? "delete it" : "fail on it")
            + "; give --output a folder of its own");
      }
      Path qualified = fs.makeQualified(p);
      for (String input : inputs) {
        Path in = new Path(input);
        FileSystem inFs = in.getFileSystem(conf);
        boolean inside = isAtOrBelow(inFs.makeQualified(in), qualified);
        FileStatus[] matches = inside ? null : inFs.globStatus(in); // what a glob matches may be the output itself
        for (int k = 0; matches != null && k < matches.length && !inside; k++) inside = isAtOrBelow(matches[k].getPath(), qualified);
        if (inside) {
          throw new PosterGenresException(Failure.INPUT, "--input " + RunSummary.redact(input) + " is inside --output " + shown
              + "; --mode " + mode.name().toLowerCase(Locale.ROOT) + " would write labels among the posters"
              + (mode == WriteMode.OVERWRITE ? " (and delete them first)" : "") + "; give --output a folder of its own");
        }
      }
      if (mode == WriteMode.APPEND && fs.exists(new Path(p, "current"))) {
        throw new PosterGenresException(Failure.INPUT, "output " + shown + " is a nightly (--incremental) output, read through its"
            + " current/; --mode append would add rows beside it that show and its readers never see; label it with"
            + " --incremental, or give --output a folder of its own");
      }
      if (mode == WriteMode.OVERWRITE) {
        List<String> foreign = new ArrayList<>();
        RemoteIterator<FileStatus> children = fs.listStatusIterator(p);
        while (children.hasNext() && foreign.size() < 3) {
          FileStatus child = children.next();
          if (!isLabelsEntry(child)) foreign.add(child.getPath().getName());
        }
        if (!foreign.isEmpty()) {
          throw new PosterGenresException(Failure.INPUT, "output " + shown + " holds what no label run writes ("
              + String.join(", ", foreign) + (children.hasNext() ? ", ..." : "")
              + "); --mode overwrite would delete the whole folder; give --output a folder of its own, or remove them first");
        }
      }
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot check output " + shown + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether an entry of an existing output is one a label run leaves there: Parquet part files,
   * their checksums, the markers and temporary folders of Spark's and S3A's committers, and the run
   * reports under {@code _runs}. Anything else (a {@code .git}, an {@code _archive}) is the user's.
   */
  static boolean isLabelsEntry(FileStatus child) {
    String name = child.getPath().getName();
    if (child.isFile()) {
      if (name.startsWith(".") && name.endsWith(".crc")) return true; // Hadoop's checksums of the files beside them
      if (name.startsWith("part-") && name.endsWith(".parquet")) return true;
      return name.equals("_SUCCESS") || name.equals("_metadata") || name.equals("_common_metadata")
          || name.startsWith("_started_") || name.startsWith("_committed_");
    }
    return name.equals("_runs") || name.equals("_temporary") || name.startsWith("__magic") || name.startsWith(".spark-staging-");
  }

  /**
   * Refuses a nightly ({@code --incremental}) run into a folder that holds a plain run's Parquet
   * files: its labels would go to {@code current/} beside them, and readers of the folder would see
   * two tables mixed.
   */
  public static void refusePlainOutput(String output, Configuration conf) {
    Path p = new Path(output);
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) return;
      for (FileStatus child : fs.listStatus(p)) {
        String name = child.getPath().getName();
        if (child.isFile() && name.startsWith("part-") && name.endsWith(".parquet")) {
          throw new PosterGenresException(Failure.INPUT, "output " + RunSummary.redact(output) + " holds the Parquet files of a"
              + " plain label run; --incremental keeps its own layout (labels/, current/) and would mix the two;"
              + " give --incremental a folder of its own");
        }
      }
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot check output " + RunSummary.redact(output) + ": " + e.getMessage(), e);
    }
  }

  /**
   * On a local disk, a new output's nearest existing folder must be a folder this user can write:
   * otherwise the run would label every poster and only then fail to write, with Hadoop's stack
   * trace ({@code ParentNotDirectoryException}, {@code Mkdirs failed}).
   */
  private static void checkLocalParent(FileSystem fs, Path output, String shown) {
    if (!(fs instanceof org.apache.hadoop.fs.LocalFileSystem) && !(fs instanceof org.apache.hadoop.fs.RawLocalFileSystem)) return;
    java.nio.file.Path q = nearestExisting(java.nio.file.Path.of(fs.makeQualified(output).toUri().getPath()).getParent());
    if (q == null) return;
    if (!java.nio.file.Files.isDirectory(q)) {
      throw new PosterGenresException(Failure.INPUT, "--output " + shown + " cannot be created: " + q + " is a file, not a folder");
    }
    if (!java.nio.file.Files.isWritable(q)) {
      throw new PosterGenresException(Failure.INPUT, "--output " + shown + " cannot be created: this user cannot write in " + q);
    }
  }

  /** The nearest of {@code p} and its parents that exists on the local disk (what creating {@code p} writes into); null if none. */
  public static java.nio.file.Path nearestExisting(java.nio.file.Path p) {
    java.nio.file.Path q = p;
    while (q != null && !java.nio.file.Files.exists(q)) q = q.getParent();
    return q;
  }

  private static boolean isAtOrBelow(Path path, Path dir) {
    for (Path q = path; q != null; q = q.getParent()) {
      if (q.equals(dir)) return true;
    }
    return false;
  }

  /** The model at {@code dir} without its text stage (exit code 4 when it cannot be read). */
  public static ModelPackage readModel(String dir, Configuration conf) {
    return readModel(dir, conf, false);
  }

  /**
   * The model at {@code dir}, with its text stage ({@code --read-text}: the genres of the blended
   * scores) or without it (the text stage's files are then not broadcast, and the model's
   * fingerprint is what it was before the stage was added); exit code 4 when it cannot be read or
   * has no text stage to read with.
   */
  public static ModelPackage readModel(String dir, Configuration conf, boolean readText) {
    try {
      ModelPackage pkg = ModelPackage.read(dir, conf);
      return readText ? pkg.withTextStage() : pkg.withoutTextStage();
    } catch (ModelException e) {
      throw new PosterGenresException(Failure.MODEL, e.getMessage(), e);
    }
  }

  public static ModelSpec applyOverrides(ModelSpec spec, LabelRequest request) {
    return applyOverrides(spec, request.thresholds(), request.minGenres(), request.maxGenres());
  }

  /** model.json with threshold and genre-count overrides (null: model.json's), checked. */
  public static ModelSpec applyOverrides(ModelSpec spec, Map<String, Double> thresholds, Integer minGenres, Integer maxGenres) {
    ModelSpec out = spec;
    if (!thresholds.isEmpty()) {
      Map<String, Double> t = new LinkedHashMap<>(spec.thresholds());
      for (Map.Entry<String, Double> e : thresholds.entrySet()) {
        if (!t.containsKey(e.getKey())) {
          throw new PosterGenresException(Failure.USAGE, "--threshold names genre '" + e.getKey()
              + "', which model " + spec.name() + " does not know; its genres are " + spec.genres());
        }
        t.put(e.getKey(), e.getValue());
      }
      out = out.withThresholds(t);
    }
    if (minGenres != null || maxGenres != null) {
      out = out.withGenreBounds(
          minGenres != null ? minGenres : spec.minGenres(),
          maxGenres != null ? maxGenres : spec.maxGenres());
    }
    List<String> problems = out.problems();
    if (!problems.isEmpty()) {
      throw new PosterGenresException(Failure.USAGE, "the threshold or genre-count options are invalid: " + String.join("; ", problems));
    }
    return out;
  }

  /**
   * Fills in automatic thread counts where the driver knows an executor's cores (local[N], or
   * spark.executor.cores), so that an executor given 4 cores of a 64-core node does not start
   * 64 TensorFlow threads. Otherwise executors use their own processor count. Decides {@code
   * --decode-ahead auto} by the same count ({@link LabelOptions.DecodeAhead#forCores}), once, and
   * logs the decision ({@link #decodeAheadText} says it for the run summary).
   */
  public static LabelOptions withExecutorThreads(SparkSession spark, LabelOptions options) {
    LabelOptions out = withExecutorThreads(options,
        executorCores(spark.sparkContext().master(), spark.conf().getOption("spark.executor.cores")));
    LOG.info("decode-ahead: {}", decodeAheadText(options, out));
    return out;
  }

  /** {@code options} for executors of {@code executorCores} cores (0: unknown). */
  static LabelOptions withExecutorThreads(LabelOptions options, int executorCores) {
    ModelCache.Settings t = options.threads();
    if (t.intraOp() == 0 && executorCores > 0) {
      LOG.info("TensorFlow intra-op threads per executor: {} (its cores)", executorCores);
      t = new ModelCache.Settings(executorCores, t.interOp(), t.bf16());
    }
    return options.with(t, options.decodeAhead().forCores(t.intraOp()));
  }

  /**
   * What became of decode-ahead, for the log and the run summary: {@code off (2 cores)}, {@code on
   * (4 cores)}, {@code on (asked for)}, or {@code auto (each executor by its cores)} when the driver
   * does not know them.
   */
  public static String decodeAheadText(LabelOptions asked, LabelOptions decided) {
    LabelOptions.DecodeAhead d = decided.decodeAhead();
    if (asked.decodeAhead() != LabelOptions.DecodeAhead.AUTO) return d.spelling() + " (asked for)";
    if (d == LabelOptions.DecodeAhead.AUTO) return "auto (each executor by its cores)";
    int cores = decided.threads().intraOp();
    return d.spelling() + " (" + cores + (cores == 1 ? " core)" : " cores)");
  }

  /** Cores of one executor from the master URL and spark.executor.cores, or 0 when unknown. */
  static int executorCores(String master, Option<String> executorCores) {
    Matcher m = LOCAL_MASTER.matcher(master);
    if (master.equals("local")) return 1;
    if (m.matches() && master.startsWith("local[")) {
      return m.group(1).equals("*") ? ModelCache.Settings.allCores() : Integer.parseInt(m.group(1));
    }
    if (executorCores.isDefined()) {
      try {
        return Integer.parseInt(executorCores.get().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return 0;
  }

  static int autoPartitions(long files) {
    return (int) Math.max(1, Math.min(100_000, (files + POSTERS_PER_PARTITION - 1) / POSTERS_PER_PARTITION));
  }

  /** {@code requested}, or for 0 one partition per 500 posters and at least twice the cores. */
  public static int partitions(SparkSession spark, int requested, long files) {
    return requested > 0 ? requested : Math.max(autoPartitions(files), 2 * spark.sparkContext().defaultParallelism());
  }
}
