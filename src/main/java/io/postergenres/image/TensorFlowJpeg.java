package io.postergenres.image;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeJpeg;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JPEG decoding and stretching through TensorFlow's own image ops: libjpeg-turbo's SIMD decoder
 * (with the accurate integer IDCT that ImageIO's libjpeg uses too), then a bilinear resize with
 * half-pixel centres, which is what {@link Preprocessor}'s Java2D path computes (the two agree to
 * within 2/255 per channel, 0.23/255 on average: Java2D rounds each pixel to 8 bits, this does not).
 * About 2 to 3 times faster than ImageIO plus Java2D on real posters (measured side by side).
 *
 * <p>Large images are decoded at 1/2, 1/4 or 1/8 scale in the DCT (libjpeg's scaled decoding)
 * where that still leaves twice the model's input size, as the ImageIO path subsamples them.
 *
 * <p>One small graph per input size per JVM, shared by all threads; each call runs it in the
 * calling thread (no TensorFlow thread pool), so decoding keeps the threading the job gives it.
 * Anything this path cannot do (not a baseline or progressive JPEG it can read, CMYK, truncated
 * data) returns false and the caller falls back to ImageIO, which decodes it or says precisely why
 * not. Sessions are closed when the JVM exits.
 */
final class TensorFlowJpeg implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TensorFlowJpeg.class);
  private static final Map<Long, TensorFlowJpeg> BY_SIZE = new ConcurrentHashMap<>();
  private static final RunOptions IN_CALLER = RunOptions.newBuilder().setInterOpThreadPool(-1).build();
  private static final int[] RATIOS = {1, 2, 4, 8};

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TensorFlowJpeg::closeAll, "poster-genres-jpeg-close"));
  }

  private final int height;
  private final int width;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TString> bytes;
  private final Operand<TInt32> shape;
  private final Operand<TFloat32>[] pixels;

  @SuppressWarnings("unchecked")
  private TensorFlowJpeg(int height, int width) {
    this.height = height;
    this.width = width;
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      bytes = tf.placeholder(TString.class);
      shape = tf.image.extractJpegShape(bytes);
      pixels = new Operand[RATIOS.length];
      for (int i = 0; i < RATIOS.length; i++) {
        var decoded = tf.image.decodeJpeg(bytes, DecodeJpeg.channels(3L), DecodeJpeg.ratio((long) RATIOS[i]),
            DecodeJpeg.dctMethod("INTEGER_ACCURATE"));
        var resized = tf.image.resizeBilinear(tf.expandDims(decoded, tf.constant(0)), tf.constant(new int[] {height, width}),
            ResizeBilinear.halfPixelCenters(true));
        pixels[i] = tf.math.mul(resized, tf.constant(1f / 255f));
      }
      session = new Session(graph, ConfigProto.newBuilder().setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build());
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** The shared decoder for this input size. */
  static TensorFlowJpeg forSize(int height, int width) {
    return BY_SIZE.computeIfAbsent(((long) height << 32) | width, k -> new TensorFlowJpeg(height, width));
  }

  /** Whether {@code data} starts like a JPEG file (SOI marker then another marker). */
  static boolean looksLikeJpeg(byte[] data) {
    return data != null && data.length > 3 && (data[0] & 0xFF) == 0xFF && (data[1] & 0xFF) == 0xD8 && (data[2] & 0xFF) == 0xFF;
  }

  /**
   * Decodes and stretches {@code data} into {@code dest} from {@code offset} (HWC, RGB, [0, 1]).
   *
   * @return false, with dest untouched, where this path does not take the file: TensorFlow cannot
   *     read it, it is not three-channel, or it is over {@code maxPixels} (ImageIO then reports it)
   */
  boolean decodeInto(byte[] data, long maxPixels, float[] dest, int offset) {
    return decodeInto(data, maxPixels, dest, offset, DecodeBudget.shared());
  }

  /** As above; the decode itself waits for {@code width x height} pixels of {@code budget}. */
  boolean decodeInto(byte[] data, long maxPixels, float[] dest, int offset, DecodeBudget budget) {
    try (TString input = TString.tensorOfBytes(NdArrays.scalarOfObject(data))) {
      int h;
      int w;
      try (Result r = session.runner().setOptions(IN_CALLER).feed(bytes, input).fetch(shape).run()) {
        TInt32 s = (TInt32) r.get(0);
        h = s.getInt(0);
        w = s.getInt(1);
        if (s.getInt(2) != 3 && s.getInt(2) != 1) return false; // CMYK/YCCK: ImageIO applies the colour profile
      }
      if (h <= 0 || w <= 0 || (long) h * w > maxPixels) return false;
      int most = Math.min(w / (2 * width), h / (2 * height));
      int pick = 0;
      while (pick + 1 < RATIOS.length && RATIOS[pick + 1] <= most) pick++;
      try (DecodeBudget.Grant grant = budget.acquire(w, h);
          Result r = session.runner().setOptions(IN_CALLER).feed(bytes, input).fetch(pixels[pick]).run()) {
        TFloat32 out = (TFloat32) r.get(0);
        out.copyTo(DataBuffers.of(dest, false, false).offset(offset).narrow((long) height * width * 3));
      }
      return true;
    } catch (RuntimeException e) {
      LOG.debug("TensorFlow's JPEG decoder declined a file ({}); using ImageIO", e.toString());
      return false;
    }
  }

  static void closeAll() {
    for (TensorFlowJpeg d : BY_SIZE.values()) d.close();
    BY_SIZE.clear();
  }

  @Override
  public void close() {
    try {
      session.close();
    } finally {
      graph.close();
    }
  }
}
