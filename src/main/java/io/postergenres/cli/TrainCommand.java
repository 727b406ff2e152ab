package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.metrics.CalibrationRule;
import io.postergenres.metrics.RuleCalibration;
import io.postergenres.train.Architecture;
import io.postergenres.train.CcuDataset;
import io.postergenres.train.PosterCnn;
import io.postergenres.train.SeedCnn;
import io.postergenres.train.Trainer;
import io.postergenres.train.TrainingConfig;
import io.postergenres.train.TrainingOutcome;
import io.postergenres.train.pretrained.BackboneTrainer;
import io.postergenres.train.pretrained.CrossValidatedTrainer;
import io.postergenres.train.pretrained.KerasBackbone;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code poster-genres train}: labelled posters in, a model directory (SavedModel + model.json) out. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Trains a genre model on labelled posters and writes a model directory for 'label' "
            + "(SavedModel + model.json with thresholds calibrated on the validation posters, "
            + "training-history.csv, validation.txt, training-log.txt).",
        "Exit codes: 0 done; 1 unexpected error; 2 bad option; 3 input missing or output exists."})
public final class TrainCommand implements Callable<Integer> {
  /** Architectures this command can train. */
  public static final List<String> ARCHITECTURES = Architecture.names();

  @Spec CommandLine.Model.CommandSpec commandSpec;
  @Mixin Verbosity verbosity;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--dataset", paramLabel = "DIR",
        description = "A CCU Movie Poster Dataset folder (Movie_Poster_Dataset/<year>/<imdbID>.jpg and groundtruth/<year>.txt).")
    Path dataset;

    @Option(names = "--manifest", paramLabel = "CSV",
        description = "A CSV of path,genres lines (genres separated by |; relative paths are relative to the CSV; header optional).")
    Path manifest;
  }

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Model directory to write.")
  Path output;

  @Option(names = "--overwrite", description = "Replace the model files in --output if it already holds a model.")
  boolean overwrite;

  @Option(names = "--arch", paramLabel = "NAME", defaultValue = PosterCnn.ARCH,
      description = {"Architecture. Choices: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.",
          "seed is the original Keras network (350x350 input, 27,660,664 parameters) and takes the original recipe's "
              + "defaults: 5 epochs, plain binary cross-entropy, no augmentation (other options still override).",
          "pretrained is a head trained on a frozen network of the nsfwjs npm package, MobileNetV2 or InceptionV3 "
              + "(needs --backbone; its input size, 60 epochs, batch 64, dropout 0.5). mobilenet is its old name."},
      completionCandidates = Architectures.class)
  String arch;

  @Option(names = "--backbone", paramLabel = "DIR",
      description = "--arch pretrained: a model folder of an installed nsfwjs 4.4.0 npm package "
              + "(node_modules/nsfwjs/dist/models/mobilenet_v2 or .../inception_v3), converted here at training time.")
  Path backbone;

  @Option(names = "--second-backbone", paramLabel = "MODEL_JSON",
      description = "--arch pretrained --folds K: a TensorFlow.js graph model fed the same poster, whose pooled layers follow the "
              + "backbone's in the head's input: models/centernet.json of the npm package @vladmandic/human 3.3.6 (an object "
              + "detector's MobileNetV3, trained on COCO).")
  Path secondBackbone;

  @Option(names = "--head-per-backbone",
      description = "--arch pretrained --folds K with --second-backbone: give each backbone's features heads of their own and average "
              + "the two families' logits, instead of one family of heads on both networks' features side by side.")
  boolean headPerBackbone;

  @Option(names = "--raw-fold-scales",
      description = "--arch pretrained --folds K: choose the thresholds on the out-of-fold logits as each fold's heads gave them, "
              + "instead of first putting every fold on the shipped heads' scale (each fold's logits standardised by its heads' "
              + "logits on their own training posters).")
  boolean rawFoldScales;

  @Option(names = "--max-genres", paramLabel = "N",
      description = "--arch pretrained --folds K: the most genres a poster is given (1 to 10); the thresholds are calibrated for it. "
              + "Default: " + CrossValidatedTrainer.DEFAULT_MAX_GENRES + ".")
  Integer maxGenres;

  @Option(names = "--assignment-cap", paramLabel = "X",
      description = "--arch pretrained --folds K: calibrate the thresholds so that no genre is given to more than X times the "
              + "posters that have it (on out-of-fold scores; 1 to 3). Default: " + CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP + ".")
  Double assignmentCap;

  @Option(names = "--assignment-floor", paramLabel = "X",
      description = "--arch pretrained --folds K: calibrate the thresholds so that every genre that " + RuleCalibration.FLOOR_MIN_POSTERS
              + " or more posters have is given to at least X times the posters that have it (on all out-of-fold scores; 0 to under 1; "
              + "0: no floor). Default: 0.")
  Double assignmentFloor;

  @Option(names = "--cap-scope", paramLabel = "SCOPE",
      description = "--arch pretrained --folds K: where --assignment-cap must hold while the thresholds are calibrated: every-fold "
              + "(on each fold's out-of-fold scores, genres with 10 or more posters in it: keeps genres in proportion from one set "
              + "of posters to the next) or pooled (on all of them together). Default: every-fold.")
  String capScope;

  @Option(names = "--feature-layers", paramLabel = "LAYER[,LAYER...]", split = ",",
      description = "--arch pretrained: backbone layers whose global average pools, concatenated, are the head's input; "
              + "'pixels' adds the poster averaged over a 4x4 grid. Default: the backbone's last (out_relu, mixed10).")
  List<String> featureLayers = new ArrayList<>();

  @Option(names = "--feature-cache", paramLabel = "DIR",
      description = "--arch pretrained: keep extracted features in DIR and reuse them when nothing they depend on changed (quick head experiments).")
  Path featureCache;

  @Option(names = "--ensemble-with", paramLabel = "MODEL_DIR",
      description = "--arch pretrained: one of our trained models (e.g. models/postercnn), validated on the same posters, to average "
              + "with inside the exported model (weight chosen on validation); the result is one SavedModel like any other.")
  Path ensembleWith;

  @Option(names = "--folds", paramLabel = "K", defaultValue = "0",
      description = "--arch pretrained: choose epochs, the mirror average and the thresholds by K-fold cross-validation over "
              + "all posters, report each figure with its spread over folds, and train the shipped head on all posters "
              + "(5 is usual). 0: one seeded validation split (--validation-fraction). Default: ${DEFAULT-VALUE}.")
  int folds;

  @Option(names = "--input-size", paramLabel = "HxW",
      description = "--arch pretrained --folds K: feed the backbone HxW images (height x width, e.g. 320x224 for the "
              + "poster's own 2:3 shape) instead of its square input.")
  String inputSize;

  @Option(names = "--backbone-size", paramLabel = "HxW",
      description = "--arch pretrained --folds K: feed the backbone (not the second backbone) a HxW copy of the input, "
              + "resized inside the model's graph: less arithmetic where its features hold at a smaller size. Default: the input size.")
  String backboneSize;

  @Option(names = "--model-name", paramLabel = "NAME",
      description = "--arch pretrained --folds K: the name written into model.json. Default: postergenres-mobilenet.")
  String modelName;

  @Option(names = "--mirror-average",
      description = "--arch pretrained --folds K: label each poster by the mean of its and its mirror image's logits (twice the "
              + "work per poster) when cross-validation finds that it helps.")
  boolean mirrorAverage;

  @Option(names = "--heads", paramLabel = "N", defaultValue = "1",
      description = "--arch pretrained --folds K: train N heads that differ only in their seed and average their logits "
              + "(cross-validated like one head; each adds a fraction of the backbone's work). Default: ${DEFAULT-VALUE}.")
  int heads;

  @Option(names = "--crops",
      description = "--arch pretrained --folds K: also train on the features of 4 corner crops (90%% of height and width) of "
              + "each poster, besides the poster and its mirror image (features extracted once; labelling is unchanged).")
  boolean crops;

  @Option(names = "--hidden", paramLabel = "N", defaultValue = "256",
      description = "--arch pretrained: units of the head's hidden layer; 0 for a linear head. Default: ${DEFAULT-VALUE}.")
  int hidden;

  @Option(names = "--backbone-input", paramLabel = "SCALING", defaultValue = "UNIT",
      description = "--arch pretrained: UNIT feeds [0,1] as nsfwjs does; SYMMETRIC feeds 2x-1 ([-1,1], Keras' ImageNet convention). Default: ${DEFAULT-VALUE}.")
  KerasBackbone.InputScaling backboneInput;

  @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training posters. Default: 12 (postercnn), 5 (seed).")
  Integer epochs;

  @Option(names = "--batch-size", paramLabel = "N", description = "Posters per training step. Default: 32 (64 for pretrained).")
  Integer batchSize;

  @Option(names = "--learning-rate", paramLabel = "LR", defaultValue = "0.001", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
  float learningRate;

  @Option(names = "--validation-fraction", paramLabel = "F", defaultValue = "0.15",
      description = "Share of posters held out for validation and threshold calibration. Default: ${DEFAULT-VALUE}.")
  double validationFraction;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of the split, the initial weights and the batches. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--image-size", paramLabel = "PX",
      description = "Posters are stretched to PX x PX (the model's input size). Default: 128 (postercnn), 350 (seed).")
  Integer imageSize;

  @Option(names = "--dropout", paramLabel = "R",
      description = "Dropout rate before the output layer (postercnn only; seed has the original's fixed 0.25 and 0.5). Default: 0.3.")
  Float dropout;

  @Option(names = "--positive-weighting", paramLabel = "MODE",
      description = "Weight of a genre's positives in the loss: sqrt or linear of its negative/positive ratio (capped at 10), or none. Default: sqrt (postercnn), none (seed).")
  String positiveWeighting;

  @Option(names = "--augment", negatable = true, paramLabel = "BOOL",
      description = "Random horizontal flips of training posters (--no-augment: none). Default: on (postercnn), off (seed).")
  Boolean augment;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "CPU threads for decoding and TensorFlow; 0: all cores. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(names = "--time-limit", paramLabel = "MINUTES", defaultValue = "0",
      description = "Start no epoch that would end after this many minutes from the start; 0: no limit. Default: ${DEFAULT-VALUE}.")
  double timeLimitMinutes;

  @Option(names = "--model-version", paramLabel = "V", defaultValue = "1.0.0", description = "Version written into model.json. Default: ${DEFAULT-VALUE}.")
  String modelVersion;

  @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "50000000",
      description = "Largest width x height decoded; bigger posters are skipped. Default: ${DEFAULT-VALUE}.")
  long maxPixels;

  static final class Architectures implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return ARCHITECTURES.iterator();
    }
  }

  @Override
  public Integer call() throws IOException {
    verbosity.apply();
    TrainingConfig config = config();
    checkOutput();
    CcuDataset.Loaded data = load();
    if (data.examples().size() < 4) {
      throw new PosterGenresException(Failure.INPUT, data.source() + " gives only " + data.examples().size()
          + " labelled posters with a readable file; training needs more (" + data.stats().toMap() + ")");
    }
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    TrainingOutcome outcome;
    try {
      int[] hw = inputSize();
      int[] seen = size(backboneSize, "--backbone-size");
      outcome = pretrained(config.arch()) && folds > 0
          ? new CrossValidatedTrainer(config, backbone, hidden, backboneInput, featureLayers, featureCache, folds, hw[0], hw[1], modelName, mirrorAverage, heads, crops, out)
              .withSecondBackbone(secondBackbone)
              .withHeadPerBackbone(headPerBackbone)
              .withFoldAlignment(!rawFoldScales)
              .withMaxGenres(maxGenres != null ? maxGenres : CrossValidatedTrainer.DEFAULT_MAX_GENRES)
              .withAssignmentCap(assignmentCap != null ? assignmentCap : CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP)
              .withCapOnEveryFold(capOnEveryFold(capScope))
              .withAssignmentFloor(assignmentFloor != null ? assignmentFloor : 0)
              .withBackboneSize(seen[0], seen[1])
              .train(data, output)
          : pretrained(config.arch())
          ? new BackboneTrainer(config, backbone, hidden, backboneInput, featureLayers, featureCache, ensembleWith, out).train(data, output)
          : new Trainer(config, out).train(data, output);
    } catch (IllegalArgumentException e) {
      // The trainers' checks of what they were given (backbone, feature layers, ensemble member, data).
      throw usage(e.getMessage());
    }
    out.printf("poster-genres: model written to %s (epoch %d exported, %.0f s)%n", outcome.dir(), outcome.bestEpoch(), outcome.seconds());
    out.flush();
    return ExitCode.OK.code();
  }

  /** --cap-scope every-fold (the default) or pooled. */
  static boolean capOnEveryFold(String scope) {
    if (scope == null || scope.equalsIgnoreCase("every-fold")) return true;
    if (scope.equalsIgnoreCase("pooled")) return false;
    throw new PosterGenresException(Failure.USAGE, "--cap-scope must be every-fold or pooled, not '" + scope + "'");
  }

  TrainingConfig config() {
    if (!isArchitecture(arch)) {
      throw usage("--arch " + arch + " is not an architecture this version can train; choices: " + String.join(", ", ARCHITECTURES));
    }
    if (timeLimitMinutes < 0) throw usage("--time-limit must be 0 (no limit) or more minutes, got " + timeLimitMinutes);
    if (maxPixels <= 0) throw usage("--max-pixels must be positive, got " + maxPixels);
    if (modelVersion.isBlank()) throw usage("--model-version must not be empty");
    boolean seedArch = arch.equals(SeedCnn.ARCH);
    boolean mobilenet = pretrained(arch);
    if (mobilenet) {
      if (imageSize != null) throw usage("--image-size is fixed by the backbone for --arch " + arch + " (224 MobileNetV2, 299 InceptionV3); leave it out");
      if (backbone == null) {
        throw usage("--arch " + arch + " needs --backbone DIR: the nsfwjs package's model folder, e.g. "
            + "node_modules/nsfwjs/dist/models/mobilenet_v2 after 'npm install nsfwjs@4.4.0'");
      }
      if (!Files.isDirectory(backbone)) throw new PosterGenresException(Failure.INPUT, "--backbone " + backbone + " is not a directory");
      if (hidden < 0) throw usage("--hidden must be 0 (linear head) or more, got " + hidden);
      if (ensembleWith != null && !Files.isRegularFile(ensembleWith.resolve("model.json"))) {
        throw new PosterGenresException(Failure.INPUT, "--ensemble-with " + ensembleWith + " is not a model directory (no model.json)");
      }
      if (folds == 1 || folds < 0) throw usage("--folds must be 0 (one validation split) or 2 or more, got " + folds);
      if (folds > 0 && ensembleWith != null) {
        throw usage("--ensemble-with needs one validation split shared with the member; it cannot be used with --folds");
      }
      if (folds == 0 && (inputSize != null || backboneSize != null || modelName != null || mirrorAverage || heads != 1 || crops || secondBackbone != null || headPerBackbone || rawFoldScales || maxGenres != null || assignmentCap != null || assignmentFloor != null || capScope != null)) {
        throw usage("--input-size, --backbone-size, --model-name, --mirror-average, --heads, --crops, --second-backbone, --head-per-backbone, --raw-fold-scales, --max-genres, --assignment-cap, --assignment-floor and --cap-scope need --folds K");
      }
      if (secondBackbone != null && !Files.isRegularFile(secondBackbone)) {
        throw new PosterGenresException(Failure.INPUT, "--second-backbone " + secondBackbone + " is not a file (a TensorFlow.js graph model's JSON, e.g. "
            + "node_modules/@vladmandic/human/models/centernet.json)");
      }
      if (heads < 1 || heads > 16) throw usage("--heads must be 1 to 16, got " + heads);
      if (maxGenres != null && (maxGenres < 1 || maxGenres > 10)) throw usage("--max-genres must be 1 to 10, got " + maxGenres);
      if (headPerBackbone && secondBackbone == null) throw usage("--head-per-backbone needs --second-backbone (one backbone has one family of heads)");
      inputSize();
      size(backboneSize, "--backbone-size");
      try { // the rule's constructor checks --assignment-cap and --assignment-floor
        new CalibrationRule(assignmentCap != null ? assignmentCap : CrossValidatedTrainer.DEFAULT_ASSIGNMENT_CAP, capOnEveryFold(capScope),
            assignmentFloor != null ? assignmentFloor : 0);
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
    } else if (backbone != null) {
      throw usage("--backbone is only for --arch pretrained");
    } else if (folds != 0 || inputSize != null || backboneSize != null || modelName != null || mirrorAverage || heads != 1 || crops || secondBackbone != null || headPerBackbone || rawFoldScales || maxGenres != null || assignmentCap != null || assignmentFloor != null || capScope != null) {
      throw usage("--folds, --input-size, --backbone-size, --model-name, --mirror-average, --heads, --crops, --second-backbone, --head-per-backbone, --raw-fold-scales, --max-genres, --assignment-cap, --assignment-floor and --cap-scope are only for --arch pretrained");
    } else if (!featureLayers.isEmpty() || featureCache != null || ensembleWith != null) {
      throw usage("--feature-layers, --feature-cache and --ensemble-with are only for --arch pretrained");
    }
    TrainingConfig base = seedArch ? TrainingConfig.seedDefaults() : mobilenet ? TrainingConfig.pretrainedDefaults() : TrainingConfig.defaults();
    try {
      return new TrainingConfig(imageSize != null ? imageSize : base.imageSize(), epochs != null ? epochs : base.epochs(),
          batchSize != null ? batchSize : base.batchSize(), learningRate, validationFraction, seed, dropout != null ? dropout : base.dropout(),
          positiveWeighting != null ? positiveWeighting : base.positiveWeighting(), threads, maxPixels, timeLimitMinutes,
          modelVersion, arch, augment != null ? augment : base.augment());
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /** --input-size as {height, width}; {0, 0} when not given (the backbone's own square). */
  private int[] inputSize() {
    return size(inputSize, "--input-size");
  }

  /** An HxW option as {height, width}; {0, 0} when not given. */
  private int[] size(String value, String option) {
    if (value == null) return new int[] {0, 0};
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{2,4})x(\\d{2,4})").matcher(value.trim());
    if (!m.matches()) throw usage(option + " must be HEIGHTxWIDTH in pixels, e.g. 320x224; got '" + value + "'");
    int h = Integer.parseInt(m.group(1));
    int w = Integer.parseInt(m.group(2));
    if (h < 32 || w < 32 || h > 1024 || w > 1024) throw usage(option + " must be 32 to 1024 pixels each way, got " + value);
    return new int[] {h, w};
  }

  private void checkOutput() throws IOException {
    if (Files.isRegularFile(output)) {
      throw new PosterGenresException(Failure.INPUT, "--output " + output + " is a file; it must be a directory (new or empty)");
    }
    if (Files.isDirectory(output) && !overwrite) {
      try (Stream<Path> files = Files.list(output)) {
        if (files.findAny().isPresent()) {
          throw new PosterGenresException(Failure.INPUT, "--output " + output
              + " is not empty; pass --overwrite to replace the model in it, or choose a new directory");
        }
      }
    }
  }

  private CcuDataset.Loaded load() {
    try {
      if (input.dataset != null) {
        if (!Files.isDirectory(input.dataset)) throw new PosterGenresException(Failure.INPUT, "--dataset " + input.dataset + " is not a directory");
        return CcuDataset.readCcu(input.dataset);
      }
      if (!Files.isRegularFile(input.manifest)) throw new PosterGenresException(Failure.INPUT, "--manifest " + input.manifest + " is not a file");
      return CcuDataset.readManifest(input.manifest);
    } catch (IOException e) {
      throw new PosterGenresException(Failure.INPUT, "cannot read the training data: " + e.getMessage(), e);
    }
  }

  private static boolean pretrained(String arch) {
    return isArchitecture(arch) && Architecture.parse(arch) == Architecture.PRETRAINED;
  }

  private static boolean isArchitecture(String arch) {
    try {
      Architecture.parse(arch);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
