package io.postergenres.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The one preprocessing path shared by training, the Spark job and the HTTP server: decode a poster
 * file, convert it to RGB, stretch it to the model's input size (aspect ratio not kept, as the
 * original model was trained), and scale each channel to [0, 1], written as HWC floats.
 *
 * <p>Takes baseline and progressive JPEG (greyscale, RGB, CMYK and YCCK), PNG (palette, alpha,
 * 16-bit), GIF (first frame), BMP and WebP (lossy, lossless, with alpha; first frame of an animation). Transparent pixels are composited onto white. Anything else
 * fails with a {@link PosterException} whose {@link ErrorKind} says why. Image dimensions are
 * checked against a pixel limit from the file header before any pixel is decoded.
 *
 * <p>JPEG files go through TensorFlow's libjpeg-turbo decoder and resize ({@link TensorFlowJpeg}),
 * 2 to 3 times faster than ImageIO plus Java2D and equal to them within 2/255 per channel; a
 * JPEG that path declines (CMYK, truncated, over the pixel limit) and every other format goes
 * through ImageIO, which also gives the error kind and message of a file that cannot be read.
 *
 * <p>Immutable and thread-safe: each call makes its own {@link ImageReader}.
 */
public final class Preprocessor {
  /** ImageIO format names (lower case) that the job takes. */
  public static final Set<String> SUPPORTED_FORMATS = Set.of("jpeg", "png", "gif", "bmp", "webp");

  static {
    // Register TwelveMonkeys' JPEG and WebP readers explicitly: ImageIO's service scan depends on
    // the context class loader, which differs between spark-submit, executors and tests.
    ImageIO.setUseCache(false);
    IIORegistry.getDefaultInstance().registerServiceProvider(new JPEGImageReaderSpi());
    IIORegistry.getDefaultInstance().registerServiceProvider(new WebPImageReaderSpi());
  }

  private final int height;
  private final int width;
  private final long maxPixels;
  private final boolean tensorflowJpeg;
  private final DecodeBudget budget;

  /**
   * @param height model input height in pixels
   * @param width model input width in pixels
   * @param maxPixels largest width x height accepted; larger images fail with {@link
   *     ErrorKind#TOO_MANY_PIXELS} before decoding
   */
  public Preprocessor(int height, int width, long maxPixels) {
    this(height, width, maxPixels, true);
  }

  /**
   * As {@link #Preprocessor(int, int, long)}; {@code tensorflowJpeg} false sends JPEG files through
   * ImageIO too (the benchmark compares the two).
   */
  public Preprocessor(int height, int width, long maxPixels, boolean tensorflowJpeg) {
    this(height, width, maxPixels, tensorflowJpeg, DecodeBudget.shared());
  }

  /** As above, with decodes drawing on {@code budget} rather than the JVM's shared one. */
  public Preprocessor(int height, int width, long maxPixels, boolean tensorflowJpeg, DecodeBudget budget) {
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("input size must be positive, got " + height + "x" + width);
    }
    if (maxPixels <= 0) {
      throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
    }
    this.height = height;
    this.width = width;
    this.maxPixels = maxPixels;
    this.tensorflowJpeg = tensorflowJpeg;
    this.budget = budget;
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  /** Floats one preprocessed poster takes: height x width x 3. */
  public int floatsPerImage() {
    return height * width * 3;
  }

  /** Decodes {@code bytes} into a new array of {@link #floatsPerImage()} floats. */
  public float[] preprocess(byte[] bytes) throws PosterException {
    float[] out = new float[floatsPerImage()];
    preprocessInto(bytes, out, 0);
    return out;
  }

  /**
   * Decodes {@code bytes} and writes {@link #floatsPerImage()} floats (HWC, RGB, [0, 1]) into
   * {@code dest} from {@code offset}. On failure nothing is promised about that region of dest.
   */
  public void preprocessInto(byte[] bytes, float[] dest, int offset) throws PosterException {
    if (tensorflowJpeg && TensorFlowJpeg.looksLikeJpeg(bytes)
        && TensorFlowJpeg.forSize(height, width).decodeInto(bytes, maxPixels, dest, offset, budget)) {
      return;
    }
    BufferedImage decoded = decode(bytes);
    BufferedImage rgb = stretchToRgb(decoded);
    int[] pixels = ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
    final float scale = 1f / 255f;
    int o = offset;
    for (int p : pixels) {
      dest[o++] = ((p >> 16) & 0xFF) * scale;
      dest[o++] = ((p >> 8) & 0xFF) * scale;
      dest[o++] = (p & 0xFF) * scale;
    }
  }

