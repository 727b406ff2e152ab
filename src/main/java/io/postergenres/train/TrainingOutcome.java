package io.postergenres.train;

import io.postergenres.model.ModelSpec;
import java.nio.file.Path;

/** What a training run produced: the written model's spec and directory, its best epoch and how long it took. */
public record TrainingOutcome(ModelSpec spec, Path dir, int bestEpoch, double seconds) {}
