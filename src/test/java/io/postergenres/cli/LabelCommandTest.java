package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.errors.PosterGenresException;
import io.postergenres.image.TestImages;
import io.postergenres.job.LabelOptions;
import io.postergenres.job.WriteMode;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line as a user meets it: options, the defaults file, exit codes and messages. */
class LabelCommandTest {
  @TempDir static Path tmp;
  static Path model;
  static Path posters;

  @BeforeAll
  static void setUp() throws Exception {
    model = TestModels.write(tmp.resolve("model"), 16, 12, 3);
    posters = tmp.resolve("posters");
    Files.createDirectories(posters);
    for (int i = 0; i < 4; i++) {
      Files.write(posters.resolve("p" + i + ".jpg"), TestImages.jpeg(TestImages.solid(40, 60, new Color(60 * i, 50, 200)), false));
    }
  }

  @AfterEach
  void clearDefaults() {
    System.clearProperty("poster-genres.conf");
  }

  record Outcome(int code, String out, String err) {}

  private static Outcome run(String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new Outcome(code, out.toString(), err.toString());
  }

  /** As main runs it ({@link PosterGenres#run}, the defaults file read first), with what it wrote to System.err. */
  private static Outcome runMain(String... args) {
    java.io.PrintStream before = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true));
    try {
      return new Outcome(PosterGenres.run(args), "", err.toString());
    } finally {
      System.setErr(before);
    }
  }

  private static String[] label(Path output, String... more) {
    return labelWith(model, output, more);
  }

  private static String[] labelWith(Path modelDir, Path output, String... more) {
    String[] base = {"label", "--input", posters.toString(), "--output", output.toString(), "--model", modelDir.toString(),
        "--master", "local[2]", "--conf", "spark.ui.enabled=false"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void labelsAndPrintsASummary() {
    Outcome o = run(label(tmp.resolve("ok")));
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("4 files listed, 4 labelled, 0 failed"), o.out());
    assertTrue(Files.isDirectory(tmp.resolve("ok").resolve("_runs")));
  }

  @Test
  void defaultGlobTakesWebp() throws Exception {
    Path webp = tmp.resolve("webp-posters");
    Files.createDirectories(webp);
    Files.write(webp.resolve("lossy.webp"), TestImages.webp("lossy.webp"));
    Files.write(webp.resolve("ALPHA.WEBP"), TestImages.webp("alpha.webp"));
    Files.write(webp.resolve("animated.webp"), TestImages.webp("animated.webp"));
    Outcome o = run("label", "--input", webp.toString(), "--output", tmp.resolve("webp-labels").toString(),
        "--model", model.toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("3 files listed, 3 labelled, 0 failed"), o.out());
  }

  @Test
  void existingOutputNeedsAMode() throws Exception {
    Path out = tmp.resolve("exists");
    Files.createDirectories(out);
    Outcome o = run(label(out));
    assertEquals(ExitCode.INPUT.code(), o.code());
    assertTrue(o.err().contains("already exists") && o.err().contains("--mode overwrite"), o.err());
    assertEquals(0, run(label(out, "--mode", "overwrite")).code());
  }

  /** Empty paths and a glob Hadoop cannot compile are bad options (exit 2, one line), found before Spark or the model start. */
  @Test
  void emptyPathsAndABrokenGlobAreBadOptions() {
    Outcome glob = run(label(tmp.resolve("glob"), "--glob", "*.{jpg"));
    assertEquals(ExitCode.USAGE.code(), glob.code(), glob.err());
    assertTrue(glob.err().contains("--glob '*.{jpg' is not a valid file pattern"), glob.err());
    assertFalse(glob.err().contains("\tat "), "no stack trace: " + glob.err());
    Outcome input = run("label", "--input", "", "--output", tmp.resolve("empty-in").toString(), "--model", model.toString());
    assertEquals(ExitCode.USAGE.code(), input.code(), input.err());
    assertTrue(input.err().contains("--input must not be empty"), input.err());
    Outcome output = run("label", "--input", posters.toString(), "--output", "", "--model", model.toString());
    assertEquals(ExitCode.USAGE.code(), output.code(), output.err());
    assertTrue(output.err().contains("--output must not be empty"), output.err());
    Outcome date = run(label(tmp.resolve("date"), "--run-date", "2026-13-45"));
    assertEquals(ExitCode.USAGE.code(), date.code(), date.err());
    assertTrue(date.err().contains("--run-date applies to --incremental runs only"), date.err());
    Outcome both = run("show", "--poster", "p1.jpg", "--failures", tmp.toString());
    assertEquals(ExitCode.USAGE.code(), both.code(), both.err());
    assertTrue(both.err().contains("pass one of them"), both.err());
    Outcome conf = run(label(tmp.resolve("conf"), "--conf", "spark.driver.maxResultSize=abc"));
    assertEquals(ExitCode.USAGE.code(), conf.code(), conf.err());
    assertTrue(conf.err().contains("Spark refused a setting") && conf.err().contains("maxResultSize"), conf.err());
    Outcome show = run("show", "");
    assertEquals(ExitCode.USAGE.code(), show.code(), show.err());
    assertTrue(show.err().contains("OUTPUT must not be empty"), show.err());
  }

  /** A defaults file named but missing is a bad option (exit 2, one line), not an exception out of main. */
  @Test
  void aMissingDefaultsFileIsABadOption() {
    System.setProperty("poster-genres.conf", tmp.resolve("no-such.properties").toString());
    Outcome o = runMain("label", "--help");
    assertEquals(ExitCode.USAGE.code(), o.code());
    assertTrue(o.err().contains("no-such.properties, which is not a file"), o.err());
  }

  /** A misspelt key in the defaults file would be ignored, and the run go on with the built-in default: refused instead. */
  @Test
  void aMisspeltKeyInTheDefaultsFileIsABadOption() throws Exception {
    Path conf = tmp.resolve("misspelt.properties");
    Files.writeString(conf, "label.batchsize = 0\n");
    System.setProperty("poster-genres.conf", conf.toString());
    Outcome o = runMain("label", "--help");
    assertEquals(ExitCode.USAGE.code(), o.code());
    assertTrue(o.err().contains("'label.batchsize' is not an option; did you mean 'label.batch-size'?"), o.err());
    Files.writeString(conf, "label.batch-size = abc\n");
    Outcome value = runMain(label(tmp.resolve("from-file")));
    assertEquals(ExitCode.USAGE.code(), value.code());
    assertTrue(value.err().contains("(from the defaults file " + conf + ", key label.batch-size)"), value.err());
    System.setProperty("poster-genres.conf", Path.of("conf/poster-genres.properties").toAbsolutePath().toString());
    assertEquals(0, PosterGenres.run("label", "--help"), "the shipped defaults file has only known keys");
  }

  @Test
  void badOptionValueSaysWhatToChange() {
    Outcome o = run(label(tmp.resolve("bad"), "--batch-size", "0"));
    assertEquals(ExitCode.USAGE.code(), o.code());
    assertTrue(o.err().contains("batch size must be at least 1"), o.err());
    Outcome ratio = run(label(tmp.resolve("bad"), "--max-failure-ratio", "2"));
    assertEquals(ExitCode.USAGE.code(), ratio.code());
    assertTrue(ratio.err().contains("--max-failure-ratio must be between 0 and 1"), ratio.err());
  }

  @Test
  void inputListReplacesInputAndABadOneSaysWhatToChange() throws Exception {
    Outcome both = run(label(tmp.resolve("both"), "--input-list", tmp.resolve("files.csv").toString()));
    assertEquals(ExitCode.USAGE.code(), both.code());
    assertTrue(both.err().contains("pass either --input (list the files) or --input-list"), both.err());
    Outcome neither = run("label", "--output", tmp.resolve("neither").toString());
    assertEquals(ExitCode.USAGE.code(), neither.code());
    assertTrue(neither.err().contains("pass --input with poster files, directories or globs, or --input-list with an inventory"),
        neither.err());
    Path list = tmp.resolve("files.csv");
    Files.writeString(list, "file\n/x/a.jpg\n");
    Outcome bad = run("label", "--input-list", list.toString(), "--output", tmp.resolve("bad-list").toString(),
        "--model", model.toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false");
    assertEquals(ExitCode.INPUT.code(), bad.code(), bad.err());
    assertTrue(bad.err().contains("has no path column (its columns: file)"), bad.err());
  }

  @Test
  void unknownOptionAndMissingRequiredAreUsageErrors() {
    Outcome o = run("label", "--input", "x", "--output", "y", "--batchsize", "3");
    assertEquals(ExitCode.USAGE.code(), o.code());
    assertTrue(o.err().contains("--batchsize"), o.err());
    Outcome missing = run("label", "--input", "x");
    assertEquals(ExitCode.USAGE.code(), missing.code());
    assertTrue(missing.err().contains("--output"), missing.err());
  }

  @Test
  void misspeltOptionIsNamedFirstWithASuggestionAndOneUsageLine() {
    Outcome o = run("label", "--inptu", "dir", "--output", "y");
    assertEquals(ExitCode.USAGE.code(), o.code());
    String[] lines = o.err().strip().split("\\R");
    assertTrue(lines[0].contains("unknown option '--inptu'") && lines[0].contains("did you mean --input?"), o.err());
    assertFalse(o.err().contains("Missing required option"), o.err());
    assertEquals(2, lines.length, "the error and one usage line, not the whole help: " + o.err());
    assertTrue(lines[1].startsWith("Usage: poster-genres label --output PATH [OPTIONS]"), lines[1]); // --input or --input-list
    Outcome command = run("lable");
    assertEquals(ExitCode.USAGE.code(), command.code());
    assertTrue(command.err().contains("unknown command 'lable'; did you mean label?"), command.err());
  }

  @Test
  void icebergOptionsThatCannotWorkAreUsageErrorsBeforeSparkStarts() {
    Outcome plain = run(label(tmp.resolve("ice"), "--table-format", "iceberg"));
    assertEquals(ExitCode.USAGE.code(), plain.code(), plain.err());
    assertTrue(plain.err().contains("add --incremental"), plain.err());
    Outcome onS3 = run("label", "--incremental", "--table-format", "iceberg", "--input", posters.toString(),
        "--output", "s3a://catalogue/labels", "--model", model.toString());
    assertEquals(ExitCode.USAGE.code(), onS3.code(), onS3.err());
    assertTrue(onS3.err().contains("--catalog jdbc:postgresql://"), onS3.err());
    Outcome catalog = run(label(tmp.resolve("ice"), "--incremental", "--catalog", "jdbc:postgresql://db/x?password=secret"));
    assertEquals(ExitCode.USAGE.code(), catalog.code(), catalog.err());
    assertTrue(catalog.err().contains("--table-format iceberg only"), catalog.err());
    Outcome uri = run(label(tmp.resolve("ice"), "--incremental", "--table-format", "iceberg", "--catalog", "thrift://hms:9083?password=secret"));
    assertEquals(ExitCode.USAGE.code(), uri.code(), uri.err());
    assertTrue(uri.err().contains("--catalog must be a JDBC URL") && !uri.err().contains("secret"), uri.err());
    Outcome format = run(label(tmp.resolve("ice"), "--incremental", "--table-format", "delta"));
    assertEquals(ExitCode.USAGE.code(), format.code(), format.err());
    assertTrue(format.err().contains("--table-format must be parquet or iceberg"), format.err());
  }

  @Test
  void misspeltMasterIsAUsageErrorBeforeSparkStarts() {
    Outcome o = run("label", "--input", posters.toString(), "--output", tmp.resolve("master").toString(),
        "--model", model.toString(), "--master", "lcoal[2]");
    assertEquals(ExitCode.USAGE.code(), o.code(), o.err());
    assertTrue(o.err().contains("--master 'lcoal[2]'") && o.err().contains("local[N]") && o.err().contains("spark://HOST:PORT"), o.err());
    assertFalse(o.err().contains("Exception"), o.err());
    for (String ok : new String[] {"local", "local[4]", "local[*]", "local[2,3]", "local-cluster[2,1,1024]",
        "spark://m:7077", "spark://a:7077,b:7077", "yarn", "k8s://https://k8s:6443"}) {
      LabelCommand.checkMaster(ok);
    }
    for (String bad : new String[] {"lcoal[2]", "local[0]", "local[two]", "spark://", "yarn-cluster", "mesos://m:5050"}) {
      assertThrows(io.postergenres.errors.PosterGenresException.class, () -> LabelCommand.checkMaster(bad), bad);
    }
  }

  @Test
  void inputWithoutAnyPosterExitsThreeAndSaysWhatTheGlobLeftOut() throws Exception {
    Path texts = tmp.resolve("texts");
    Files.createDirectories(texts.resolve("sub"));
    Files.writeString(texts.resolve("notes.txt"), "x");
    Files.writeString(texts.resolve("sub").resolve("readme.md"), "y");
    Outcome o = run("label", "--input", texts.toString(), "--output", tmp.resolve("texts-out").toString(),
        "--model", model.toString(), "--master", "local[1]", "--conf", "spark.ui.enabled=false");
    assertEquals(ExitCode.INPUT.code(), o.code(), o.err());
    assertTrue(o.err().contains("2 files are there, none matching") && o.err().contains("--glob"), o.err());
    assertFalse(Files.exists(tmp.resolve("texts-out")), "nothing is written");
    Path empty = tmp.resolve("empty-dir");
    Files.createDirectories(empty);
    Outcome e = run("label", "--input", empty.toString(), "--output", tmp.resolve("empty-out").toString(),
        "--model", model.toString(), "--master", "local[1]", "--conf", "spark.ui.enabled=false");
    assertEquals(ExitCode.INPUT.code(), e.code(), e.err());
    assertTrue(e.err().contains("no file there at all"), e.err());
  }

  @Test
  void helpListsEveryCommandInWholeSentencesAndTheExitCodesOnePerLine() {
    Outcome top = run("--help");
    assertEquals(0, top.code());
    // (the words may wrap anywhere: the column width follows the longest command name)
    assertTrue(top.out().replaceAll("\\s+", " ").contains("GET /health, GET /metrics, and a web page at / to classify one poster in the browser."),
        "serve's sentence is whole: " + top.out());
    assertFalse(top.out().contains("serve-load"), "hidden commands stay hidden");
    Outcome label = run("label", "--help");
    assertTrue(label.out().contains("Exit codes:"), label.out());
    for (int code = 0; code <= 6; code++) {
      String start = "  " + code + "  ";
      assertTrue(label.out().lines().anyMatch(l -> l.startsWith(start) && l.length() <= 80), "code " + code + ": " + label.out());
    }
    assertTrue(label.out().lines().anyMatch(l -> l.startsWith("  5  every row written")), label.out());
    assertTrue(label.out().contains("0.04") && !label.out().contains("about 0.01"), "--bf16's help: " + label.out());
  }

  @Test
  void unknownGenreInThresholdIsAUsageError() {
    Outcome o = run(label(tmp.resolve("t"), "--threshold", "Westerns=0.4"));
    assertEquals(ExitCode.USAGE.code(), o.code());
    assertTrue(o.err().contains("Westerns") && o.err().contains("Drama"), o.err());
  }

  @Test
  void missingInput() {
    Outcome o = run("label", "--input", tmp.resolve("nowhere").toString(), "--output", tmp.resolve("o").toString(),
        "--model", model.toString(), "--master", "local[1]", "--conf", "spark.ui.enabled=false");
    assertEquals(ExitCode.INPUT.code(), o.code());
    assertTrue(o.err().contains("does not exist") && o.err().contains("--input"), o.err());
  }

  @Test
  void missingOrBrokenModel() throws Exception {
    Outcome o = run(labelWith(tmp.resolve("no-model"), tmp.resolve("m1")));
    assertEquals(ExitCode.MODEL.code(), o.code());
    assertTrue(o.err().contains("does not exist"), o.err());
    Path broken = tmp.resolve("broken-model");
    Files.createDirectories(broken);
    Files.writeString(broken.resolve("model.json"), "{}");
    Files.write(broken.resolve("saved_model.pb"), new byte[] {1, 2, 3});
    Outcome b = run(labelWith(broken, tmp.resolve("m2")));
    assertEquals(ExitCode.MODEL.code(), b.code());
    assertTrue(b.err().contains("model.json is invalid"), b.err());
  }

  @Test
  void tooManyFailuresHasItsOwnCodeAndStillWritesEveryRow() throws Exception {
    Path mixed = tmp.resolve("mixed");
    Files.createDirectories(mixed);
    Files.write(mixed.resolve("good.jpg"), TestImages.jpeg(TestImages.solid(40, 60, Color.RED), false));
    Files.write(mixed.resolve("bad1.jpg"), new byte[0]);
    Files.writeString(mixed.resolve("bad2.png"), "not a png");
    Outcome o = run("label", "--input", mixed.toString(), "--output", tmp.resolve("mixed-out").toString(),
        "--model", model.toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
        "--max-failure-ratio", "0.5");
    assertEquals(ExitCode.TOO_MANY_FAILURES.code(), o.code(), o.err());
    assertTrue(o.err().contains("2 of 3 posters failed"), o.err());
    assertTrue(o.out().contains("1 labelled, 2 failed"), o.out());
  }

  @Test
  void defaultsFileSitsBetweenCommandLineAndBuiltIns() throws Exception {
    Path conf = tmp.resolve("defaults.properties");
    Files.writeString(conf, "label.batch-size = 7\nlabel.mode = append\n");
    LabelCommand builtIn = parse("label", "--input", "a", "--output", "b");
    assertEquals(32, builtIn.batchSize.batchSize);
    assertEquals(WriteMode.ERROR, builtIn.mode);
    System.setProperty("poster-genres.conf", conf.toString());
    LabelCommand fromFile = parse("label", "--input", "a", "--output", "b");
    assertEquals(7, fromFile.batchSize.batchSize);
    assertEquals(WriteMode.APPEND, fromFile.mode);
    LabelCommand fromCli = parse("label", "--input", "a", "--output", "b", "--batch-size", "9");
    assertEquals(9, fromCli.batchSize.batchSize);
    assertEquals(WriteMode.APPEND, fromCli.mode);
  }

  @Test
  void shippedDefaultsFileIsReadable() throws Exception {
    System.setProperty("poster-genres.conf", Path.of("conf/poster-genres.properties").toAbsolutePath().toString());
    LabelCommand c = parse("label", "--input", "a", "--output", "b");
    assertEquals("models/mobilenet-poster", c.model.model);
    assertEquals(0.1, c.maxFailureRatio, 1e-9);
  }

  @Test
  void decodeAheadIsAutoOnOrOff() throws Exception {
    String m = model.toString();
    assertEquals(LabelOptions.DecodeAhead.AUTO, decodeAhead("label", "--input", "a", "--output", "b", "--model", m));
    assertEquals(LabelOptions.DecodeAhead.ON, decodeAhead("label", "--decode-ahead", "--input", "a", "--output", "b", "--model", m),
        "--decode-ahead alone, before another option");
    assertEquals(LabelOptions.DecodeAhead.ON, decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--decode-ahead"),
        "--decode-ahead alone, last");
    for (String v : new String[] {"auto", "on", "off", "OFF"}) {
      assertEquals(LabelOptions.DecodeAhead.valueOf(v.toUpperCase(java.util.Locale.ROOT)),
          decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--decode-ahead", v), v);
      assertEquals(LabelOptions.DecodeAhead.valueOf(v.toUpperCase(java.util.Locale.ROOT)),
          decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--decode-ahead=" + v), v);
    }
    assertEquals(LabelOptions.DecodeAhead.OFF, decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--no-decode-ahead"));
    assertEquals(LabelOptions.DecodeAhead.OFF,
        decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--decode-ahead", "off", "--no-decode-ahead"));
    PosterGenresException both = assertThrows(PosterGenresException.class, () -> parse("label", "--input", "a", "--output", "b",
        "--model", m, "--decode-ahead", "on", "--no-decode-ahead").request());
    assertTrue(both.getMessage().contains("contradict"), both.getMessage());
    Outcome bad = run(label(tmp.resolve("never"), "--decode-ahead", "sometimes"));
    assertEquals(ExitCode.USAGE.code(), bad.code(), bad.err());
    assertTrue(bad.err().contains("--decode-ahead must be auto, on or off, not 'sometimes'"), bad.err());
    assertFalse(Files.exists(tmp.resolve("never")));
    // a defaults file of the former boolean option still reads
    Path conf = tmp.resolve("decode-ahead.properties");
    Files.writeString(conf, "label.decode-ahead = false\n");
    System.setProperty("poster-genres.conf", conf.toString());
    assertEquals(LabelOptions.DecodeAhead.OFF, decodeAhead("label", "--input", "a", "--output", "b", "--model", m));
    assertEquals(LabelOptions.DecodeAhead.ON, decodeAhead("label", "--input", "a", "--output", "b", "--model", m, "--decode-ahead"));
  }

  private static LabelOptions.DecodeAhead decodeAhead(String... args) {
    return parse(args).request().options().decodeAhead();
  }

  private static LabelCommand parse(String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    CommandLine.ParseResult parsed = cmd.parseArgs(args);
    return (LabelCommand) parsed.subcommand().commandSpec().userObject();
  }
}
