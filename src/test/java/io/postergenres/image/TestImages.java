package io.postergenres.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Image files of every kind the preprocessing must take, and broken ones, made in memory. */
public final class TestImages {
  private TestImages() {}

  /** A poster-shaped image filled with one colour, with a band of another so it is not flat. */
  public static BufferedImage solid(int w, int h, Color color) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, w, h);
    g.dispose();
    return img;
  }

  public static byte[] jpeg(BufferedImage img, boolean progressive) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.95f);
      if (progressive) param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  public static byte[] encode(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(img, format, bytes)) throw new IOException("no writer for " + format + " " + img.getType());
    return bytes.toByteArray();
  }

  public static byte[] greyJpeg(int w, int h, int grey) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(grey, grey, grey));
    g.fillRect(0, 0, w, h);
    g.dispose();
    return jpeg(img, false);
  }

  /**
   * A 4-channel Adobe JPEG holding CMYK, as print workflows write them; the JDK's own reader
   * refuses these. Written through the JDK writer's raster path, which stores the four channels
   * as given (Adobe CMYK files store them inverted: 255 = no ink).
   */
  public static byte[] cmykJpeg(int w, int h, int c, int m, int y, int k) throws IOException {
    WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
    int[] px = {255 - c, 255 - m, 255 - y, 255 - k};
    for (int yy = 0; yy < h; yy++) for (int xx = 0; xx < w; xx++) raster.setPixel(xx, yy, px);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      writer.write(null, new IIOImage(raster, null, null), param);
    } finally {
      writer.dispose();
    }
    // Insert an Adobe APP14 marker (transform 0: the channels are CMYK, not YCCK) after SOI, as
    // Photoshop does; without it readers have to guess what four channels mean.
    byte[] plain = bytes.toByteArray();
    byte[] adobe = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
    byte[] out = new byte[plain.length + adobe.length];
    System.arraycopy(plain, 0, out, 0, 2);
    System.arraycopy(adobe, 0, out, 2, adobe.length);
    System.arraycopy(plain, 2, out, 2 + adobe.length, plain.length - 2);
    return out;
  }

  public static byte[] palettePng(int w, int h, Color color) throws IOException {
    byte[] r = {(byte) color.getRed(), 0};
    byte[] g = {(byte) color.getGreen(), 0};
    byte[] b = {(byte) color.getBlue(), 0};
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(1, 2, r, g, b));
    return encode(img, "png"); // every pixel index 0
  }

  /** A PNG whose pixels are all fully transparent except the left half, opaque {@code color}. */
  public static byte[] alphaPng(int w, int h, Color color) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, w / 2, h);
    g.dispose();
    return encode(img, "png");
  }

  /** A 16-bit-per-channel RGB PNG. */
  public static byte[] rgb16Png(int w, int h, int r16, int g16, int b16) throws IOException {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
        Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(w, h);
    int[] px = {r16, g16, b16};
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) raster.setPixel(x, y, px);
    return encode(new BufferedImage(cm, raster, false, null), "png");
  }

  /** A two-frame GIF: the first frame {@code first}, the second {@code second}. */
  public static byte[] twoFrameGif(int w, int h, Color first, Color second) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      for (Color c : new Color[] {first, second}) {
        BufferedImage frame = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED);
        Graphics2D g = frame.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null);
        writer.writeToSequence(new IIOImage(frame, null, meta), null);
      }
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  public static byte[] bmp(int w, int h, Color color) throws IOException {
    return encode(solid(w, h, color), "bmp");
  }

  public static byte[] tiff(int w, int h, Color color) throws IOException {
    return encode(solid(w, h, color), "tiff");
  }

  /**
   * A WebP fixture of src/test/resources/io/postergenres/image/webp, made from synthetic images by
   * make-fixtures.sh there: lossy, lossless, alpha, animated, big (3000x4000), flat.
   */
  public static byte[] webp(String name) throws IOException {
    try (java.io.InputStream in = TestImages.class.getResourceAsStream("webp/" + name)) {
      if (in == null) throw new IOException("no test resource webp/" + name);
      return in.readAllBytes();
    }
  }

  /** The first 12 bytes of a WebP file: enough for anything that sniffs formats. */
  public static byte[] webpHeader() {
    byte[] b = new byte[64];
    System.arraycopy("RIFF".getBytes(StandardCharsets.US_ASCII), 0, b, 0, 4);
    System.arraycopy("WEBPVP8 ".getBytes(StandardCharsets.US_ASCII), 0, b, 8, 8);
    return b;
  }

  public static byte[] truncated(byte[] file, double keep) {
    return Arrays.copyOf(file, (int) (file.length * keep));
  }

  /**
   * A valid, tiny PNG that claims {@code w x h} pixels: a decompression bomb's header. Its data
   * decodes to far fewer pixels than claimed, so anything that decodes before checking fails.
   */
  public static byte[] hugePngHeader(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[1 + 3 * 16]);
    deflater.finish();
    byte[] buf = new byte[256];
    int n = deflater.deflate(buf);
    chunk(out, "IDAT", Arrays.copyOf(buf, n));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
