package io.postergenres.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code model.json} that sits beside a SavedModel: what the model's input and output mean.
 *
 * <p>The genres are listed in the order of the model's output columns; {@code thresholds} gives
 * each genre the score at or above which it is assigned; every poster gets at least {@code
 * minGenres} and at most {@code maxGenres} genres. {@code source} is free-form provenance
 * (training data, split, metrics) carried into the model card. Immutable and serializable.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelSpec(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("input_height") int inputHeight,
    @JsonProperty("input_width") int inputWidth,
    @JsonProperty("genres") List<String> genres,
    @JsonProperty("thresholds") Map<String, Double> thresholds,
    @JsonProperty("min_genres") int minGenres,
    @JsonProperty("max_genres") int maxGenres,
    @JsonProperty("source") Map<String, Object> source,
    @JsonProperty("rank_by") String rankBy)
    implements Serializable {

  public static final String FILE_NAME = "model.json";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** A spec whose genres are ranked by score (what a model.json without {@code rank_by} means). */
  public ModelSpec(String name, String version, int inputHeight, int inputWidth, List<String> genres, Map<String, Double> thresholds,
      int minGenres, int maxGenres, Map<String, Object> source) {
    this(name, version, inputHeight, inputWidth, genres, thresholds, minGenres, maxGenres, source, null);
  }

  public ModelSpec {
    genres = genres == null ? null : List.copyOf(genres);
    thresholds = thresholds == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(thresholds));
    source = source == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(source));
  }

  /** Parses and validates model.json text; {@code where} names the file in messages. */
  public static ModelSpec parse(byte[] json, String where) {
    ModelSpec spec;
    try {
      spec = JSON.readValue(json, ModelSpec.class);
    } catch (IOException e) {
      throw new ModelException(where + " is not valid model.json: " + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
    }
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new ModelException(where + " is invalid: " + String.join("; ", problems));
    }
    return spec;
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise model.json", e);
    }
  }

  /** Every way this spec breaks the contract, as messages that say what to change. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (name == null || name.isBlank()) p.add("\"name\" is missing");
    if (version == null || version.isBlank()) p.add("\"version\" is missing");
    if (inputHeight <= 0 || inputWidth <= 0) {
      p.add("\"input_height\" and \"input_width\" must be positive, got " + inputHeight + "x" + inputWidth);
    }
    if (genres == null || genres.isEmpty()) {
      p.add("\"genres\" must list the model's output labels in order");
      return p;
    }
    Set<String> seen = new HashSet<>();
    for (String g : genres) {
      if (g == null || g.isBlank()) p.add("\"genres\" has an empty label");
      else if (!seen.add(g)) p.add("\"genres\" lists " + g + " twice");
    }
    if (thresholds == null) {
      p.add("\"thresholds\" must give a threshold for each genre");
    } else {
      for (String g : genres) {
        Double t = thresholds.get(g);
        if (t == null) p.add("\"thresholds\" has no entry for " + g);
        else if (!(t >= 0 && t <= 1)) p.add("threshold of " + g + " must be in [0, 1], got " + t);
      }
      for (String g : thresholds.keySet()) {
        if (!seen.contains(g)) p.add("\"thresholds\" names " + g + ", which is not in \"genres\"");
      }
    }
    if (minGenres < 0) p.add("\"min_genres\" must be 0 or more, got " + minGenres);
    if (maxGenres < 1 || maxGenres > genres.size()) {
      p.add("\"max_genres\" must be between 1 and " + genres.size() + ", got " + maxGenres);
    }
    try {
      GenreRules.Ranking ranking = GenreRules.Ranking.parse(rankBy);
      // Training records the ranking its thresholds were calibrated for; another gives other genres.
      if (decisionRule().get("rank_by") instanceof String calibrated
          && !calibrated.equals(ranking.jsonName())) {
        p.add("the thresholds were calibrated for \"rank_by\": \"" + calibrated + "\" (source.decision_rule) but the model ranks by "
            + (rankBy == null ? "score (no top-level \"rank_by\")" : "\"" + rankBy + "\"") + "; set the top-level \"rank_by\" to \""
            + calibrated + "\"");
      }
    } catch (IllegalArgumentException e) {
      p.add("\"rank_by\" must be \"score\" or \"threshold_ratio\", got \"" + rankBy + "\"");
    }
    if (minGenres > maxGenres) p.add("\"min_genres\" (" + minGenres + ") is over \"max_genres\" (" + maxGenres + ")");
    return p;
  }

  /** Where in {@code source} training records how the thresholds were calibrated. */
  public static final String DECISION_RULE = "decision_rule";

  /** {@code source.decision_rule} as training wrote it (rank_by, assignment_cap, ...); empty for models that do not say. */
  public Map<?, ?> decisionRule() {
    return source != null && source.get(DECISION_RULE) instanceof Map<?, ?> rule ? rule : Map.of();
  }

  /**
   * Where {@code source} lists the earlier versions of this model whose scores are this one's: the
   * same network, only the thresholds or rules chosen again ({@code calibrate}). Rows they labelled
   * need only their genres decided again from their scores.
   */
  public static final String SAME_SCORES_AS = "same_scores_as";

  /** {@code source.same_scores_as}: versions with this model's scores (same name); empty when none. */
  public List<String> sameScoresAs() {
    if (source == null || !(source.get(SAME_SCORES_AS) instanceof List<?> versions)) return List.of();
    List<String> out = new ArrayList<>();
    for (Object v : versions) if (v instanceof String s && !s.isBlank()) out.add(s);
    return List.copyOf(out);
  }

  /** How genres over their thresholds are ranked for the {@code max_genres} cut. */
  public GenreRules.Ranking ranking() {
    return GenreRules.Ranking.parse(rankBy);
  }

  /** Thresholds in output order. */
  public float[] thresholdArray() {
    float[] t = new float[genres.size()];
    for (int i = 0; i < t.length; i++) t[i] = thresholds.get(genres.get(i)).floatValue();
    return t;
  }

  /** The same spec with other thresholds (genre to threshold), for overrides from the command line. */
  public ModelSpec withVersion(String newVersion) {
    return new ModelSpec(name, newVersion, inputHeight, inputWidth, genres, thresholds, minGenres, maxGenres, source, rankBy);
  }

  public ModelSpec withThresholds(Map<String, Double> newThresholds) {
    return new ModelSpec(name, version, inputHeight, inputWidth, genres, newThresholds, minGenres, maxGenres, source, rankBy);
  }

  public ModelSpec withGenreBounds(int min, int max) {
    return new ModelSpec(name, version, inputHeight, inputWidth, genres, thresholds, min, max, source, rankBy);
  }

  public ModelSpec withSource(Map<String, Object> newSource) {
    return new ModelSpec(name, version, inputHeight, inputWidth, genres, thresholds, minGenres, maxGenres, newSource, rankBy);
  }
}
