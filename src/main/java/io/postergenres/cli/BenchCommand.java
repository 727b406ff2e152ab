package io.postergenres.cli;

import io.postergenres.bench.Bench;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code poster-genres bench}: how fast each way of labelling is, against the arithmetic ceiling. */
@Command(
    name = "bench",
    header = "Measures posters per second, from the hardware's ceiling to the Spark job end to end.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Measures on the same posters, in posters per second: the ceiling (matrix-multiply GFLOPS over the "
            + "model's FLOPs), batched in-process inference, the Spark job end to end, the naive UDF job, and "
            + "reading + preprocessing alone; then where inference time goes on this CPU, each op type's share in "
            + "TensorFlow's trace of one batch. Each line is the median of --repeat interleaved measurements, with "
            + "their minimum and maximum, flagged when they spread too widely to trust. The job also runs at "
            + "--sizes, which splits its time into a fixed part per run (step by step) and a marginal rate.",
        "Prints a table and writes JSON with the ratios."})
public final class BenchCommand implements Callable<Integer> {
  @Mixin Verbosity verbosity;

  @Mixin ModelOption model;

  @Option(names = "--posters", paramLabel = "DIR", defaultValue = "../shared/datasets/ccu-movie-posters/Movie_Poster_Dataset",
      description = "Where to take posters from (copied, cycling, into the work folder). Default: ${DEFAULT-VALUE}.")
  Path posters;

  @Option(names = "--count", paramLabel = "N", defaultValue = "1000", description = "Posters per measurement. Default: ${DEFAULT-VALUE}.")
  int count;

  @Mixin SharedOptions.BatchSize batchSize;

  @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]", description = "Default: ${DEFAULT-VALUE}.")
  String master;

  @Option(names = "--compare-model", paramLabel = "DIR",
      description = "Also time in-process inference of this model (each at its own input size) on the same posters, e.g. the previous default.")
  String compareModel;

  @Option(names = "--repeat", paramLabel = "N", defaultValue = "" + Bench.DEFAULT_REPEAT,
      description = "Measure each line N times, interleaved, and report the median with its minimum and maximum "
          + "(a shared host's neighbours slow some measurements). Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--sizes", paramLabel = "N,N", split = ",",
      description = "Posters per job run for the fixed part and marginal rate, besides --count. Default: a quarter and a half of --count.")
  List<Integer> sizes = new ArrayList<>();

  @Option(names = "--output", paramLabel = "FILE.json", required = true, description = "Where the JSON report goes.")
  Path output;

  @Override
  public Integer call() throws Exception {
    verbosity.apply();
    if (count < 1 || batchSize.batchSize < 1 || repeat < 1) {
      throw new PosterGenresException(Failure.USAGE, "--count, --batch-size and --repeat must be positive");
    }
    for (int n : sizes) {
      if (n < 1 || n > count) {
        throw new PosterGenresException(Failure.USAGE, "--sizes " + n + " is not between 1 and --count " + count
            + "; give sizes no larger than --count, or raise --count");
      }
    }
    if (!Files.isDirectory(posters)) {
      throw new PosterGenresException(Failure.INPUT, "--posters " + posters + " is not a directory");
    }
    Path work = Files.createTempDirectory("poster-genres-bench");
    Map<String, Object> report = new Bench(new Bench.Settings(model.resolved(), posters, count, batchSize.batchSize, master, work,
        compareModel == null ? null : ModelOption.resolve(compareModel), repeat, sizes),
        System.out).run();
    Bench.writeJson(report, output);
    System.out.println("written " + output);
    return ExitCode.OK.code();
  }
}
