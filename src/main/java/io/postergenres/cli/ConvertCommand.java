package io.postergenres.cli;

import io.postergenres.convert.Fp16Converter;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code poster-genres convert}: a model directory in, a half-precision copy out, compared on real posters. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Writes a copy of a frozen model whose stored weights take half the bytes (fp16: large float constants stored "
            + "as IEEE half and cast back to float32 in the graph). It loads like any other model (float32 in and out).",
        "Prints both sizes and compares the two models on real posters: top-3 genre agreement and largest score difference.",
        "Exit codes: 0 done; 1 unexpected error; 2 bad option; 3 output exists or posters missing; 4 model unusable."})
public final class ConvertCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory to convert.")
  Path model;

  @Option(names = "--precision", paramLabel = "P", defaultValue = "fp16", description = "Storage precision; only fp16. Default: ${DEFAULT-VALUE}.")
  String precision;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Model directory to write (new or empty).")
  Path output;

  @Option(names = "--overwrite", description = "Replace the files of a non-empty --output.")
  boolean overwrite;

  @Option(names = "--posters", paramLabel = "DIR",
      description = "Compare the models on the images under DIR (recursively). Default: the posters of the model's validation.txt.")
  Path posters;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "Compare on at most N posters; 0: all. Default: ${DEFAULT-VALUE}.")
  int limit;

  @Option(names = "--min-elements", paramLabel = "N", defaultValue = "" + Fp16Converter.DEFAULT_MIN_ELEMENTS,
      description = "Only float constants with more than N elements are stored as fp16. Default: ${DEFAULT-VALUE}.")
  int minElements;

  @Mixin SharedOptions.Threads threads;

  @Override
  public Integer call() throws IOException {
    verbosity.apply();
    if (!precision.equalsIgnoreCase("fp16")) throw new PosterGenresException(Failure.USAGE, "--precision " + precision + " is not supported; choices: fp16");
    if (minElements < 0 || limit < 0 || threads.threads < 0) throw new PosterGenresException(Failure.USAGE, "--min-elements, --limit and --threads must be 0 or more");
    if (!Files.isDirectory(model)) throw new PosterGenresException(Failure.MODEL, "--model " + model + " is not a directory");
    OutputDir.check(output, overwrite, model);
    if (posters != null && !Files.isDirectory(posters)) throw new PosterGenresException(Failure.INPUT, "--posters " + posters + " is not a directory");
    if (posters != null && Fp16Converter.imagesUnder(posters).isEmpty()) {
      throw new PosterGenresException(Failure.INPUT, "--posters " + posters + " holds no images to compare the two models on");
    }
    PrintWriter out = commandSpec.commandLine().getOut();
    long t0 = System.nanoTime();
    Fp16Converter.DirResult r = Fp16Converter.convertDir(model, output, minElements);
    Fp16Converter.Stats s = r.stats();
    out.printf(Locale.ROOT, "converted %s (%s) to %s (%s): %d float constants stored as fp16 (%,d weights), %d small ones kept float32, %.1f s%n",
        model, r.spec().version().replace("-fp16", ""), output, r.spec().version(), s.constsConverted(), s.elementsConverted(),
        s.constsKept(), (System.nanoTime() - t0) / 1e9);
    out.printf(Locale.ROOT, "  saved_model.pb  %,13d -> %,13d bytes (%.1f%%)%n", s.bytesBefore(), s.bytesAfter(), 100.0 * s.bytesAfter() / s.bytesBefore());
    out.printf(Locale.ROOT, "  model package   %,13d -> %,13d bytes (%.1f%%)%n", r.dirBytesBefore(), r.dirBytesAfter(),
        100.0 * r.dirBytesAfter() / r.dirBytesBefore());
    out.flush();

    List<Path> images = posters != null ? Fp16Converter.imagesUnder(posters) : Fp16Converter.validationPosters(model, null);
    String what = posters != null ? "images under " + posters : "validation posters of " + model.resolve("validation.txt");
    if (images.isEmpty()) {
      out.printf("  no posters to compare on (%s); pass --posters DIR%n", what);
      out.flush();
      return ExitCode.OK.code();
    }
    if (limit > 0 && images.size() > limit) images = images.subList(0, limit);
    int t = threads.resolved();
    long t1 = System.nanoTime();
    Fp16Converter.Agreement a = Fp16Converter.compare(model, output, images, 32, t, 50_000_000L);
    out.printf(Locale.ROOT, "compared on %d %s (%d unreadable) in %.1f s:%n", a.posters(), what, a.unreadable(), (System.nanoTime() - t1) / 1e9);
    out.printf(Locale.ROOT, "  top-3 genres agree   %d/%d (%.2f%%)%n", a.top3Same(), a.posters(), 100.0 * a.top3Rate());
    out.printf(Locale.ROOT, "  top-1 genre agrees   %d/%d (%.2f%%)%n", a.top1Same(), a.posters(), 100.0 * a.top1Same() / a.posters());
    out.printf(Locale.ROOT, "  assigned genres (thresholds + rules) agree %d/%d (%.2f%%)%n", a.genresSame(), a.posters(), 100.0 * a.genresSame() / a.posters());
    out.printf(Locale.ROOT, "  score difference: max %.6f, mean %.7f%n", a.maxAbsDiff(), a.meanAbsDiff());
    out.flush();
    return ExitCode.OK.code();
  }
}
