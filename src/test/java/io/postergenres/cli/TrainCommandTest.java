package io.postergenres.cli;

import io.postergenres.train.TrainingConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.postergenres.cli.ExitCode;
import io.postergenres.cli.PosterGenres;
import io.postergenres.train.TrainerTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {
  @TempDir Path dir;

  private static CommandRun run(String... args) {
    return CommandRun.of("train", args);
  }

  @Test
  void rejectsUnknownArchitectureListingTheChoices() {
    CommandRun r = run("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--arch", "resnet50");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("resnet50") && r.err().contains("choices: postercnn"), r.err());
  }

  @Test
  void rejectsBadNumbers() {
    CommandRun r = run("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--validation-fraction", "1.5");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--validation-fraction"), r.err());
  }

  @Test
  void needsExactlyOneInput() {
    CommandRun r = run("--output", dir.resolve("m").toString());
    assertEquals(ExitCode.USAGE.code(), r.code());
    CommandRun both = run("--dataset", "a", "--manifest", "b", "--output", dir.resolve("m").toString());
    assertEquals(ExitCode.USAGE.code(), both.code());
  }

  @Test
  void refusesNonEmptyOutputWithoutOverwrite() throws Exception {
    Path out = Files.createDirectories(dir.resolve("m"));
    Files.writeString(out.resolve("saved_model.pb"), "x");
    CommandRun r = run("--dataset", dir.toString(), "--output", out.toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
    assertTrue(r.err().contains("--overwrite"), r.err());
  }

  @Test
  void seedArchitectureTakesTheOriginalRecipeUnlessOverridden() throws Exception {
    TrainingConfig seed = configOf("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--arch", "seed");
    assertEquals(java.util.List.of("seed", 350, 5, 32, "none", false, 0.15),
        java.util.List.of(seed.arch(), seed.imageSize(), seed.epochs(), seed.batchSize(), seed.positiveWeighting(),
            seed.augment(), seed.validationFraction()));
    assertEquals(1e-3f, seed.learningRate());
    TrainingConfig overridden = configOf("--dataset", dir.toString(), "--output", dir.resolve("m").toString(), "--arch", "seed",
        "--epochs", "2", "--augment", "--positive-weighting", "sqrt");
    assertEquals(2, overridden.epochs());
    assertTrue(overridden.augment());
    assertEquals("sqrt", overridden.positiveWeighting());
    TrainingConfig plain = configOf("--dataset", dir.toString(), "--output", dir.resolve("m").toString());
    assertEquals(java.util.List.of("postercnn", 128, 12, "sqrt", true),
        java.util.List.of(plain.arch(), plain.imageSize(), plain.epochs(), plain.positiveWeighting(), plain.augment()));
  }

  private static TrainingConfig configOf(String... args) throws Exception {
    TrainCommand command = new TrainCommand();
    new CommandLine(command).parseArgs(args);
    java.lang.reflect.Method m = TrainCommand.class.getDeclaredMethod("config");
    m.setAccessible(true);
    return (TrainingConfig) m.invoke(command);
  }

  @Test
  void missingDatasetIsAnInputError() {
    CommandRun r = run("--dataset", dir.resolve("nope").toString(), "--output", dir.resolve("m").toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
  }

  @Test
  void pretrainedOptionsAreCheckedWithAMessageSayingWhatToChange() throws Exception {
    String out = dir.resolve("m").toString();
    CommandRun r = run("--dataset", dir.toString(), "--output", out, "--feature-layers", "out_relu");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("only for --arch pretrained"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--image-size", "128");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("fixed by the backbone"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("needs --backbone"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--ensemble-with", dir.toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
    assertTrue(r.err().contains("not a model directory"), r.err());
    // A folder that is not an nsfwjs model: found when the trainer reads it, reported as a bad option.
    Path manifest = TrainerTest.writeManifest(Files.createDirectories(dir.resolve("posters")));
    Path notModel = Files.createDirectories(dir.resolve("not-a-model"));
    r = run("--manifest", manifest.toString(), "--output", out, "--arch", "pretrained", "--backbone", notModel.toString());
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--backbone") && r.err().contains("model.json"), r.err());
    // The old name still works and takes the pretrained defaults.
    TrainingConfig old = configOf("--dataset", dir.toString(), "--output", out, "--arch", "mobilenet", "--backbone", dir.toString());
    assertEquals(java.util.List.of("mobilenet", 60, 64), java.util.List.of(old.arch(), old.epochs(), old.batchSize()));
  }

  @Test
  void secondBackboneIsCheckedWithAMessageSayingWhatToChange() throws Exception {
    String out = dir.resolve("m").toString();
    Path json = Files.writeString(dir.resolve("centernet.json"), "{}");
    CommandRun r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(),
        "--second-backbone", json.toString());
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--second-backbone, --head-per-backbone, --raw-fold-scales, --max-genres, --assignment-cap, --assignment-floor and --cap-scope need --folds K"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--second-backbone", dir.resolve("absent.json").toString());
    assertEquals(ExitCode.INPUT.code(), r.code());
    assertTrue(r.err().contains("absent.json is not a file") && r.err().contains("centernet.json"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--second-backbone", json.toString());
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--second-backbone, --head-per-backbone, --raw-fold-scales, --max-genres, --assignment-cap, --assignment-floor and --cap-scope are only for --arch pretrained"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--head-per-backbone");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--head-per-backbone needs --second-backbone"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--max-genres", "0");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--max-genres must be 1 to 10, got 0"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--cap-scope", "per-fold");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--cap-scope must be every-fold or pooled, not 'per-fold'"), r.err());
    Path manifest = TrainerTest.writeManifest(Files.createDirectories(dir.resolve("posters")));
    r = run("--manifest", manifest.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--assignment-cap", "5");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--assignment-cap must be 1 to 3, got 5.0"), r.err());
    r = run("--manifest", manifest.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--assignment-floor", "1");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--assignment-floor must be 0 (none) or more, under 1, got 1.0"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--assignment-floor", "0.7");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--assignment-floor and --cap-scope need --folds K"), r.err());
  }

  @Test
  void backboneSizeIsCheckedWithAMessageSayingWhatToChange() {
    String out = dir.resolve("m").toString();
    CommandRun r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--backbone-size", "256x176");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--backbone-size") && r.err().contains("need --folds K"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--backbone-size", "256 by 176");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--backbone-size must be HEIGHTxWIDTH in pixels, e.g. 320x224; got '256 by 176'"), r.err());
    r = run("--dataset", dir.toString(), "--output", out, "--arch", "pretrained", "--backbone", dir.toString(), "--folds", "5",
        "--backbone-size", "16x16");
    assertEquals(ExitCode.USAGE.code(), r.code());
    assertTrue(r.err().contains("--backbone-size must be 32 to 1024 pixels each way, got 16x16"), r.err());
  }
}
