package io.postergenres.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.ModelContract;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

class Fp16ConverterTest {
  @TempDir Path dir;

  private static final List<String> GENRES = List.of("Action", "Comedy", "Drama", "Horror", "Romance");

  @Test
  void halfConversionRoundsToNearestEven() {
    assertEquals(0x3C00, Fp16Converter.floatToHalf(1f) & 0xFFFF);
    assertEquals(0xC000, Fp16Converter.floatToHalf(-2f) & 0xFFFF);
    assertEquals(0x0000, Fp16Converter.floatToHalf(0f) & 0xFFFF);
    assertEquals(0x8000, Fp16Converter.floatToHalf(-0f) & 0xFFFF);
    assertEquals(0x7BFF, Fp16Converter.floatToHalf(65504f) & 0xFFFF); // largest half
    assertEquals(0x7BFF, Fp16Converter.floatToHalf(65519f) & 0xFFFF); // rounds down
    assertEquals(0x7C00, Fp16Converter.floatToHalf(65520f) & 0xFFFF); // ties to even: infinity
    assertEquals(0x7C00, Fp16Converter.floatToHalf(Float.POSITIVE_INFINITY) & 0xFFFF);
    assertTrue(Float.isNaN(Fp16Converter.halfToFloat(Fp16Converter.floatToHalf(Float.NaN))));
    assertEquals(0x3C00, Fp16Converter.floatToHalf(1f + 0x1p-11f) & 0xFFFF); // tie, even stays
    assertEquals(0x3C02, Fp16Converter.floatToHalf(1f + 3 * 0x1p-11f) & 0xFFFF); // tie, odd rounds up
    assertEquals(0x3C01, Fp16Converter.floatToHalf(1f + 0x1p-11f + 0x1p-20f) & 0xFFFF); // over the tie
    assertEquals(0x0001, Fp16Converter.floatToHalf(0x1p-24f) & 0xFFFF); // smallest subnormal
    assertEquals(0x0000, Fp16Converter.floatToHalf(0x1p-25f) & 0xFFFF); // tie to even zero
    assertEquals(0x0001, Fp16Converter.floatToHalf(0x1.8p-25f) & 0xFFFF);
    assertEquals(0x0002, Fp16Converter.floatToHalf(3 * 0x1p-25f) & 0xFFFF); // 1.5 ulp -> 2
    assertEquals(0x0400, Fp16Converter.floatToHalf(0x1p-14f) & 0xFFFF); // smallest normal
    assertEquals(0x0400, Fp16Converter.floatToHalf(0x1p-14f - 0x1p-26f) & 0xFFFF); // subnormal rounding up into normal
    // every half value survives half -> float -> half
    for (int h = 0; h < 0x10000; h++) {
      float f = Fp16Converter.halfToFloat((short) h);
      if (Float.isNaN(f)) continue;
      assertEquals(h, Fp16Converter.floatToHalf(f) & 0xFFFF, "half " + Integer.toHexString(h));
    }
    // and the error of any float in range is at most half an ulp
    Random random = new Random(1);
    for (int i = 0; i < 100_000; i++) {
      float f = (float) (random.nextGaussian() * 10);
      float back = Fp16Converter.halfToFloat(Fp16Converter.floatToHalf(f));
      assertTrue(Math.abs(back - f) <= Math.ulp(back) / 2 * 8192 + 1e-12, f + " -> " + back);
    }
  }

