package io.postergenres.train;

import java.util.List;

/**
 * Settings of a training run ({@code train}'s options): the input size, the epoch loop's length,
 * batch and step, the seeded validation split, regularisation and weighting, and what the run may
 * use. Checked on construction, so a wrong value is a message naming the option.
 */
public record TrainingConfig(
    int imageSize,
    int epochs,
    int batchSize,
    float learningRate,
    double validationFraction,
    long seed,
    float dropout,
    String positiveWeighting,
    int threads,
    long maxPixels,
    double timeLimitMinutes,
    String version,
    String arch,
    boolean augment) {
  /** The postercnn settings with random horizontal flips: the constructor before --arch existed. */
  public TrainingConfig(int imageSize, int epochs, int batchSize, float learningRate, double validationFraction, long seed,
      float dropout, String positiveWeighting, int threads, long maxPixels, double timeLimitMinutes, String version) {
    this(imageSize, epochs, batchSize, learningRate, validationFraction, seed, dropout, positiveWeighting, threads,
        maxPixels, timeLimitMinutes, version, PosterCnn.ARCH, true);
  }

  public TrainingConfig {
    Architecture.parse(arch);
    if (imageSize < 16 || imageSize > 512) throw new IllegalArgumentException("--image-size must be 16 to 512, got " + imageSize);
    if (epochs < 1) throw new IllegalArgumentException("--epochs must be 1 or more, got " + epochs);
    if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be 1 or more, got " + batchSize);
    if (!(learningRate > 0 && learningRate < 1)) throw new IllegalArgumentException("--learning-rate must be in (0, 1), got " + learningRate);
    if (!(validationFraction > 0 && validationFraction < 1)) {
      throw new IllegalArgumentException("--validation-fraction must be in (0, 1), got " + validationFraction);
    }
    if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    if (!List.of("sqrt", "linear", "none").contains(positiveWeighting)) {
      throw new IllegalArgumentException("positive weighting must be sqrt, linear or none, got " + positiveWeighting);
    }
    if (threads < 0) throw new IllegalArgumentException("threads must be 0 (all cores) or more, got " + threads);
  }

  public static TrainingConfig defaults() {
    return new TrainingConfig(128, 12, 32, 1e-3f, 0.15, 42, 0.3f, "sqrt", 0, 50_000_000L, 0, "1.0.0");
  }

  /**
   * {@code --arch pretrained}: a frozen nsfwjs network at its input size (the image size here is
   * replaced by the backbone's), a head trained on
   * its features: Adam 0.001, batch 64, 60 epochs, dropout 0.5, sqrt positive weighting, flips.
   */
  public static TrainingConfig pretrainedDefaults() {
    return new TrainingConfig(224, 60, 64, 1e-3f, 0.15, 42, 0.5f, "sqrt", 0, 50_000_000L, 0, "1.0.0", Architecture.PRETRAINED.cliName(), true);
  }

  /**
   * The original Keras recipe for {@code --arch seed}: 350x350 input, Adam 0.001, plain binary
   * cross-entropy, batch 32, 5 epochs, 15% validation, no class weighting, no augmentation.
   */
  public static TrainingConfig seedDefaults() {
    return new TrainingConfig(SeedCnn.IMAGE_SIZE, 5, 32, 1e-3f, 0.15, 42, SeedCnn.DENSE_DROPOUT, "none", 0, 50_000_000L, 0,
        "1.0.0", SeedCnn.ARCH, false);
  }
}
