package io.postergenres.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.eval.Evaluator;
import io.postergenres.metrics.RuleStudy;
import io.postergenres.train.CcuDataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code poster-genres evaluate}: a model directory and labelled posters in, metrics and baselines out. */
@Command(
    name = "evaluate",
    header = "Scores labelled posters with a model and reports per-genre and overall quality beside two baselines.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Scores labelled posters with a model and reports, per genre, support, ROC-AUC, average precision and "
            + "F1 at the model's thresholds (with its min/max genres rules); overall micro and macro F1, mAP, macro "
            + "ROC-AUC and binary accuracy; and the same figures for two baselines on the same posters: all negative, "
            + "and the frequency prior (training frequency as the score, the two most frequent genres as labels).",
        "Exit codes: 0 done; 1 unexpected error; 2 bad option; 3 input missing; 4 model unusable."})
public final class EvaluateCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @Option(names = "--model", paramLabel = "DIR", defaultValue = "models/mobilenet-poster",
      description = "Model directory (SavedModel + model.json). Default: ${DEFAULT-VALUE}.")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  LabelledPosters input;

  @Option(names = "--split", paramLabel = "SPLIT",
      description = "validation: the posters of the model's validation.txt (held out in training); out-of-fold: a model "
              + "trained with --folds, each poster with the scores of the fold head that never saw it (no scoring); all: every "
              + "labelled poster. Default: what the model held out (validation, else out-of-fold).")
  String split;

  @Option(names = "--compare-with", paramLabel = "DIR",
      description = "Another model (e.g. the previous default) evaluated on the same dataset: both are shown side by side on "
              + "the posters that both held out (its validation.txt or out-of-fold scores), with bootstrap spreads.")
  Path compareWith;

  @Option(names = "--rule-study",
      description = "With --split out-of-fold: also show how other decision rules (assignment cap 1.1/1.2/1.3/1.5 pooled, 1.2/1.3 on every fold, one genre fewer or "
              + "more per poster, macro-F1 weighted once or twice) would do, each calibrated on all folds but one and scored on that one.")
  boolean ruleStudy;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write every figure as JSON to FILE.")
  Path json;

  @Mixin SharedOptions.Bf16 bf16;

  @Option(names = "--read-text",
      description = "Score as 'label --read-text' does: the model's text stage (text/) reads each poster and is blended in, with its"
          + " thresholds. Not with --split out-of-fold (the text stage's cross-validated figures are in text/text.json).")
  boolean readText;

  @Option(names = "--scores", paramLabel = "CSV",
      description = "Also write every evaluated poster's scores to CSV: path, labelled genres (|-separated), one column per genre.")
  Path scoresCsv;

  @Mixin SharedOptions.BatchSize batchSize;

  @Mixin SharedOptions.Threads threads;

  @Mixin SharedOptions.MaxPixels maxPixels;

  /** {@code --json FILE} must be writable, checked before the scoring rather than after it. */
  static void checkJson(Path json) {
    if (json == null) return;
    if (json.toString().isBlank()) throw new PosterGenresException(Failure.USAGE, "--json must not be empty; name a file to write");
    if (Files.isDirectory(json)) throw new PosterGenresException(Failure.USAGE, "--json " + json + " is a folder; name a file");
    Path q = io.postergenres.job.RunSetup.nearestExisting(json.toAbsolutePath().getParent());
    if (q != null && (!Files.isDirectory(q) || !Files.isWritable(q))) {
      throw new PosterGenresException(Failure.INPUT, "--json " + json + " cannot be written: " + q
          + (Files.isDirectory(q) ? " is not writable" : " is a file, not a folder"));
    }
    if (Files.exists(json) && !Files.isWritable(json)) throw new PosterGenresException(Failure.INPUT, "--json " + json + " is not writable");
  }

  /** The split a model held out: its validation.txt, else its out-of-fold scores (validation when it has neither, to say so). */
  static String heldOutSplit(Path modelDir) {
    if (Files.isRegularFile(modelDir.resolve(Evaluator.VALIDATION_LIST))) return "validation";
    return Files.isRegularFile(modelDir.resolve(Evaluator.OUT_OF_FOLD_SCORES)) ? Evaluator.OUT_OF_FOLD : "validation";
  }

  @Override
  public Integer call() throws IOException {
    verbosity.apply();
    model = Path.of(ModelOption.resolve(model.toString())); // the installed default, from any directory
    checkJson(json);
    Evaluator.Options options;
    try {
      options = new Evaluator.Options(model, split != null ? split.toLowerCase(Locale.ROOT) : heldOutSplit(model), batchSize.batchSize, threads.threads, maxPixels.maxPixels, bf16.bf16, readText);
    } catch (IllegalArgumentException e) {
      throw new PosterGenresException(Failure.USAGE, e.getMessage());
    }
    if (!Files.isDirectory(model)) {
      throw new PosterGenresException(Failure.MODEL, "--model " + model + " is not a directory");
    }
    LabelledPosters.Read posters = input.read();
    CcuDataset.Loaded data = posters.data();
    Path root = posters.root();
    Evaluator.Result result;
    try {
      result = Evaluator.run(data, root, options);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, e.getMessage(), e);
    }
    Map<String, Object> crossValidated = null;
    if (options.split().equals(Evaluator.OUT_OF_FOLD)) {
      try {
        crossValidated = Evaluator.crossValidated(result, model, root);
      } catch (IOException e) {
        throw new PosterGenresException(Failure.INPUT, e.getMessage(), e);
      }
      if (crossValidated != null) result.report().put("cross_validated", crossValidated);
    }
    Evaluator.RuleStudyResult study = null;
    if (ruleStudy) {
      if (!options.split().equals(Evaluator.OUT_OF_FOLD)) {
        throw new PosterGenresException(Failure.USAGE, "--rule-study needs --split out-of-fold (a model trained with --folds); the split is " + options.split());
      }
      try {
        study = Evaluator.ruleStudy(result, model, root);
      } catch (IOException e) {
        throw new PosterGenresException(Failure.INPUT, e.getMessage(), e);
      }
      result.report().put("rule_study", RuleStudy.toMaps(study.rows()));
      if (study.shares() != null) result.report().put("held_out_shares", sharesMap(result.genres(), study.shares()));
    }
    Evaluator.Comparison comparison = null;
    if (compareWith != null) {
      if (!Files.isDirectory(compareWith)) throw new PosterGenresException(Failure.MODEL, "--compare-with " + compareWith + " is not a directory");
      String otherSplit = heldOutSplit(compareWith);
      try {
        Evaluator.Result other = Evaluator.run(data, root, new Evaluator.Options(compareWith, otherSplit, options.batchSize(),
            options.threads(), options.maxPixels(), options.bf16()));
        comparison = Evaluator.compare(data, result, other);
      } catch (IOException e) {
        throw new PosterGenresException(Failure.INPUT, "--compare-with " + compareWith + ": " + e.getMessage(), e);
      } catch (IllegalArgumentException e) {
        throw new PosterGenresException(Failure.USAGE, "--compare-with " + compareWith + ": " + e.getMessage(), e);
      }
      result.report().put("comparison", comparison.toMap());
    }
    PrintWriter out = commandSpec.commandLine().getOut();
    Map<String, Object> r = result.report();
    Map<?, ?> d = (Map<?, ?>) r.get("data");
    Map<?, ?> m = (Map<?, ?>) r.get("model");
    out.printf(Locale.ROOT, "Evaluated %s posters of %s with %s %s (split %s: %s) in %s s%n",
        d.get("posters_evaluated"), d.get("source"), m.get("name"), m.get("version"), options.split(), d.get("selection"), r.get("seconds"));
    if (((Number) d.get("unreadable")).intValue() > 0) out.printf("  %s posters could not be read and were skipped%n", d.get("unreadable"));
    out.printf("  prior: %s%n", ((Map<?, ?>) r.get("prior")).get("source"));
    if (d.get("caveat") != null) out.printf("  note: %s%n", d.get("caveat"));
    out.println();
    out.print(result.evaluation().table());
    if (crossValidated != null) {
      out.println();
      out.printf("Cross-validated: each fold scored with thresholds calibrated on the other folds under the model's rule (%s);%n",
          crossValidated.get("rule"));
      out.println("mean ± sd over the folds (the figures above pool all folds under the shipped thresholds, chosen on them all):");
      Map<?, ?> summary = (Map<?, ?>) crossValidated.get("summary");
      for (Map.Entry<?, ?> e : summary.entrySet()) out.printf(Locale.ROOT, "  %-36s %s%n", e.getKey(), e.getValue());
      for (Object f : (List<?>) crossValidated.get("folds")) {
        Map<?, ?> row = (Map<?, ?>) f;
        out.printf(Locale.ROOT, "  fold %s (%s posters): micro-F1 %.4f, macro-F1 %.4f, most over-assigned %.2f (%s)%n", row.get("fold"),
            row.get("posters"), ((Number) row.get("micro_f1")).doubleValue(), ((Number) row.get("macro_f1")).doubleValue(),
            ((Number) row.get("most_over_assigned")).doubleValue(), row.get("most_over_assigned_genre"));
      }
    }
    if (comparison != null) {
      out.println();
      out.print(comparison.table());
    }
    if (study != null) {
      out.println();
      out.println("Decision rules, each calibrated on all folds but one and scored on that one (mean ± sd over the folds;");
      out.println("most over-assigned: posters given a genre / posters that have it, genres with 10+ in the fold):");
      out.print(RuleStudy.table(study.rows()));
      out.println();
      if (study.shares() == null) {
        out.println("(This model's model.json does not name the cap its thresholds were calibrated under, so its own rule's");
        out.println("held-out shares per genre are not shown.)");
      } else {
        out.printf(Locale.ROOT, "The model's own rule (%s) per genre: posters given the genre in each held-out fold over%n", study.modelRule().describe());
        out.println("the posters expected to have it there; rare genres swing most, so read their counts with this spread:");
        out.print(RuleStudy.sharesTable(result.genres(), study.labels(), study.shares()));
      }
    }
    if (json != null) {
      Path parent = json.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), r);
      out.printf("%nwrote %s%n", json);
    }
    if (scoresCsv != null) {
      Path parent = scoresCsv.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.write(scoresCsv, result.scoresCsv(), StandardCharsets.UTF_8);
      out.printf("wrote %s%n", scoresCsv);
    }
    out.flush();
    return ExitCode.OK.code();
  }

  /** Per genre, its share on each held-out fold, for the JSON report. */
  private static Map<String, List<Double>> sharesMap(List<String> genres, double[][] shares) {
    Map<String, List<Double>> out = new LinkedHashMap<>();
    for (int j = 0; j < genres.size(); j++) {
      List<Double> perFold = new ArrayList<>();
      for (double[] f : shares) perFold.add(Double.isNaN(f[j]) ? null : Math.round(f[j] * 1000) / 1000.0);
      out.put(genres.get(j), perFold);
    }
    return out;
  }
}
