package io.postergenres.model;

import java.util.Iterator;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operation;
import org.tensorflow.ndarray.Shape;

/**
 * Counts the floating-point operations one poster costs in a loaded graph, from its static shapes:
 * 2 per multiply-add of each {@code Conv2D}, {@code DepthwiseConv2dNative} and {@code MatMul}
 * (element-wise ops are ignored; they are a few percent of a CNN). Only counts; never runs.
 */
public final class FlopCounter {
  private FlopCounter() {}

  public static long flopsPerExample(Graph graph) {
    long total = 0;
    Iterator<GraphOperation> ops = graph.operations();
    while (ops.hasNext()) {
      Operation op = ops.next();
      switch (op.type()) {
        case "Conv2D" -> {
          Shape out = op.output(0).shape();
          Shape filter = ((GraphOperation) op).input(1).shape();
          if (known(out, 1) && known(filter, 0)) {
            total += 2L * out.size(1) * out.size(2) * out.size(3) * filter.size(0) * filter.size(1) * filter.size(2);
          }
        }
        case "DepthwiseConv2dNative" -> {
          Shape out = op.output(0).shape();
          Shape filter = ((GraphOperation) op).input(1).shape();
          if (known(out, 1) && known(filter, 0)) {
            total += 2L * out.size(1) * out.size(2) * out.size(3) * filter.size(0) * filter.size(1);
          }
        }
        case "MatMul" -> {
          Shape b = ((GraphOperation) op).input(1).shape();
          if (known(b, 0)) total += 2L * b.size(0) * b.size(1);
        }
        default -> { }
      }
    }
    return total;
  }

  private static boolean known(Shape s, int from) {
    if (s.isUnknown()) return false;
    for (int i = from; i < s.numDimensions(); i++) if (s.size(i) < 0) return false;
    return true;
  }
}
