package io.postergenres;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of the main code: no package cycles, and each layer depends only on the layers below.
 *
 * <pre>
 *   cli                                       commands, options, exit codes
 *   bench                                     measures the job and the model
 *   ml                                        the Spark ML Transformer (needs spark-mllib)
 *   api                                       the DataFrame API
 *   job.iceberg                               the nightly table as Apache Iceberg tables
 *   job.incremental, serve, eval, convert, train
 *   job                                       the labelling job
 *   metrics                                   ranking metrics, the decision rule's calibration
 *   model, image                              TensorFlow model, decoding
 *   errors                                    failures the user can fix
 * </pre>
 */
class ArchitectureTest {
  static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.postergenres");
  }

  @Test
  void noPackageCycles() {
    // One slice per package, nested ones included (train.pretrained apart from train).
    slices().matching("io.postergenres.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void layersDependOnlyDownwards() {
    layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("cli").definedBy("io.postergenres.cli..")
        .layer("bench").definedBy("io.postergenres.bench..")
        .layer("ml").definedBy("io.postergenres.ml..")
        .layer("api").definedBy("io.postergenres.api..")
        .layer("iceberg").definedBy("io.postergenres.job.iceberg..")
        .layer("incremental").definedBy("io.postergenres.job.incremental..")
        .layer("serve").definedBy("io.postergenres.serve..")
        .layer("eval").definedBy("io.postergenres.eval..")
        .layer("convert").definedBy("io.postergenres.convert..")
        .layer("train").definedBy("io.postergenres.train..")
        .layer("job").definedBy("io.postergenres.job")
        .layer("metrics").definedBy("io.postergenres.metrics..")
        .layer("model").definedBy("io.postergenres.model..")
        .layer("text").definedBy("io.postergenres.text..")
        .layer("image").definedBy("io.postergenres.image..")
        .layer("errors").definedBy("io.postergenres.errors..")
        .whereLayer("cli").mayNotBeAccessedByAnyLayer()
        .whereLayer("bench").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("ml").mayNotBeAccessedByAnyLayer()
        .whereLayer("api").mayOnlyBeAccessedByLayers("cli", "bench", "ml")
        .whereLayer("iceberg").mayOnlyBeAccessedByLayers("cli", "bench")
        .whereLayer("incremental").mayOnlyBeAccessedByLayers("cli", "bench", "iceberg")
        .whereLayer("serve").mayOnlyBeAccessedByLayers("cli", "bench")
        .whereLayer("eval").mayOnlyBeAccessedByLayers("cli", "bench")
        .whereLayer("convert").mayOnlyBeAccessedByLayers("cli", "bench", "train")
        .whereLayer("train").mayOnlyBeAccessedByLayers("cli", "bench", "eval", "convert")
        .whereLayer("job").mayOnlyBeAccessedByLayers("cli", "bench", "api", "iceberg", "incremental", "serve", "eval", "convert", "train")
        .whereLayer("metrics").mayOnlyBeAccessedByLayers("cli", "bench", "eval", "convert", "train")
        .whereLayer("model").mayOnlyBeAccessedByLayers("cli", "bench", "api", "iceberg", "incremental", "serve", "eval", "convert", "train", "job", "metrics")
        .whereLayer("text").mayOnlyBeAccessedByLayers("cli", "bench", "api", "iceberg", "incremental", "serve", "eval", "convert", "train", "job",
            "model")
        .whereLayer("image").mayOnlyBeAccessedByLayers("cli", "bench", "api", "iceberg", "incremental", "serve", "eval", "convert", "train", "job", "model",
            "metrics", "text")
        .check(classes);
  }
}
