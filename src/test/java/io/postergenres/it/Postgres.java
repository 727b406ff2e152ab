package io.postergenres.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of its own for a test: Debian's server binaries ({@code
 * /usr/lib/postgresql/<version>/bin}), a new cluster in a temporary directory, listening on a free
 * loopback port only, with trust authentication (nothing else can reach it). PostgreSQL refuses to
 * run as root, and CI runs as root: there it runs as the {@code postgres} user Debian's package
 * creates, owner of the cluster's directory.
 */
final class Postgres implements AutoCloseable {
  final int port;
  private final Path dir;
  private final Process server;

  private Postgres(int port, Path dir, Process server) {
    this.port = port;
    this.dir = dir;
    this.server = server;
  }

  /** The newest installed server's bin directory, or null when PostgreSQL's server is not installed. */
  static Path binaries() throws IOException {
    Path base = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(base)) return null;
    try (Stream<Path> versions = Files.list(base)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
          .max(Comparator.comparing(b -> {
            String v = b.getParent().getFileName().toString();
            return v.matches("[0-9]+") ? Integer.parseInt(v) : 0;
          })).orElse(null);
    }
  }

  static Postgres start(Path bin) throws IOException, InterruptedException {
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("poster-genres-pg"); // under /tmp, which the postgres user can reach
    if (root) {
      UserPrincipal owner = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
      Files.setOwner(dir, owner);
    }
    Path data = dir.resolve("data");
    run(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-sync"), dir.resolve("initdb.log"));
    int port = LocalSpark.freePort();
    Process server = new ProcessBuilder(command(root, List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
        "-p", Integer.toString(port), "-k", dir.toString(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")))
        .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
    Postgres pg = new Postgres(port, dir, server);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection ignored = DriverManager.getConnection(pg.jdbcUrl())) {
        return pg;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline || !server.isAlive()) {
          pg.close();
          throw new IOException("PostgreSQL did not start: " + Files.readString(dir.resolve("server.log")), e);
        }
        Thread.sleep(200);
      }
    }
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  private static List<String> command(boolean root, List<String> command) {
    List<String> all = new ArrayList<>();
    if (root) all.addAll(List.of("runuser", "-u", "postgres", "--"));
    all.addAll(command);
    return all;
  }

  private static void run(boolean root, List<String> command, Path log) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command(root, command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + Files.readString(log));
    }
  }

  /** Stops the server (fast shutdown: open connections are closed) and deletes its cluster. */
  @Override
  public void close() throws IOException, InterruptedException {
    Path pidFile = dir.resolve("data/postmaster.pid");
    if (server.isAlive() && Files.exists(pidFile)) {
      String pid = Files.readAllLines(pidFile).get(0).trim();
      new ProcessBuilder("kill", "-INT", pid).start().waitFor(10, TimeUnit.SECONDS);
    }
    if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