  /** A weight-dominated model: mean-pooled 4x4 grid of the poster (48 features), dense 48x256, dense 256x5. */
  private Path writeModel(Path model) throws IOException {
    Random random = new Random(5);
    float[] w1 = new float[48 * 256];
    float[] b1 = new float[256];
    float[] w2 = new float[256 * 5];
    for (int i = 0; i < w1.length; i++) w1[i] = (float) (random.nextGaussian() * 0.5);
    for (int i = 0; i < b1.length; i++) b1[i] = (float) (random.nextGaussian() * 0.1);
    for (int i = 0; i < w2.length; i++) w2[i] = (float) (random.nextGaussian() * 0.2);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 32, 32, 3)));
      var pooled = tf.nn.avgPool(image, List.of(1L, 8L, 8L, 1L), List.of(1L, 8L, 8L, 1L), "VALID");
      var flat = tf.reshape(pooled, tf.constant(new long[] {-1, 48}));
      var h = tf.nn.relu(tf.math.add(tf.linalg.matMul(flat, tf.constant(Shape.of(48, 256), DataBuffers.of(w1, true, false))),
          tf.constant(Shape.of(256), DataBuffers.of(b1, true, false))));
      var scores = tf.withName("scores").math.sigmoid(tf.linalg.matMul(h, tf.constant(Shape.of(256, 5), DataBuffers.of(w2, true, false))));
      Signature sig = Signature.builder().key(ModelContract.SIGNATURE).input("image", image).output("scores", scores).build();
      try (Session session = new Session(graph)) {
        SavedModelBundle.exporter(model.toString()).withTags(ModelContract.TAG).withFunction(SessionFunction.create(sig, session)).export();
      }
    }
    Map<String, Double> thresholds = new LinkedHashMap<>();
    for (String g : GENRES) thresholds.put(g, 0.5);
    ModelSpec spec = new ModelSpec("dense-test", "2.0.0", 32, 32, GENRES, thresholds, 1, 3, Map.of("note", "test"), "threshold_ratio");
    Files.write(model.resolve(ModelSpec.FILE_NAME), spec.toJson());
    Files.write(model.resolve("validation.txt"), List.of("# none"));
    return model;
  }

  @Test
  void convertedModelIsHalfTheSizeLoadsAndScoresAlike() throws Exception {
    Path src = writeModel(dir.resolve("m32"));
    Path dst = dir.resolve("m16");
    Fp16Converter.DirResult r = Fp16Converter.convertDir(src, dst, Fp16Converter.DEFAULT_MIN_ELEMENTS);
    assertEquals(3, r.stats().constsConverted()); // w1, b1 (256 > 64) and w2; the shape constant stays
    long before = Files.size(src.resolve("saved_model.pb"));
    long after = Files.size(dst.resolve("saved_model.pb"));
    double ratio = (double) after / before;
    assertTrue(ratio > 0.45 && ratio < 0.6, before + " -> " + after);

    ModelPackage pkg = ModelPackage.read(dst.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    assertEquals("2.0.0-fp16", pkg.spec().version());
    assertTrue(pkg.spec().source().containsKey("conversion"));
    // Everything else of model.json carries over: the decision rule above all (a copy ranking by score
    // would give other genres than the thresholds were calibrated for).
    ModelSpec original = ModelPackage.read(src.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec();
    assertEquals(original.withVersion(pkg.spec().version()).withSource(pkg.spec().source()), pkg.spec());
    assertEquals(GenreRules.Ranking.THRESHOLD_RATIO, pkg.spec().ranking());
    assertTrue(Files.isRegularFile(dst.resolve("validation.txt")));

    // the large constants are DT_HALF now, each read through a Cast that kept the original name
    SavedModel saved = SavedModel.parseFrom(Files.readAllBytes(dst.resolve("saved_model.pb")));
    List<NodeDef> nodes = saved.getMetaGraphs(0).getGraphDef().getNodeList();
    long halves = nodes.stream().filter(n -> n.getOp().equals("Const") && n.getAttrOrThrow("dtype").getType() == DataType.DT_HALF).count();
    long casts = nodes.stream().filter(n -> n.getOp().equals("Cast") && n.getAttrOrThrow("SrcT").getType() == DataType.DT_HALF).count();
    assertEquals(3, halves);
    assertEquals(3, casts);

    int n = 6;
    float[] batch = new float[n * 32 * 32 * 3];
    Random random = new Random(9);
    for (int i = 0; i < batch.length; i++) batch[i] = random.nextFloat();
    float[] a;
    float[] b;
    try (PosterModel m32 = PosterModel.load(src, ModelPackage.read(src.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration()).spec(), 1, 1);
        PosterModel m16 = PosterModel.load(dst, pkg.spec(), 1, 1)) {
      a = m32.predict(batch, n);
      b = m16.predict(batch, n);
    }
    double max = 0;
    boolean differs = false;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
      differs |= a[i] != b[i];
    }
    assertTrue(max < 1e-2, "max score difference " + max);
    assertTrue(differs, "scores identical: were the weights really rounded?");

    // the fp16 copy is smaller (a second conversion into it is refused: ConvertCommandTest)
    assertTrue(Fp16Converter.dirBytes(dst) < Fp16Converter.dirBytes(src));
  }

  @Test
  void compareReportsAgreementOnPosters() throws Exception {
    Path src = writeModel(dir.resolve("m32"));
    Path dst = dir.resolve("m16");
    Fp16Converter.convertDir(src, dst, 64);
    Path posters = Files.createDirectories(dir.resolve("posters"));
    for (int i = 0; i < 5; i++) {
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(30, 40, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 40; y++) for (int x = 0; x < 30; x++) img.setRGB(x, y, (x * 8 + i * 40) << 16 | (y * 6) << 8 | (i * 50));
      javax.imageio.ImageIO.write(img, "png", posters.resolve("p" + i + ".png").toFile());
    }
    Files.write(posters.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1});
    List<Path> images = Fp16Converter.imagesUnder(posters);
    assertEquals(6, images.size());
    Fp16Converter.Agreement ag = Fp16Converter.compare(src, dst, images, 4, 1, 50_000_000L);
    assertEquals(5, ag.posters());
    assertEquals(1, ag.unreadable());
    assertEquals(5, ag.top3Same());
    assertTrue(ag.maxAbsDiff() < 1e-2 && ag.maxAbsDiff() > 0, "max diff " + ag.maxAbsDiff());
  }
}
