package io.postergenres.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationTest {
  private static final List<String> GENRES = List.of("A", "B", "C");

  /** 4 posters x 3 genres; A is ranked perfectly, B no better than chance, C never present. */
  private static final float[] LABELS = {
    1, 0, 0,
    1, 1, 0,
    0, 1, 0,
    0, 0, 0,
  };
  private static final float[] SCORES = {
    0.9f, 0.1f, 0.2f,
    0.8f, 0.2f, 0.1f,
    0.2f, 0.3f, 0.3f,
    0.1f, 0.9f, 0.4f,
  };

  private static Evaluation eval(int min, int max) {
    return Evaluation.compute(SCORES, LABELS, GENRES, new float[] {0.5f, 0.5f, 0.5f}, min, max, new float[] {0.3f, 0.6f, 0.1f});
  }

  @Test
  void perGenreRankingAndThresholdFigures() {
    Evaluation e = eval(0, 3);
    Evaluation.GenreRow a = e.rows().get(0);
    assertEquals(2, a.support());
    assertEquals(1.0, a.rocAuc(), 1e-9);
    assertEquals(1.0, a.averagePrecision(), 1e-9);
    assertEquals(1.0, a.f1(), 1e-9); // 0.9 and 0.8 over 0.5, both positive
    Evaluation.GenreRow b = e.rows().get(1);
    assertEquals(0.5, b.rocAuc(), 1e-9); // positives 0.2, 0.3 against negatives 0.1, 0.9
    assertEquals(0.0, b.f1(), 1e-9); // only poster 4 (a negative) is over 0.5
    assertEquals(0.0, b.recall(), 1e-9);
    Evaluation.GenreRow c = e.rows().get(2);
    assertEquals(0, c.support());
    assertTrue(Double.isNaN(c.rocAuc()));
    assertTrue(Double.isNaN(c.f1())); // no label, no prediction: not in macro F1
    // decisions: A,A,-,B -> tp 2 (A), fp 1 (B), fn 2 (B) -> micro F1 = 4 / (4 + 1 + 2)
    assertEquals(4.0 / 7, e.model().microF1(), 1e-9);
    assertEquals((1.0 + 0.0) / 2, e.model().macroF1(), 1e-9);
    assertEquals((1.0 + 0.5) / 2, e.model().macroRocAuc(), 1e-9);
    assertEquals(9.0 / 12, e.model().binaryAccuracy(), 1e-9);
  }

  @Test
  void genreRulesTopUpAndCut() {
    // min 1: poster 3 gets its best genre (B or C at 0.3: B, output order wins ties) -> B becomes a true positive
    Evaluation e = eval(1, 1);
    assertEquals(2, e.rows().get(1).predicted());
    assertEquals(1.0, e.rows().get(1).recall() * 2, 1e-9);
    assertEquals(1.0, e.model().meanGenresAssigned(), 1e-9);
  }

  @Test
  void baselines() {
    Evaluation e = eval(0, 3);
    Evaluation.Summary neg = e.allNegative();
    assertEquals(8.0 / 12, neg.binaryAccuracy(), 1e-9);
    assertEquals(0.0, neg.microF1(), 1e-9);
    assertEquals(0.5, neg.macroRocAuc(), 1e-9);
    assertEquals(0.5, neg.meanAveragePrecision(), 1e-9); // prevalence of A and B: 2/4 each
    Evaluation.Summary prior = e.prior();
    assertEquals(List.of("B", "A"), e.priorTop());
    // top-2 labels A and B on every poster: tp 4, fp 4, fn 0
    assertEquals(8.0 / 12, prior.microF1(), 1e-9);
    assertEquals(8.0 / 12, prior.binaryAccuracy(), 1e-9);
    assertEquals(0.5, prior.macroRocAuc(), 1e-9);
    assertEquals(0.5, e.rows().get(0).priorAveragePrecision(), 1e-9);
    assertEquals(2.0, prior.meanGenresAssigned(), 1e-9);
  }

  @Test
  void mapHoldsEverythingAndTableNamesEachGenre() {
    Evaluation e = eval(1, 2);
    Map<String, Object> m = e.toMap();
    Map<?, ?> overall = (Map<?, ?>) m.get("overall");
    for (String k : List.of("model", "all_negative", "frequency_prior")) assertTrue(overall.containsKey(k), k);
    Map<?, ?> c = (Map<?, ?>) ((Map<?, ?>) m.get("per_genre")).get("C");
    assertNull(c.get("roc_auc"));
    assertEquals(0, c.get("support"));
    String table = e.table();
    for (String g : GENRES) assertTrue(table.contains("\n" + g + " "), table);
    assertTrue(table.contains("all negative") && table.contains("prior, labels B+A"), table);
  }
}
