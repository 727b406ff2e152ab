package io.postergenres.metrics;

import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelSpec;
import java.util.Locale;
import java.util.Map;

/**
 * How a model's thresholds were (or are to be) chosen by {@link RuleCalibration}: no genre given to
 * more than {@code cap} times the posters that have it, either on the calibration posters pooled or
 * on each of their folds ({@code capOnEveryFold}), and (with a {@code floor} over 0) every genre of
 * {@link RuleCalibration#FLOOR_MIN_POSTERS} or more posters given to at least {@code floor} times
 * them. model.json keeps it in {@code source.decision_rule} ({@link RuleStudy#CAP_KEY}, {@link
 * #EVERY_FOLD_KEY}, {@link RuleStudy#FLOOR_KEY}).
 */
public record CalibrationRule(double cap, boolean capOnEveryFold, double floor) {
  /** Where model.json says the cap held on every calibration fold: {@code source.decision_rule.cap_on_every_fold}. */
  public static final String EVERY_FOLD_KEY = "cap_on_every_fold";

  public CalibrationRule {
    if (!(cap >= 1 && cap <= 3)) throw new IllegalArgumentException("--assignment-cap must be 1 to 3, got " + cap);
    if (!(floor >= 0 && floor < 1)) throw new IllegalArgumentException("--assignment-floor must be 0 (none) or more, under 1, got " + floor);
  }

  /** A rule without a floor, as every model before 3.3.1 was calibrated. */
  public CalibrationRule(double cap, boolean capOnEveryFold) {
    this(cap, capOnEveryFold, 0);
  }

  /** The rule model.json names, or null where it names no cap (models before 3.0.0). */
  public static CalibrationRule of(ModelSpec spec) {
    Map<?, ?> rule = spec.decisionRule();
    if (!(rule.get(RuleStudy.CAP_KEY) instanceof Number cap)) return null;
    double floor = rule.get(RuleStudy.FLOOR_KEY) instanceof Number f ? f.doubleValue() : 0;
    return new CalibrationRule(cap.doubleValue(), Boolean.TRUE.equals(rule.get(EVERY_FOLD_KEY)), floor);
  }

  /**
   * Thresholds for {@code scores} [n, g] under this rule; {@code folds} are the rows' folds (used
   * only when the cap must hold on every fold, and then required).
   */
  public float[] calibrate(float[] scores, float[] labels, int g, int maxGenres, GenreRules.Ranking ranking, int[] folds) {
    if (capOnEveryFold && folds == null) throw new IllegalArgumentException("a cap on every calibration fold needs the rows' folds");
    return RuleCalibration.calibrate(scores, labels, g, 1, maxGenres, ranking, cap, floor, 1.0, capOnEveryFold ? folds : null);
  }

  /** Writes the rule into model.json's {@code source.decision_rule} map. */
  public void putInto(Map<String, Object> decisionRule) {
    decisionRule.put(RuleStudy.CAP_KEY, cap);
    decisionRule.put(EVERY_FOLD_KEY, capOnEveryFold);
    if (floor > 0) decisionRule.put(RuleStudy.FLOOR_KEY, floor);
    else decisionRule.remove(RuleStudy.FLOOR_KEY);
  }

  /** "no genre given to more than 1.2 times the posters that have it on any calibration fold". */
  public String describe() {
    return String.format(Locale.ROOT, "no genre given to more than %s times the posters that have it%s%s", stripZeros(cap),
        capOnEveryFold ? " on any calibration fold (genres with 10 or more posters in the fold)" : "",
        floor > 0 ? ", nor to fewer than " + stripZeros(floor) + " times them on all calibration posters (genres with " + RuleCalibration.FLOOR_MIN_POSTERS + " or more)" : "");
  }

  /** The {@link RuleStudy} setting of this rule with 1 to {@code maxGenres} genres. */
  public RuleStudy.Setting setting(int maxGenres) {
    return new RuleStudy.Setting(cap, maxGenres, 1, capOnEveryFold, floor);
  }

  private static String stripZeros(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }
}
