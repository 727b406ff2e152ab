package io.postergenres.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The statistics of {@code bench} on known inputs: medians, spreads, the flag, the fixed/marginal fit. */
class MeasurementsTest {
  @Test
  void medianMinMaxOfAnOddAndAnEvenCount() {
    Measurements.Spread odd = Measurements.of(158.2, 144.7, 186.8);
    assertEquals(158.2, odd.median());
    assertEquals(144.7, odd.min());
    assertEquals(186.8, odd.max());
    assertEquals(3, odd.n());
    Measurements.Spread even = Measurements.of(4, 1, 3, 2);
    assertEquals(2.5, even.median());
    assertEquals(1, even.min());
    assertEquals(4, even.max());
    assertEquals(List.of(4.0, 1.0, 3.0, 2.0), java.util.Arrays.stream(even.values()).boxed().toList(), "kept in the order taken");
  }

  @Test
  void aMedianIgnoresOneDisturbedMeasurementWhereBestOfWouldNot() {
    // the "without Spark" column: 83.5 was a disturbed run
    Measurements.Spread s = Measurements.of(139.3, 83.5, 153.7, 138.9);
    assertEquals(139.1, s.median(), 1e-9);
    assertEquals((153.7 - 83.5) / 139.1, s.spread(), 1e-9);
    assertTrue(s.wide(), "0.50 of the median is too wide to trust");
  }

  @Test
  void spreadFlaggedOnlyAboveTheLimit() {
    assertFalse(Measurements.of(100, 110, 105).wide(), "0.10 is within " + Measurements.WIDE);
    assertEquals(0.10 / 1.05, Measurements.of(100, 110, 105).spread(), 1e-9);
    assertFalse(Measurements.of(100, 120, 100).wide(), "exactly 0.20 is not over it");
    assertTrue(Measurements.of(100, 121, 100).wide());
    assertEquals(0, Measurements.of(42).spread());
    assertFalse(Measurements.of(42).wide());
    assertTrue(Measurements.of(42).describe("%.1f").contains("one measurement"));
  }

  @Test
  void describesMedianRangeAndFlag() {
    assertEquals("139.1 [83.5-153.7]  50% !", Measurements.of(139.3, 83.5, 153.7, 138.9).describe("%.1f"));
    assertEquals("105.0 [100.0-110.0]  10%", Measurements.of(100, 110, 105).describe("%.1f"));
    assertEquals("   105.0 [100.0-110.0]  10%", Measurements.of(100, 110, 105).describe("%8.1f"), "the median aligned, the range tight");
  }

  @Test
  void jsonCarriesTheMedianUnderTheGivenKeyAndEveryMeasurement() {
    Map<String, Object> json = Measurements.of(3, 1, 2).toJson("posters_per_second");
    assertEquals(2.0, json.get("posters_per_second"));
    assertEquals(1.0, json.get("min"));
    assertEquals(3.0, json.get("max"));
    assertEquals(3, json.get("measurements"));
    assertEquals(1.0, json.get("spread"));
    assertEquals(true, json.get("spread_too_wide"));
  }

  @Test
  void refusesNoMeasurementAndNaN() {
    assertThrows(IllegalArgumentException.class, Measurements::of);
    assertThrows(IllegalArgumentException.class, () -> Measurements.of(1, Double.NaN));
  }

  @Test
  void fitRecoversFixedPartAndMarginalRateExactly() {
    // 2 s per run plus 50 posters per second
    double[] sizes = {125, 250, 500};
    double[] seconds = {2 + 125 / 50.0, 2 + 250 / 50.0, 2 + 500 / 50.0};
    Measurements.Fit fit = Measurements.fit(sizes, seconds);
    assertEquals(2.0, fit.fixedSeconds(), 1e-9);
    assertEquals(50.0, fit.marginalRate(), 1e-9);
    assertEquals(2 + 4 / 50.0, fit.secondsFor(4), 1e-9, "a run of 4 posters is almost all fixed part");
  }

  @Test
  void fitOfTwoSizesIsTheLineThroughThem() {
    Measurements.Fit fit = Measurements.fit(new double[] {100, 1000}, new double[] {3.0, 12.0});
    assertEquals(2.0, fit.fixedSeconds(), 1e-9);
    assertEquals(100.0, fit.marginalRate(), 1e-9);
  }

  @Test
  void fitIsLeastSquaresOverRepeatedSizes() {
    // two runs at each size, 0.5 s either side of 1 s + n/100
    Measurements.Fit fit = Measurements.fit(new double[] {100, 100, 300, 300}, new double[] {1.5, 2.5, 3.5, 4.5});
    assertEquals(1.0, fit.fixedSeconds(), 1e-9);
    assertEquals(100.0, fit.marginalRate(), 1e-9);
  }

  @Test
  void fitNeedsTwoSizesAndSaysSo() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Measurements.fit(new double[] {500, 500}, new double[] {10, 11}));
    assertTrue(e.getMessage().contains("at least two sizes"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Measurements.fit(new double[] {1, 2}, new double[] {1}));
  }

  @Test
  void fitOfRunsThatDidNotGrowHasNoFiniteRate() {
    Measurements.Fit fit = Measurements.fit(new double[] {10, 20}, new double[] {5, 5});
    assertEquals(Double.POSITIVE_INFINITY, fit.marginalRate());
    assertEquals(5.0, fit.fixedSeconds(), 1e-9);
  }
}
