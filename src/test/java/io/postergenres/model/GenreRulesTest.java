package io.postergenres.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class GenreRulesTest {
  private static final List<String> G = List.of("Action", "Comedy", "Drama", "Horror");

  @Test
  void everyGenreOverItsThresholdBestFirst() {
    GenreRules rules = new GenreRules(G, new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 0, 4);
    assertEquals(List.of("Drama", "Action"), rules.assign(new float[] {0.6f, 0.2f, 0.9f, 0.49f}, 0));
  }

  @Test
  void thresholdIsInclusiveAndPerGenre() {
    GenreRules rules = new GenreRules(G, new float[] {0.7f, 0.1f, 0.5f, 0.3f}, 0, 4);
    assertEquals(List.of("Action", "Horror", "Comedy"), rules.assign(new float[] {0.7f, 0.1f, 0.49f, 0.3f}, 0));
  }

  @Test
  void topsUpToMinFromTheBestOfTheRest() {
    GenreRules rules = new GenreRules(G, new float[] {0.9f, 0.9f, 0.9f, 0.9f}, 2, 3);
    assertEquals(List.of("Horror", "Comedy"), rules.assign(new float[] {0.1f, 0.3f, 0.2f, 0.4f}, 0));
  }

  @Test
  void aGenreOverItsThresholdBeatsABetterScoredFiller() {
    // Comedy scores lower than Action but is over its own (low) threshold; min 1 needs no filler.
    GenreRules rules = new GenreRules(G, new float[] {0.9f, 0.2f, 0.9f, 0.9f}, 1, 4);
    assertEquals(List.of("Comedy"), rules.assign(new float[] {0.5f, 0.3f, 0.1f, 0.1f}, 0));
  }

  @Test
  void cutsToMaxKeepingTheBest() {
    GenreRules rules = new GenreRules(G, new float[] {0.1f, 0.1f, 0.1f, 0.1f}, 1, 2);
    assertEquals(List.of("Horror", "Action"), rules.assign(new float[] {0.8f, 0.5f, 0.6f, 0.95f}, 0));
  }

  @Test
  void readsItsRowAtTheOffset() {
    GenreRules rules = new GenreRules(G, new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 0, 4);
    float[] two = {0.9f, 0f, 0f, 0f, 0f, 0f, 0f, 0.9f};
    assertEquals(List.of("Action"), rules.assign(two, 0));
    assertEquals(List.of("Horror"), rules.assign(two, 4));
  }

  @Test
  void zeroMinAllowsNoGenre() {
    GenreRules rules = new GenreRules(G, new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 0, 3);
    assertEquals(List.of(), rules.assign(new float[] {0.1f, 0.1f, 0.1f, 0.1f}, 0));
  }

  @Test
  void rankingByThresholdRatioKeepsARareGenreWellOverItsBar() {
    // Drama 0.62 is just over its bar (0.6), Horror 0.5 is twice its (0.25): with one slot,
    // ranking by score gives Drama, ranking by score over threshold gives Horror.
    float[] t = {0.9f, 0.9f, 0.6f, 0.25f};
    float[] s = {0.1f, 0.1f, 0.62f, 0.5f};
    assertEquals(List.of("Drama"), new GenreRules(G, t, 1, 1).assign(s, 0));
    assertEquals(List.of("Drama"), new GenreRules(G, t, 1, 1, GenreRules.Ranking.SCORE).assign(s, 0));
    assertEquals(List.of("Horror"), new GenreRules(G, t, 1, 1, GenreRules.Ranking.THRESHOLD_RATIO).assign(s, 0));
    // Both fit under max 2: the same genres, ordered by the ranking.
    assertEquals(List.of("Horror", "Drama"), new GenreRules(G, t, 1, 2, GenreRules.Ranking.THRESHOLD_RATIO).assign(s, 0));
    // None over its bar: the top-up takes the best of the rest by the same ranking (Comedy 0.4/0.5 by ratio).
    float[] none = {0.5f, 0.4f, 0.3f, 0.1f};
    float[] t2 = {0.9f, 0.5f, 0.6f, 0.9f};
    assertEquals(List.of("Comedy"), new GenreRules(G, t2, 1, 3, GenreRules.Ranking.THRESHOLD_RATIO).assign(none, 0));
    assertEquals(List.of("Action"), new GenreRules(G, t2, 1, 3, GenreRules.Ranking.SCORE).assign(none, 0));
  }

  @Test
  void modelJsonChoosesTheRankingAndOlderFilesRankByScore() {
    ModelSpec old = ModelSpec.parse(("{\"name\":\"m\",\"version\":\"1\",\"input_height\":8,\"input_width\":8,"
        + "\"genres\":[\"A\",\"B\"],\"thresholds\":{\"A\":0.5,\"B\":0.1},\"min_genres\":1,\"max_genres\":1}").getBytes(), "old");
    assertEquals(GenreRules.Ranking.SCORE, old.ranking());
    assertEquals(List.of("A"), GenreRules.of(old).assign(new float[] {0.6f, 0.3f}, 0));
    ModelSpec ratio = ModelSpec.parse(new String(old.toJson()).replace("\"min_genres\"", "\"rank_by\" : \"threshold_ratio\", \"min_genres\"")
        .getBytes(), "new");
    assertEquals(GenreRules.Ranking.THRESHOLD_RATIO, ratio.ranking());
    assertEquals(List.of("B"), GenreRules.of(ratio).assign(new float[] {0.6f, 0.3f}, 0));
    assertTrue(new String(ratio.toJson()).contains("\"rank_by\" : \"threshold_ratio\""), new String(ratio.toJson()));
    assertFalse(new String(old.toJson()).contains("rank_by"), "an old model.json is written back as it was");
    ModelException e = assertThrows(ModelException.class, () -> ModelSpec.parse(new String(old.toJson())
        .replace("\"min_genres\"", "\"rank_by\" : \"alphabetical\", \"min_genres\"").getBytes(), "bad"));
    assertTrue(e.getMessage().contains("rank_by"), e.getMessage());
  }

  @Test
  void aModelJsonRankingOtherwiseThanItsThresholdsWereCalibratedForIsRefusedSayingWhatToSet() {
    String calibrated = "{\"name\":\"m\",\"version\":\"1\",\"input_height\":8,\"input_width\":8,"
        + "\"genres\":[\"A\",\"B\"],\"thresholds\":{\"A\":0.5,\"B\":0.1},\"min_genres\":1,\"max_genres\":1,"
        + "\"source\":{\"decision_rule\":{\"rank_by\":\"threshold_ratio\"}}";
    assertEquals(GenreRules.Ranking.THRESHOLD_RATIO, ModelSpec.parse((calibrated + ",\"rank_by\":\"threshold_ratio\"}").getBytes(), "ok").ranking());
    // What the fp16 conversion of 3.0.0 wrote: the top-level rank_by lost, so the job ranked by score.
    ModelException lost = assertThrows(ModelException.class, () -> ModelSpec.parse((calibrated + "}").getBytes(), "lost"));
    assertTrue(lost.getMessage().contains("calibrated for \"rank_by\": \"threshold_ratio\"")
        && lost.getMessage().contains("set the top-level \"rank_by\" to \"threshold_ratio\""), lost.getMessage());
    assertThrows(ModelException.class, () -> ModelSpec.parse((calibrated + ",\"rank_by\":\"score\"}").getBytes(), "other"));
  }

  @Test
  void rejectsInconsistentSettings() {
    assertThrows(IllegalArgumentException.class, () -> new GenreRules(G, new float[3], 0, 2));
    assertThrows(IllegalArgumentException.class, () -> new GenreRules(G, new float[4], 3, 2));
  }
}
