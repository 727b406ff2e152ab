package io.postergenres.train.pretrained;

import io.postergenres.train.TrainingConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.Trainer;
import io.postergenres.train.TrainerTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --arch pretrained} end to end on a tiny synthetic backbone (a 16x16 "MobileNetV2":
 * conv 1x1 + ReLU6 named out_relu) and 16 generated posters: features from two layers and the
 * pixel grid, kept in the feature cache, a head, an ensemble with a postercnn trained on the same
 * split, one SavedModel out that the job's loader accepts.
 */
class BackboneTrainerTest {
  @TempDir Path dir;

  private Path backbone() throws Exception {
    return backbone(dir);
  }

  /** The tiny synthetic MobileNetV2 (16x16 input, conv 1x1 + ReLU6 named out_relu) in {@code dir}/backbone. */
  Path backbone(Path dir) throws Exception {
    Path b = dir.resolve("backbone");
    if (Files.isDirectory(b)) return b;
    Files.createDirectories(b);
    Random r = new Random(5);
    float[] kernel = new float[3 * 4];
    float[] bias = new float[4];
    for (int i = 0; i < kernel.length; i++) kernel[i] = (float) r.nextGaussian();
    for (int i = 0; i < bias.length; i++) bias[i] = 0.1f;
    String layers = "["
        + KerasGraphTest.layer("input_1", "InputLayer", "\"batch_input_shape\":[null,16,16,3]")
        + "," + KerasGraphTest.layer("c1", "Conv2D", "\"filters\":4,\"kernel_size\":[1,1],\"strides\":[1,1],\"padding\":\"same\",\"use_bias\":true,\"activation\":\"linear\"", "input_1")
        + "," + KerasGraphTest.layer("out_relu", "ReLU", "\"max_value\":6", "c1")
        + "]";
    KerasGraphTest.writeModel(b, layers, List.of(new Object[] {"c1/kernel", new int[] {1, 1, 3, 4}, kernel},
        new Object[] {"c1/bias", new int[] {4}, bias}));
    return b;
  }

  private static TrainingConfig config(String arch, int size, long seed) {
    // 20 epochs at 3e-2: enough for the head and the member to learn the colours (TrainerTest.assertLearned)
    return new TrainingConfig(size, 20, 8, 3e-2f, 0.25, seed, 0.3f, "sqrt", 1, 50_000_000L, 0, "0.0.1-test", arch, true);
  }

  @Test
  void trainsAHeadOnCachedFeaturesAndExportsTheEnsembleAsOneModel() throws Exception {
    CcuDataset.Loaded data = CcuDataset.readManifest(TrainerTest.writeManifest(dir));
    Path member = dir.resolve("member");
    new Trainer(config("postercnn", 32, 3), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).train(data, member);

    Path cache = dir.resolve("cache");
    Path out = dir.resolve("model");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    new BackboneTrainer(config(BackboneTrainer.ARCH, 16, 3), backbone(), 0, KerasBackbone.InputScaling.UNIT,
        List.of("c1", "out_relu", KerasBackbone.PIXELS), cache, member, new PrintStream(log, true, StandardCharsets.UTF_8)).train(data, out);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("features: 56 per poster"), "4 + 4 + 48 features: " + text);
    assertTrue(text.contains("ensemble with"), text);
    try (Stream<Path> files = Files.list(cache)) {
      assertEquals(1, files.filter(p -> p.toString().endsWith(".features")).count());
    }

    ModelPackage pkg = ModelPackage.read(out.toAbsolutePath().toString(), new org.apache.hadoop.conf.Configuration());
    ModelSpec spec = pkg.spec();
    assertEquals(16, spec.inputHeight());
    assertEquals(List.of("Drama", "Horror"), spec.genres());
    Map<?, ?> arch = (Map<?, ?>) spec.source().get("architecture");
    Map<?, ?> ensemble = (Map<?, ?>) arch.get("ensemble");
    double w = ((Number) ensemble.get("w")).doubleValue();
    assertTrue(w >= 0 && w <= 1, "member weight " + w);
    TrainerTest.assertScoresTwoPosters(dir, out, spec);
    TrainerTest.assertLearned(dir, out, spec);

    // Again: the features come from the cache.
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    new BackboneTrainer(config(BackboneTrainer.ARCH, 16, 3), backbone(), 0, KerasBackbone.InputScaling.UNIT,
        List.of("c1", "out_relu", KerasBackbone.PIXELS), cache, null, new PrintStream(again, true, StandardCharsets.UTF_8))
        .train(data, dir.resolve("model2"));
    assertTrue(again.toString(StandardCharsets.UTF_8).contains("features: read from"), again.toString(StandardCharsets.UTF_8));

    // A member validated on other posters would have trained on ours: refused.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BackboneTrainer(config(BackboneTrainer.ARCH, 16, 4),
        backbone(), 0, KerasBackbone.InputScaling.UNIT, List.of(), null, member, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8)).train(data, dir.resolve("model3")));
    assertTrue(e.getMessage().contains("same posters"), e.getMessage());
  }
}
