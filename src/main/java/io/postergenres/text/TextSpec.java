package io.postergenres.text;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code text/text.json} of a model directory: the optional text stage that reads the words on a
 * poster and adds {@code weight} x its per-genre logit to the image model's logit, with the
 * thresholds calibrated on those blended scores. The files it names lie beside it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TextSpec(
    @JsonProperty("version") String version,
    @JsonProperty("weight") double weight,
    @JsonProperty("genres") List<String> genres,
    @JsonProperty("thresholds") Map<String, Double> thresholds,
    @JsonProperty("detector") String detector,
    @JsonProperty("recogniser") String recogniser,
    @JsonProperty("characters") String characters,
    @JsonProperty("head") String head,
    @JsonProperty("image_model_fingerprint") String imageModelFingerprint,
    @JsonProperty("image_model_version") String imageModelVersion,
    @JsonProperty("source") Map<String, Object> source)
    implements Serializable {

  /** The folder of a model directory that holds the text stage. */
  public static final String DIR = "text";
  public static final String FILE_NAME = "text.json";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public TextSpec {
    genres = genres == null ? null : List.copyOf(genres);
    thresholds = thresholds == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(thresholds));
    source = source == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(source));
  }

  /**
   * Parses and checks text.json against the model's genres.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static TextSpec parse(byte[] json, List<String> modelGenres) {
    TextSpec spec;
    try {
      spec = JSON.readValue(json, TextSpec.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("text.json is not valid: "
          + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
    }
    List<String> problems = new ArrayList<>();
    if (spec.version == null || spec.version.isBlank()) problems.add("no version");
    if (spec.imageModelFingerprint == null || !spec.imageModelFingerprint.matches("[0-9a-f]{64}")) {
      problems.add("no image_model_fingerprint (the SHA-256 of the saved_model.pb and variables/ of the image model it was trained beside)");
    }
    if (spec.imageModelVersion == null || spec.imageModelVersion.isBlank()) {
      problems.add("no image_model_version (the version of the image model whose decision rule its thresholds follow)");
    }
    if (!(spec.weight > 0 && spec.weight <= 10)) problems.add("weight " + spec.weight + " is not in (0, 10]");
    if (spec.genres == null || !spec.genres.equals(modelGenres)) problems.add("its genres are not the model's, in the model's order");
    if (spec.thresholds == null || spec.genres == null || !spec.thresholds.keySet().equals(new java.util.HashSet<>(spec.genres))) {
      problems.add("it needs one threshold per genre");
    } else {
      spec.thresholds.forEach((g, t) -> {
        if (t == null || !(t >= 0 && t <= 1)) problems.add("threshold of " + g + " is not in [0, 1]");
      });
    }
    for (String[] f : new String[][] {{"detector", spec.detector}, {"recogniser", spec.recogniser}, {"characters", spec.characters},
        {"head", spec.head}}) {
      if (f[1] == null || f[1].isBlank() || f[1].contains("/") || f[1].contains("\\")) problems.add(f[0] + " must name a file beside text.json");
    }
    if (!problems.isEmpty()) throw new IllegalArgumentException("text.json is invalid: " + String.join("; ", problems));
    return spec;
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise text.json", e);
    }
  }

  /** The thresholds in the order of {@link #genres}. */
  public Map<String, Double> thresholdsInOrder() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String g : genres) m.put(g, thresholds.get(g));
    return m;
  }
}
