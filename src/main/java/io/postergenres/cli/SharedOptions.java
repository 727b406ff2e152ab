package io.postergenres.cli;

import io.postergenres.model.ModelCache;
import picocli.CommandLine.Option;

/**
 * Options that several commands take, declared once as picocli mixins (as picocli's own examples
 * share options) so that their names, defaults and checks stay the same everywhere.
 */
final class SharedOptions {
  private SharedOptions() {}

  /** {@code --batch-size}: label, evaluate, bench. */
  static final class BatchSize {
    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
        description = "Posters per TensorFlow run. Default: ${DEFAULT-VALUE}.")
    int batchSize;
  }

  /** {@code --max-pixels}: label, evaluate, serve. */
  static final class MaxPixels {
    @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "50000000",
        description = "Largest width x height decoded; bigger images are refused (an error row; 413 from serve). Default: ${DEFAULT-VALUE}.")
    long maxPixels;
  }

  /** {@code --bf16}: label, evaluate, serve. */
  static final class Bf16 {
    @Option(names = "--bf16", defaultValue = "false",
        description = "Let TensorFlow run the model's float ops in bfloat16 where oneDNN can (CPUs with AVX512_BF16/AMX): about 1.8x faster; scores move by up to about 0.04, so a genre near its threshold can come or go (docs/performance.md). Default: ${DEFAULT-VALUE}.")
    boolean bf16;
  }

  /** {@code --threads} of the in-process commands (evaluate, convert). */
  static final class Threads {
    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
        description = "Decoding and TensorFlow threads; 0: all cores. Default: ${DEFAULT-VALUE}.")
    int threads;

    /** The thread count, with 0 (automatic) resolved to this machine's cores. */
    int resolved() {
      return ModelCache.Settings.orAllCores(threads);
    }
  }

  /** TensorFlow's two thread pools of each executor's shared session (label). */
  static final class TensorFlowThreads {
    @Option(names = "--intra-op-threads", paramLabel = "N", defaultValue = "0",
        description = "TensorFlow threads per op, shared by an executor's tasks; 0: the executor's cores. Default: ${DEFAULT-VALUE}.")
    int intraOp;

    @Option(names = "--inter-op-threads", paramLabel = "N", defaultValue = "0",
        description = "TensorFlow ops run at once per executor; 0: " + ModelCache.Settings.AUTO_INTER_OP + ". Default: ${DEFAULT-VALUE}.")
    int interOp;
  }
}
