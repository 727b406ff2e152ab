package io.postergenres.it;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Spark distribution laid out from the jars on Maven Central, for tests that launch Spark the way
 * a cluster does: {@code SPARK_HOME/jars} holds Spark and Hadoop (what a distribution ships), not
 * what the application jar carries.
 */
public final class LocalSpark {
  private LocalSpark() {}

  /** Spark's side of the classpath: the runtime classpath less what the application jar carries. */
  public static List<Path> sparkJars() throws IOException {
    String all = Files.readString(Path.of("target/runtime-classpath.txt")).trim();
    return Arrays.stream(all.split(File.pathSeparator))
        .filter(j -> !j.matches(".*/(org/tensorflow|org/bytedeco|com/google/protobuf/protobuf-java|info/picocli|com/twelvemonkeys|org/jfree|org/apache/iceberg|org/postgresql)/.*"))
        .map(Path::of).toList();
  }

  public static String sparkClasspath() throws IOException {
    return String.join(File.pathSeparator, sparkJars().stream().map(Path::toString).toList());
  }

  /** Lays out {@code home/jars} with links to Spark's jars and returns {@code home}. */
  public static Path layout(Path home) throws IOException {
    Path jars = home.resolve("jars");
    Files.createDirectories(jars);
    for (Path jar : sparkJars()) {
      Path link = jars.resolve(jar.getFileName());
      if (!Files.exists(link)) Files.createSymbolicLink(link, jar.toAbsolutePath());
    }
    return home;
  }

  /** The java command with the JVM flags Spark needs on Java 17. */
  public static List<String> java(String heap) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap));
    for (String opt : System.getProperty("spark.jvm.opens", "").split(" ")) {
      if (!opt.isBlank()) cmd.add(opt);
    }
    return cmd;
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
