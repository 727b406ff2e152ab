package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.eval.Evaluator;
import io.postergenres.eval.Recalibration;
import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.FoldFigures;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.model.ModelSpec;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.pretrained.CrossValidatedTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code poster-genres calibrate}: a cross-validated model's thresholds chosen again under another rule, without retraining. */
@Command(
    name = "calibrate",
    header = "Chooses a cross-validated model's thresholds again under another decision rule, without retraining.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Writes a copy of a model trained with 'train --folds K' whose per-genre thresholds are calibrated again on its "
            + "out-of-fold scores (out-of-fold-scores.csv, folds.txt) under the rule given: 1 to --max-genres genres a poster, "
            + "no genre given to more than --assignment-cap times the posters that have it, on every fold (--cap-scope every-fold) "
            + "or on all posters pooled, and none of " + RuleCalibration.FLOOR_MIN_POSTERS + " or more posters to fewer than --assignment-floor times them. "
            + "The network is copied unchanged; model.json gets the new thresholds, a new version, and the cross-validated figures "
            + "of both rules, each fold scored with thresholds chosen on the others. A text stage (text/) is left out: its "
            + "thresholds follow the image model's rule, so train it again on the copy with 'train-text'.",
        "Exit codes: 0 done; 1 unexpected error; 2 bad option; 3 input missing; 4 model unusable."})
public final class CalibrateCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "Model directory made by 'train --folds K' (holds out-of-fold-scores.csv and folds.txt).")
  Path model;

  /** The posters the model was trained on (their labels): its dataset folder or manifest. */
  @ArgGroup(exclusive = true, multiplicity = "1")
  LabelledPosters input;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Where the recalibrated copy goes (new or empty).")
  Path output;

  @Option(names = "--overwrite", description = "Replace the files of a non-empty --output.")
  boolean overwrite;

  @Option(names = "--assignment-cap", paramLabel = "X",
      description = "No genre given to more than X times the posters that have it (1 to 3). Default: "
          + CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP + ".")
  double cap = CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP;

  @Option(names = "--assignment-floor", paramLabel = "X",
      description = "Every genre that " + RuleCalibration.FLOOR_MIN_POSTERS + " or more of the posters have is given to at least X times the posters that have it, on all "
          + "the out-of-fold scores together (0 to under 1; 0: no floor). Keeps weak genres from being given to a sliver of their "
          + "posters. Default: 0.")
  double floor;

  @Option(names = "--max-genres", paramLabel = "N",
      description = "Give each poster 1 to N genres (those over their thresholds, ranked as the model ranks them). Default: the model's own.")
  Integer maxGenres;

  @Option(names = "--cap-scope", paramLabel = "SCOPE",
      description = "every-fold: the cap holds on each fold's out-of-fold scores (genres with 10 or more posters in it); pooled: on all "
          + "of them together. Default: every-fold.")
  String scope;

  @Option(names = "--model-version", paramLabel = "V",
      description = "Version of the copy (rows it labels carry it; a nightly run gives the old version's rows their genres under it from "
          + "their stored scores, reading no poster). Default: the model's with its third number one up (3.1.0-fp16 -> 3.1.1-fp16).")
  String version;

  @Override
  public Integer call() throws IOException {
    verbosity.apply();
    CalibrationRule rule;
    try {
      rule = new CalibrationRule(cap, TrainCommand.capOnEveryFold(scope), floor); // checks --assignment-cap and --assignment-floor
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (version != null && version.isBlank()) throw usage("--model-version must not be empty");
    if (!Files.isRegularFile(model.resolve(ModelSpec.FILE_NAME))) {
      throw new PosterGenresException(Failure.MODEL, "--model " + model + " is not a model directory (no model.json)");
    }
    for (String f : new String[] {Evaluator.OUT_OF_FOLD_SCORES, Evaluator.FOLD_LIST}) {
      if (!Files.isRegularFile(model.resolve(f))) {
        throw new PosterGenresException(Failure.INPUT, "--model " + model + " has no " + f + ": only a model trained with 'train --folds K'"
            + " can be calibrated again without retraining");
      }
    }
    OutputDir.check(output, overwrite, model);
    ModelSpec spec = io.postergenres.model.ModelPackage.read(model.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec();
    if (maxGenres != null && (maxGenres < 1 || maxGenres > spec.genres().size())) {
      throw usage("--max-genres must be 1 to " + spec.genres().size() + " (the model's genres), got " + maxGenres);
    }
    LabelledPosters.Read posters = input.read();
    CcuDataset.Loaded data = posters.data();
    Path root = posters.root();
    String newVersion = version != null ? version : nextVersion(spec.version());
    if (newVersion == null) throw usage("cannot derive a new version from '" + spec.version() + "'; give --model-version V");
    if (newVersion.equals(spec.version()) || spec.sameScoresAs().contains(newVersion)) {
      throw usage("--model-version " + newVersion + " is the model's own or one it was calibrated from; give a new one");
    }

    long t0 = System.nanoTime();
    Recalibration.Outcome o;
    try {
      o = Recalibration.run(data, root, model, output, rule, maxGenres, newVersion);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new PosterGenresException(Failure.MODEL, e.getMessage(), e);
    }
    PrintWriter out = commandSpec.commandLine().getOut();
    out.printf(Locale.ROOT, "calibrated %s %s again as %s in %s, on the out-of-fold scores of %d labelled posters in %d folds (%.1f s)%n",
        spec.name(), spec.version(), newVersion, output, o.posters(), o.folds(), (System.nanoTime() - t0) / 1e9);
    out.printf("  rule: 1-%d genres, %s%n", o.spec().maxGenres(), rule.describe());
    if (o.previousRule() != null) out.printf("  was:  1-%d genres, %s%n", spec.maxGenres(), o.previousRule().describe());
    out.println();
    out.println("Each fold scored with thresholds calibrated on the other folds (mean ± sd over the folds):");
    out.printf(Locale.ROOT, "  %-36s %-20s %s%n", "", o.before() != null ? "previous rule" : "", "new rule");
    Map<?, ?> after = (Map<?, ?>) o.after().get("summary");
    Map<?, ?> before = o.before() == null ? null : (Map<?, ?>) o.before().get("summary");
    for (String name : FoldFigures.NAMES) {
      out.printf(Locale.ROOT, "  %-36s %-20s %s%n", name, before != null ? before.get(name) : "", after.get(name));
    }
    out.println();
    out.printf("Thresholds: %s%n", o.spec().thresholds());
    if (o.textStageLeftOut()) {
      out.printf("The text stage of %s was left out (its thresholds follow the old rule); to add one under the new rule: poster-genres"
          + " train-text --model %s --dataset DIR --reader DIR%n", model, output);
    }
    out.flush();
    return ExitCode.OK.code();
  }

  private static final Pattern SEMVER = Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)(.*)$");

  /** 3.1.0-fp16 -> 3.1.1-fp16; null where the version is not major.minor.patch[suffix]. */
  static String nextVersion(String version) {
    Matcher m = SEMVER.matcher(version);
    if (!m.matches()) return null;
    return m.group(1) + "." + m.group(2) + "." + (Long.parseLong(m.group(3)) + 1) + m.group(4);
  }

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
