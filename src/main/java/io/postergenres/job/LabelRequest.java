package io.postergenres.job;

import io.postergenres.errors.Redaction;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code label} run is asked to do, as the driver sees it after options and the
 * config file are merged. Driver-only.
 *
 * @param inputs files, directories or globs on any Hadoop file system (listed); empty when {@code inputLists} is given
 * @param output where the Parquet labels go
 * @param model model directory on any Hadoop file system
 * @param glob file-name glob kept from the inputs, matched case-insensitively
 * @param mode what to do when the output exists
 * @param partitions Spark partitions to label in; 0 picks from the number of files
 * @param maxFailureRatio fraction of failed posters above which the run reports failure
 * @param thresholds per-genre threshold overrides
 * @param minGenres override of model.json's least genres per poster, or null
 * @param maxGenres override of model.json's most genres per poster, or null
 * @param inputLists inventories read instead of listing {@code inputs} ({@link Inventory}); empty to list
 */
public record LabelRequest(
    List<String> inputs,
    String output,
    String model,
    String glob,
    WriteMode mode,
    int partitions,
    double maxFailureRatio,
    Map<String, Double> thresholds,
    Integer minGenres,
    Integer maxGenres,
    LabelOptions options,
    List<String> inputLists) {

  /** @throws io.postergenres.errors.PosterGenresException (usage) for a URI with user-info (credentials) */
  public LabelRequest {
    inputs = List.copyOf(inputs);
    for (String input : inputs) Redaction.refuseUserInfo("--input", input);
    Redaction.refuseUserInfo("--output", output);
    Redaction.refuseUserInfo("--model", model);
    thresholds = thresholds == null ? Map.of() : Map.copyOf(thresholds);
    inputLists = inputLists == null ? List.of() : List.copyOf(inputLists);
  }

  /** A request that lists {@code inputs} (no inventory). */
  public LabelRequest(List<String> inputs, String output, String model, String glob, WriteMode mode, int partitions,
      double maxFailureRatio, Map<String, Double> thresholds, Integer minGenres, Integer maxGenres, LabelOptions options) {
    this(inputs, output, model, glob, mode, partitions, maxFailureRatio, thresholds, minGenres, maxGenres, options, List.of());
  }

  /** Whether the files come from inventories rather than a listing. */
  public boolean fromInventory() {
    return !inputLists.isEmpty();
  }

  /** What the files come from, for the summary and messages: the inputs, or the inventories. */
  public List<String> sources() {
    return fromInventory() ? inputLists : inputs;
  }
}