  /**
   * Decodes the first image in {@code bytes}, subsampled while reading when it is far larger than
   * the model input (a 4000x6000 scan needs no more than twice the input resolution).
   */
  public BufferedImage decode(byte[] bytes) throws PosterException {
    if (bytes == null || bytes.length == 0) {
      throw new PosterException(ErrorKind.EMPTY, "file is empty (0 bytes)");
    }
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      ImageReader reader = findReader(in, bytes);
      List<String> warnings = new ArrayList<>();
      try {
        reader.setInput(in, true, true);
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        int w;
        int h;
        try {
          w = reader.getWidth(0);
          h = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
          throw corrupt(reader, "unreadable header", e);
        }
        if (w <= 0 || h <= 0) {
          throw new PosterException(ErrorKind.CORRUPT, formatName(reader) + " header gives size " + w + "x" + h);
        }
        if ((long) w * h > maxPixels) {
          throw new PosterException(
              ErrorKind.TOO_MANY_PIXELS,
              String.format(
                  Locale.ROOT,
                  "%s of %dx%d = %d pixels is over the limit of %d (max-pixels)",
                  formatName(reader), w, h, (long) w * h, maxPixels));
        }
        ImageReadParam param = reader.getDefaultReadParam();
        int sx = Math.max(1, w / (2 * width));
        int sy = Math.max(1, h / (2 * height));
        if (sx > 1 || sy > 1) {
          param.setSourceSubsampling(sx, sy, 0, 0);
        }
        BufferedImage image;
        try (DecodeBudget.Grant grant = budget.acquire(w, h)) {
          image = reader.read(0, param);
        } catch (IOException | RuntimeException e) {
          throw corrupt(reader, "cannot decode", e);
        }
        for (String warning : warnings) {
          String lower = warning.toLowerCase(Locale.ROOT);
          if (lower.contains("premature end") || lower.contains("truncated") || lower.contains("eof")) {
            throw new PosterException(ErrorKind.CORRUPT, formatName(reader) + " is truncated: " + warning);
          }
        }
        return image;
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw new PosterException(ErrorKind.CORRUPT, "cannot read image stream: " + e.getMessage(), e);
    }
  }

  private static ImageReader findReader(ImageInputStream in, byte[] bytes) throws PosterException {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    String otherFormat = null;
    while (readers.hasNext()) {
      ImageReader reader = readers.next();
      String format = formatName(reader);
      if (SUPPORTED_FORMATS.contains(format)) {
        return reader;
      }
      otherFormat = format;
    }
    String what = otherFormat != null ? otherFormat.toUpperCase(Locale.ROOT) : FormatSniffer.describe(bytes);
    if (what.startsWith("damaged")) {
      throw new PosterException(ErrorKind.CORRUPT, what + ": too short or broken to decode");
    }
    throw new PosterException(
        ErrorKind.UNSUPPORTED_FORMAT,
        what + " is not a supported poster format (supported: JPEG, PNG, GIF, BMP, WebP)");
  }

  private static String formatName(ImageReader reader) {
    try {
      String name = reader.getFormatName().toLowerCase(Locale.ROOT);
      return name.equals("jpg") ? "jpeg" : name;
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static PosterException corrupt(ImageReader reader, String what, Throwable e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new PosterException(
        ErrorKind.CORRUPT, formatName(reader).toUpperCase(Locale.ROOT) + " " + what + ": " + detail, e);
  }

  /** Stretches to width x height RGB with bilinear filtering, compositing transparency on white. */
  private BufferedImage stretchToRgb(BufferedImage src) {
    BufferedImage dst = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.drawImage(src, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    return dst;
  }
}
