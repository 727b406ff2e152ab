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
  void rejectsInconsistentSettings() {
    assertThrows(IllegalArgumentException.class, () -> new GenreRules(G, new float[3], 0, 2));
    assertThrows(IllegalArgumentException.class, () -> new GenreRules(G, new float[4], 3, 2));
  }
}
