package io.postergenres.model;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import io.postergenres.errors.Redaction;
import io.postergenres.text.TextSpec;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.io.IOUtils;

/**
 * A model directory as bytes: what the driver broadcasts so that executors never need to reach the
 * model's file system (TensorFlow's loader reads only local paths). Read from any Hadoop file
 * system ({@code file:}, {@code hdfs://}, {@code s3a://}), checked against the contract, and
 * identified by a SHA-256 fingerprint of its files. Immutable and serializable.
 */
public final class ModelPackage implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Java serialization of arrays tops out near 2 GB; refuse well before. */
  static final long MAX_BYTES = 1_500_000_000L;
  static final String SAVED_MODEL = "saved_model.pb";

  /** One file of the model directory, by path relative to it ('/'-separated). */
  public record Entry(String path, byte[] bytes) implements Serializable {}

  private final String location;
  private final ModelSpec spec;
  private final List<Entry> files;
  private final String fingerprint;
  private final boolean readsText;

  private ModelPackage(String location, ModelSpec spec, List<Entry> files, String fingerprint, boolean readsText) {
    this.location = location;
    this.spec = spec;
    this.files = List.copyOf(files);
    this.fingerprint = fingerprint;
    this.readsText = readsText;
  }

  /** Reads and checks a model directory; fails with a {@link ModelException} saying what is wrong. */
  public static ModelPackage read(String location, Configuration conf) {
    String dir = Redaction.redact(location); // what messages show
    if (Redaction.hasUserInfo(location)) { // before Hadoop, which logs the whole URI of a file system it cannot make
      throw new ModelException("model " + dir + " holds credentials in its URI (user-info before the host); they belong in "
          + "the Hadoop configuration (fs.s3a.access.key and fs.s3a.secret.key, a credential provider, or the machine's role)");
    }
    org.apache.hadoop.fs.Path root;
    try {
      root = new org.apache.hadoop.fs.Path(location);
    } catch (IllegalArgumentException e) {
      throw new ModelException("--model " + dir + " is not a valid path or URI", e);
    }
    List<Entry> files = new ArrayList<>();
    long total = 0;
    try {
      FileSystem fs = root.getFileSystem(conf);
      FileStatus status;
      try {
        status = fs.getFileStatus(root);
      } catch (FileNotFoundException e) {
        throw new ModelException("model directory " + dir + " does not exist; pass --model with a model directory");
      }
      if (!status.isDirectory()) {
        throw new ModelException("model " + dir + " is a file; --model takes a directory holding saved_model.pb and model.json");
      }
      // before reading everything below: --model pointed at the wrong folder (a home, /tmp) fails at once
      if (!fs.exists(new org.apache.hadoop.fs.Path(root, ModelSpec.FILE_NAME))) throw noSpec(dir);
      if (!fs.exists(new org.apache.hadoop.fs.Path(root, SAVED_MODEL))) throw noSavedModel(dir);
      String prefix = fs.makeQualified(root).toUri().getPath();
      prefix = prefix.endsWith("/") ? prefix : prefix + "/";
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String rel = f.getPath().toUri().getPath().substring(prefix.length());
        total += f.getLen();
        if (total > MAX_BYTES) {
          throw new ModelException("model " + dir + " is over " + MAX_BYTES + " bytes, too large to broadcast");
        }
        byte[] bytes = new byte[(int) f.getLen()];
        try (InputStream in = fs.open(f.getPath())) {
          IOUtils.readFully(in, bytes, 0, bytes.length);
        }
        files.add(new Entry(rel, bytes));
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelException("cannot read model directory " + dir + ": " + Redaction.redact(String.valueOf(e.getMessage())), e);
    }
    files.sort(Comparator.comparing(Entry::path));
    return of(dir, files);
  }

  /** Builds a package from files already in memory and checks it. */
  public static ModelPackage of(String where, List<Entry> files) {
    String location = Redaction.redact(where);
    byte[] specBytes = find(files, ModelSpec.FILE_NAME);
    if (specBytes == null) throw noSpec(location);
    byte[] pb = find(files, SAVED_MODEL);
    if (pb == null) throw noSavedModel(location);
    ModelSpec spec = ModelSpec.parse(specBytes, location + "/" + ModelSpec.FILE_NAME);
    ModelContract.check(pb, spec, location);
    return new ModelPackage(location, spec, files, fingerprint(files), false);
  }

  private static final String TEXT_PREFIX = TextSpec.DIR + "/";

  /** Whether the model directory holds a text stage ({@code text/text.json}). */
  public boolean hasTextStage() {
    return find(files, TEXT_PREFIX + TextSpec.FILE_NAME) != null;
  }

  /**
   * SHA-256 of what the image model's scores depend on: {@code saved_model.pb} and {@code
   * variables/}. Unlike {@link #fingerprint()} it stays the same when the card, the thresholds or
   * the text stage change; a text stage records it to know the image model it was trained beside.
   */
  public String scoresFingerprint() {
    return fingerprint(files.stream().filter(e -> e.path().equals(SAVED_MODEL) || e.path().startsWith("variables/")).toList());
  }

  /** Whether the loaded model runs its text stage and labels by the blended scores. */
  public boolean readsText() {
    return readsText;
  }

  /**
   * This model without its text stage's files: what is broadcast when the text is not read, and
   * whose fingerprint is the image model's alone (as before the stage was added).
   */
  public ModelPackage withoutTextStage() {
    if (!hasTextStage() && !readsText) return this;
    List<Entry> image = files.stream().filter(e -> !e.path().startsWith(TEXT_PREFIX)).toList();
    return new ModelPackage(location, spec, image, fingerprint(image), false);
  }

  /**
   * This model with its text stage: the spec's thresholds become the text stage's (calibrated on
   * the blended scores) and its version gains "+text-" and the stage's version.
   *
   * @throws ModelException when the model has no text stage or it is invalid
   */
  public ModelPackage withTextStage() {
    byte[] json = find(files, TEXT_PREFIX + TextSpec.FILE_NAME);
    if (json == null) {
      throw new ModelException("model " + location + " has no text stage (" + TEXT_PREFIX + TextSpec.FILE_NAME + "); train one with "
          + "'poster-genres train-text --model DIR ...' or leave out --read-text");
    }
    TextSpec text;
    try {
      text = TextSpec.parse(json, spec.genres());
    } catch (IllegalArgumentException e) {
      throw new ModelException("model " + location + ": " + TEXT_PREFIX + e.getMessage(), e);
    }
    String image = scoresFingerprint();
    if (!image.equals(text.imageModelFingerprint())) {
      throw new ModelException("model " + location + ": its text stage was trained beside another image model (fingerprint "
          + text.imageModelFingerprint().substring(0, 12) + ", this one is " + image.substring(0, 12) + "); its weight and thresholds do"
          + " not fit this model: train it again with 'poster-genres train-text', or leave out --read-text");
    }
    if (!spec.version().equals(text.imageModelVersion())) {
      // The same network with its thresholds chosen again ('calibrate'): the stage's thresholds follow the old rule.
      throw new ModelException("model " + location + ": its text stage was calibrated beside version " + text.imageModelVersion()
          + " of this image model, and this is " + spec.version() + " (its thresholds were chosen again); train the stage again with"
          + " 'poster-genres train-text', or leave out --read-text");
    }
    for (String f : List.of(text.detector(), text.recogniser(), text.characters(), text.head())) {
      if (find(files, TEXT_PREFIX + f) == null) throw new ModelException("model " + location + ": " + TEXT_PREFIX + f + " named in text.json is missing");
    }
    ModelSpec blended = spec.withThresholds(text.thresholdsInOrder()).withVersion(spec.version() + "+text-" + text.version());
    // not the plain package's fingerprint: the same files labelled with the text stage are another model
    String readingText = HexFormat.of().formatHex(sha256().digest((fingerprint(files) + "|read-text").getBytes(StandardCharsets.UTF_8)));
    return new ModelPackage(location, blended, files, readingText, true);
  }

  private static ModelException noSpec(String location) {
    return new ModelException("model " + location + " has no " + ModelSpec.FILE_NAME
        + "; every model directory needs one (name, version, input size, genres, thresholds)");
  }

  private static ModelException noSavedModel(String location) {
    return new ModelException("model " + location + " has no " + SAVED_MODEL + "; it must be a TensorFlow SavedModel directory");
  }

  private static byte[] find(List<Entry> files, String path) {
    for (Entry e : files) if (e.path().equals(path)) return e.bytes();
    return null;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String fingerprint(List<Entry> files) {
    MessageDigest md = sha256();
    List<Entry> sorted = new ArrayList<>(files);
    sorted.sort(Comparator.comparing(Entry::path));
    for (Entry e : sorted) {
      md.update(e.path().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(Long.toString(e.bytes().length).getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(e.bytes());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Writes the files under {@code dir} (created if needed). */
  public void writeTo(Path dir) throws IOException {
    Path root = dir.toAbsolutePath().normalize(); // "x/./y" is inside "x/y"; compare normal forms
    for (Entry e : files) {
      Path target = root.resolve(e.path()).normalize();
      if (!target.startsWith(root)) throw new IOException("model file escapes its directory: " + e.path());
      Files.createDirectories(target.getParent());
      Files.write(target, e.bytes());
    }
  }

  public String location() {
    return location;
  }

  public ModelSpec spec() {
    return spec;
  }

  public String fingerprint() {
    return fingerprint;
  }

  public long sizeBytes() {
    return files.stream().mapToLong(e -> e.bytes().length).sum();
  }
}
