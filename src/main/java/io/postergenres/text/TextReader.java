package io.postergenres.text;

import io.postergenres.image.Preprocessor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * Reads the lines of text on posters with two frozen TensorFlow graphs: a text detector (a map of
 * how likely each pixel is text) and a line recogniser (character probabilities per step, read by
 * CTC). The shipped ones are PaddleOCR's PP-OCRv4 networks converted from ONNX at training time.
 *
 * <p>How a poster is read: it is stretched to {@value #DETECT_HEIGHT}x{@value #DETECT_WIDTH}
 * (height x width) for the detector; each connected region of the map over {@value #PIXEL_TEXT} whose
 * mean is at least {@value #REGION_SCORE} becomes a box, grown by area x 1.5 / perimeter on every
 * side (the detector marks the middle of the letters), and cut from the poster (its longer side
 * at most {@value #MAX_SIDE} pixels); each line is resized to height {@value #LINE_HEIGHT} and padded
 * with its own last column to a width of 80, 160 or 320 (longer lines squeezed), recognised 32 at a
 * time, and decoded greedily (best character per step, repeats and blanks dropped); a line whose
 * characters' mean probability is under {@value #MIN_CONFIDENCE} is dropped.
 *
 * <p>Thread-safe (TensorFlow sessions take concurrent runs); the owner closes it, and every tensor
 * is closed before a call returns.
 */
public final class TextReader implements AutoCloseable {
  public static final int DETECT_HEIGHT = 448;
  public static final int DETECT_WIDTH = 288;
  public static final int LINE_HEIGHT = 48;
  static final int[] LINE_WIDTHS = {80, 160, 320};
  static final float PIXEL_TEXT = 0.3f;
  static final double REGION_SCORE = 0.6;
  static final double MIN_CONFIDENCE = 0.5;
  static final int MAX_SIDE = 1024;
  static final int DETECT_BATCH = 8;
  static final int LINE_BATCH = 32;
  /** Most text regions read on one poster (the largest; a noisy texture can give thousands of specks). */
  static final int MAX_REGIONS = 96;
  /** Names of the graphs' input and output tensors. */
  public static final String DETECTOR_INPUT = "image";
  public static final String DETECTOR_OUTPUT = "text_map";
  public static final String RECOGNISER_INPUT = "line";
  public static final String RECOGNISER_OUTPUT = "characters";

  private final Graph detectorGraph;
  private final Graph recogniserGraph;
  private final Session detector;
  private final Session recogniser;
  private final List<String> characters; // class k + 1 is characters.get(k); class 0 is CTC's blank

  /**
   * @param characters the recogniser's characters in class order (class 0, the blank, not included)
   * @param threads intra-op threads of each session (0: TensorFlow picks)
   */
  public TextReader(GraphDef detector, GraphDef recogniser, List<String> characters, int threads) {
    ConfigProto config = ConfigProto.newBuilder().setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(1).build();
    this.characters = List.copyOf(characters);
    this.detectorGraph = new Graph();
    this.recogniserGraph = new Graph();
    Session det = null;
    try {
      detectorGraph.importGraphDef(PortableGraph.withEqualStrides(detector));
      recogniserGraph.importGraphDef(PortableGraph.withEqualStrides(recogniser));
      if (detectorGraph.operation(DETECTOR_INPUT) == null || detectorGraph.operation(DETECTOR_OUTPUT) == null) {
        throw new IllegalArgumentException("the text detector graph has no " + DETECTOR_INPUT + " or " + DETECTOR_OUTPUT);
      }
      if (recogniserGraph.operation(RECOGNISER_INPUT) == null || recogniserGraph.operation(RECOGNISER_OUTPUT) == null) {
        throw new IllegalArgumentException("the text recogniser graph has no " + RECOGNISER_INPUT + " or " + RECOGNISER_OUTPUT);
      }
      Shape out = recogniserGraph.operation(RECOGNISER_OUTPUT).output(0).shape();
      long classes = out.isUnknown() || out.numDimensions() < 1 ? -1 : out.get(out.numDimensions() - 1);
      if (classes > 0 && classes != this.characters.size() + 1) {
        throw new IllegalArgumentException("the text recogniser tells " + classes + " classes apart, but " + this.characters.size()
            + " characters and CTC's blank make " + (this.characters.size() + 1));
      }
      det = new Session(detectorGraph, config);
      this.recogniser = new Session(recogniserGraph, config);
      this.detector = det;
    } catch (RuntimeException e) {
      // a session holds its graph: TensorFlow Java's Graph.close waits for the sessions on it, so they go first
      if (det != null) det.close();
      detectorGraph.close();
      recogniserGraph.close();
      throw e;
    }
  }

  /**
   * What decodes poster files for the reader: no subsampling below {@value #MAX_SIDE} pixels on a
   * side (the image model's decoder subsamples to about twice its input, too coarse for letters).
   */
  public static Preprocessor decoder(long maxPixels) {
    return new Preprocessor(MAX_SIDE / 2, MAX_SIDE / 2, maxPixels);
  }

  /** The lines read on each poster, in the order of {@code posters}. */
  public List<List<String>> read(List<BufferedImage> posters) {
    List<List<String>> out = new ArrayList<>();
    for (int from = 0; from < posters.size(); from += DETECT_BATCH) {
      out.addAll(readBatch(posters.subList(from, Math.min(posters.size(), from + DETECT_BATCH))));
    }
    return out;
  }

  private List<List<String>> readBatch(List<BufferedImage> batch) {
    int b = batch.size();
    int plane = DETECT_HEIGHT * DETECT_WIDTH;
    float[] x = new float[b * 3 * plane];
    List<BufferedImage> posters = new ArrayList<>(b);
    for (int k = 0; k < b; k++) {
      BufferedImage p = capped(batch.get(k));
      posters.add(p);
      planes(resize(p, DETECT_WIDTH, DETECT_HEIGHT), x, k * 3 * plane);
    }
    float[] maps = run(detector, DETECTOR_INPUT, DETECTOR_OUTPUT, x, b, 3, DETECT_HEIGHT, DETECT_WIDTH);
    if (maps.length != b * plane) throw new IllegalStateException("text detector returned " + maps.length + " values for " + b + " posters");

    // every line of the batch, grouped by padded width so each recogniser run has one shape
    List<String[]> texts = new ArrayList<>();
    Map<Integer, List<int[]>> byWidth = new TreeMap<>(); // width -> (poster, line)
    List<List<BufferedImage>> lines = new ArrayList<>();
    for (int k = 0; k < b; k++) {
      List<BufferedImage> mine = new ArrayList<>();
      for (int[] box : boxes(maps, k * plane, posters.get(k).getWidth(), posters.get(k).getHeight())) {
        BufferedImage line = line(posters.get(k).getSubimage(box[0], box[1], box[2], box[3]));
        byWidth.computeIfAbsent(line.getWidth(), z -> new ArrayList<>()).add(new int[] {k, mine.size()});
        mine.add(line);
      }
      lines.add(mine);
      texts.add(new String[mine.size()]);
    }
    int classes = characters.size() + 1;
    for (Map.Entry<Integer, List<int[]>> e : byWidth.entrySet()) {
      int width = e.getKey();
      int size = 3 * LINE_HEIGHT * width;
      List<int[]> refs = e.getValue();
      for (int from = 0; from < refs.size(); from += LINE_BATCH) {
        int m = Math.min(LINE_BATCH, refs.size() - from);
        float[] lx = new float[m * size];
        for (int j = 0; j < m; j++) {
          int[] r = refs.get(from + j);
          planes(lines.get(r[0]).get(r[1]), lx, j * size);
        }
        float[] probs = run(recogniser, RECOGNISER_INPUT, RECOGNISER_OUTPUT, lx, m, 3, LINE_HEIGHT, width);
        if (probs.length % (m * classes) != 0) {
          throw new IllegalStateException("text recogniser returned " + probs.length + " values, not a multiple of " + m + " x " + classes);
        }
        int steps = probs.length / m / classes;
        for (int j = 0; j < m; j++) {
          int[] r = refs.get(from + j);
          texts.get(r[0])[r[1]] = decode(probs, j * steps * classes, steps, classes);
        }
      }
    }
    List<List<String>> out = new ArrayList<>();
    for (String[] t : texts) {
      List<String> kept = new ArrayList<>();
      for (String s : t) if (s != null) kept.add(s);
      out.add(kept);
    }
    return out;
  }

  /** CTC greedy decoding of one line; null when nothing was read or the reading is unsure. */
  private String decode(float[] probs, int base, int steps, int classes) {
    StringBuilder text = new StringBuilder();
    double confidence = 0;
    int prev = -1;
    for (int t = 0; t < steps; t++) {
      int row = base + t * classes;
      int best = 0;
      for (int c = 1; c < classes; c++) if (probs[row + c] > probs[row + best]) best = c;
      if (best != 0 && best != prev) {
        text.append(characters.get(best - 1));
        confidence += probs[row + best];
      }
      prev = best;
    }
    int chars = text.codePointCount(0, text.length());
    return chars > 0 && confidence / chars >= MIN_CONFIDENCE ? text.toString() : null;
  }

  /**
   * Boxes {x, y, width, height, pixels of the map} in the poster's pixels ({@code pw} x {@code ph})
   * of the text regions of one detector map (4-connected pixels over {@link #PIXEL_TEXT}); at most
   * {@link #MAX_REGIONS}, the largest.
   */
  static List<int[]> boxes(float[] map, int off, int pw, int ph) {
    int w = DETECT_WIDTH;
    int h = DETECT_HEIGHT;
    boolean[] seen = new boolean[w * h];
    int[] stack = new int[w * h];
    List<int[]> out = new ArrayList<>();
    double sx = pw / (double) w;
    double sy = ph / (double) h;
    for (int i = 0; i < w * h; i++) {
      if (seen[i] || map[off + i] <= PIXEL_TEXT) continue;
      int top = 0;
      int x0 = w;
      int y0 = h;
      int x1 = 0;
      int y1 = 0;
      int count = 0;
      double sum = 0;
      stack[top++] = i;
      seen[i] = true;
      while (top > 0) {
        int p = stack[--top];
        int px = p % w;
        int py = p / w;
        x0 = Math.min(x0, px);
        x1 = Math.max(x1, px);
        y0 = Math.min(y0, py);
        y1 = Math.max(y1, py);
        sum += map[off + p];
        count++;
        if (px > 0) top = visit(map, off, seen, stack, top, p - 1);
        if (px < w - 1) top = visit(map, off, seen, stack, top, p + 1);
        if (py > 0) top = visit(map, off, seen, stack, top, p - w);
        if (py < h - 1) top = visit(map, off, seen, stack, top, p + w);
      }
      int bw = x1 - x0 + 1;
      int bh = y1 - y0 + 1;
      if (Math.min(bw, bh) < 3 || sum / count < REGION_SCORE) continue;
      double grow = bw * bh * 1.5 / (2.0 * (bw + bh));
      int cx0 = (int) (Math.max(0, x0 - grow) * sx);
      int cy0 = (int) (Math.max(0, y0 - grow) * sy);
      int cx1 = Math.min(pw, (int) (Math.min(w, x1 + 1 + grow) * sx));
      int cy1 = Math.min(ph, (int) (Math.min(h, y1 + 1 + grow) * sy));
      if (cx1 - cx0 >= 2 && cy1 - cy0 >= 2) out.add(new int[] {cx0, cy0, cx1 - cx0, cy1 - cy0, count});
    }
    if (out.size() > MAX_REGIONS) {
      // keep the largest regions (by pixels of the map), in the order they were found
      List<int[]> bySize = new ArrayList<>(out);
      bySize.sort((a, b) -> Integer.compare(b[4], a[4]));
      java.util.Set<int[]> keep = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      keep.addAll(bySize.subList(0, MAX_REGIONS));
      out.removeIf(box -> !keep.contains(box));
    }
    return out;
  }

  private static int visit(float[] map, int off, boolean[] seen, int[] stack, int top, int q) {
    if (seen[q] || map[off + q] <= PIXEL_TEXT) return top;
    seen[q] = true;
    stack[top] = q;
    return top + 1;
  }

  /** One cut-out line at the recogniser's height, padded with its last column to a bucket width. */
  private static BufferedImage line(BufferedImage crop) {
    int want = Math.max(8, (int) Math.round((double) LINE_HEIGHT * crop.getWidth() / crop.getHeight()));
    int bucket = LINE_WIDTHS[LINE_WIDTHS.length - 1];
    for (int width : LINE_WIDTHS) {
      if (want <= width) {
        bucket = width;
        break;
      }
    }
    int w = Math.min(want, bucket);
    BufferedImage scaled = resize(crop, w, LINE_HEIGHT);
    BufferedImage line = new BufferedImage(bucket, LINE_HEIGHT, BufferedImage.TYPE_INT_RGB);
    int[] rgb = scaled.getRGB(0, 0, w, LINE_HEIGHT, null, 0, w);
    int[] padded = new int[bucket * LINE_HEIGHT];
    for (int y = 0; y < LINE_HEIGHT; y++) {
      System.arraycopy(rgb, y * w, padded, y * bucket, w);
      java.util.Arrays.fill(padded, y * bucket + w, (y + 1) * bucket, rgb[y * w + w - 1]);
    }
    line.setRGB(0, 0, bucket, LINE_HEIGHT, padded, 0, bucket);
    return line;
  }

  /** The poster with its longer side at most {@link #MAX_SIDE} pixels. */
  private static BufferedImage capped(BufferedImage p) {
    int side = Math.max(p.getWidth(), p.getHeight());
    if (side <= MAX_SIDE && p.getType() == BufferedImage.TYPE_INT_RGB) return p;
    double s = Math.min(1, (double) MAX_SIDE / side);
    return resize(p, Math.max(1, (int) Math.round(p.getWidth() * s)), Math.max(1, (int) Math.round(p.getHeight() * s)));
  }

  private static BufferedImage resize(BufferedImage src, int w, int h) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(src, 0, 0, w, h, null);
    g.dispose();
    return out;
  }

  /** The image as three planes, blue, green, red, each value in [0, 1], written at {@code off}. */
  private static void planes(BufferedImage im, float[] into, int off) {
    int w = im.getWidth();
    int h = im.getHeight();
    int plane = w * h;
    int[] rgb = im.getRGB(0, 0, w, h, null, 0, w);
    for (int i = 0; i < plane; i++) {
      int p = rgb[i];
      into[off + i] = (p & 0xFF) / 255f;
      into[off + plane + i] = ((p >> 8) & 0xFF) / 255f;
      into[off + 2 * plane + i] = ((p >> 16) & 0xFF) / 255f;
    }
  }

  private static float[] run(Session s, String in, String out, float[] x, long... shape) {
    try (TFloat32 t = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x, true, false));
        Result r = s.runner().feed(in, t).fetch(out).run()) {
      TFloat32 y = (TFloat32) r.get(0);
      float[] v = new float[(int) y.shape().size()];
      y.copyTo(DataBuffers.of(v, false, false));
      return v;
    }
  }

  @Override
  public void close() {
    detector.close();
    recogniser.close();
    detectorGraph.close();
    recogniserGraph.close();
  }
}
