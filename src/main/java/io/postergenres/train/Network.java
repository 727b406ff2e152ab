package io.postergenres.train;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A network the {@link Trainer} can train: its trainable tensors, a training forward pass that
 * exposes each batch norm's batch moments, and a frozen (constants only) inference graph built from
 * the trained weights and the population moments. Implemented by {@link PosterCnn} and {@link
 * SeedCnn}.
 */
public interface Network {
  /** Trained weights frozen for inference; what {@link #frozenLogits} takes. */
  interface Frozen {}

  /** Architecture name, as given to {@code train --arch} and written as the model's name. */
  String arch();

  /** Input height and width in pixels (square). */
  int imageSize();

  /** Trainable tensors, in order. */
  List<PosterCnn.Param> params();

  /** Parameters as Keras counts them (for {@link SeedCnn}: batch-norm moving statistics included). */
  long parameterCount();

  long multiplyAddsPerImage();

  Map<String, float[]> initialValues(long seed);

  /**
   * The training forward pass on {@code images}: batch norm on batch moments (one mean and variance
   * per batch-norm layer, in order), dropout on.
   */
  PosterCnn.TrainOutputs trainLogits(Ops tf, Operand<TFloat32> images, Map<String, ? extends Operand<TFloat32>> w,
      float dropoutRate, long seed);

  /** Freezes trained weights with the population moments of each batch-norm layer. */
  Frozen freezeWeights(Map<String, float[]> w, List<float[]> means, List<float[]> variances);

  /** The inference graph: frozen weights as constants, logits [N, G]. */
  Operand<TFloat32> frozenLogits(Ops tf, Operand<TFloat32> images, Frozen frozen);

  /** The {@code architecture} entry of model.json's source. */
  Map<String, Object> describe(float dropout);

  /** One line for the training log. */
  String summary(float dropout);
}
