package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.job.RunSetup;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.serve.PosterServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code poster-genres serve}: the online endpoint and its web page. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Serves the model over HTTP: POST /analysis/ (the original API), POST /api/v1/classify, "
            + "GET /health, GET /metrics, and a web page at / to classify one poster in the browser.")
public final class ServeCommand implements Callable<Integer> {
  @Mixin Verbosity verbosity;

  @Mixin ModelOption model;

  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address to listen on; 0.0.0.0 for every interface. Default: ${DEFAULT-VALUE}.")
  String host;

  @Option(names = "--port", defaultValue = "8080", description = "Port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--max-batch", paramLabel = "N", defaultValue = "16",
      description = "Most concurrent requests run in one TensorFlow call; 1 turns batching off. Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(names = "--max-wait-ms", paramLabel = "MS", defaultValue = "0",
      description = "How long a request may wait for others to batch with; 0 batches only what queued while the model was busy. Default: ${DEFAULT-VALUE}.")
  double maxWaitMs;

  @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "20971520",
      description = "Largest upload; bigger gets 413. Default: ${DEFAULT-VALUE}.")
  long maxBodyBytes;

  @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "16000000",
      description = "Largest width x height decoded; bigger images get 413 before decoding. Lower than label's default: "
          + "a large progressive JPEG takes about 6 bytes a pixel while it decodes. Default: ${DEFAULT-VALUE}.")
  long maxPixels;

  @Option(names = "--allow-host", paramLabel = "NAME", split = ",",
      description = "Host names to answer besides loopback names and IP addresses (a request for any other Host gets 403, "
          + "so a web page cannot reach the server through DNS rebinding); '*' answers any. Repeatable.")
  List<String> allowedHosts = new ArrayList<>();

  @Option(names = "--header-timeout-ms", paramLabel = "MS", defaultValue = "10000",
      description = "A request's headers must arrive within this from its first byte, else 408 and the connection closes. Default: ${DEFAULT-VALUE}.")
  long headerTimeoutMs;

  @Option(names = "--body-timeout-ms", paramLabel = "MS", defaultValue = "60000",
      description = "The whole request (headers and upload) must arrive within this from its first byte. Default: ${DEFAULT-VALUE}.")
  long bodyTimeoutMs;

  @Option(names = "--idle-timeout-ms", paramLabel = "MS", defaultValue = "60000",
      description = "A connection with no request in progress is closed after this. Default: ${DEFAULT-VALUE}.")
  long idleTimeoutMs;

  @Option(names = "--max-connections", paramLabel = "N", defaultValue = "256",
      description = "Connections open at once; more are closed on accept. Default: ${DEFAULT-VALUE}.")
  int maxConnections;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Request threads (decode in parallel); 0: twice the cores. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Mixin SharedOptions.Bf16 bf16;

  @Option(names = "--read-text",
      description = "Also read the words on each poster with the model's text stage and answer with the blended scores, the "
          + "stage's thresholds and the lines read ('text'); about 0.15 s more per poster on 2 cores.")
  boolean readText;

  @Override
  public Integer call() throws IOException, InterruptedException {
    verbosity.apply();
    if (port < 0 || port > 65535) throw usage("--port must be between 0 and 65535, got " + port);
    if (maxBatch < 1) throw usage("--max-batch must be at least 1, got " + maxBatch);
    if (maxWaitMs < 0) throw usage("--max-wait-ms must be 0 or more, got " + maxWaitMs);
    if (maxBodyBytes < 1 || maxPixels < 1) throw usage("--max-body-bytes and --max-pixels must be positive");
    if (maxBodyBytes > Integer.MAX_VALUE - 8) throw usage("--max-body-bytes must be at most " + (Integer.MAX_VALUE - 8));
    if (threads < 0) throw usage("--threads must be 0 (automatic) or more, got " + threads);
    if (headerTimeoutMs < 1 || bodyTimeoutMs < 1 || idleTimeoutMs < 1) throw usage("--header-timeout-ms, --body-timeout-ms and --idle-timeout-ms must be positive");
    if (maxConnections < 1) throw usage("--max-connections must be at least 1, got " + maxConnections);
    ModelPackage pkg = RunSetup.readModel(model.resolved(), new Configuration(), readText);
    PosterModel loaded = ModelCache.get(pkg.fingerprint(), () -> pkg, new ModelCache.Settings(0, 0, bf16.bf16).resolved(), () -> {});
    if (bf16.bf16 && !loaded.bf16()) {
      System.err.println("poster-genres: --bf16 refused on this CPU, serving in float32 (" + ModelCache.lastBf16Check().describe() + ")");
    }
    PosterServer.Settings settings = new PosterServer.Settings(host, port, maxBodyBytes, maxPixels, maxBatch,
        Math.round(maxWaitMs * 1000), threads > 0 ? threads : 2 * ModelCache.Settings.allCores(), 30_000)
        .withDeadlines(headerTimeoutMs, Math.max(bodyTimeoutMs, headerTimeoutMs), idleTimeoutMs)
        .withAllowedHosts(allowedHosts).withLimits(maxConnections, 64);
    PosterServer server;
    try {
      server = new PosterServer(loaded, settings).start();
    } catch (IOException e) {
      throw usage(cannotListen(host, port, e));
    }
    System.out.printf("poster-genres: serving %s %s on http://%s:%d/ (Ctrl-C stops)%n",
        pkg.spec().name(), pkg.spec().version(), host, server.port());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "poster-genres-serve-stop"));
    stopped.await();
    return ExitCode.OK.code();
  }

  /** Why the server could not listen, in words that name the option to change. */
  static String cannotListen(String host, int port, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    if (root instanceof java.nio.channels.UnresolvedAddressException || root instanceof java.net.UnknownHostException) {
      return "--host " + host + " is not a known host name or address of this machine";
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    if (root instanceof java.net.BindException && message.toLowerCase(java.util.Locale.ROOT).contains("in use")) {
      return "port " + port + " on " + host + " is already in use; stop what listens there or choose another --port";
    }
    if (root instanceof java.net.BindException) {
      return "cannot listen on " + host + ":" + port + " (" + message + "); --host must be an address of this machine";
    }
    return "cannot listen on " + host + ":" + port + " (" + message + "); check --host and --port";
  }

  private static PosterGenresException usage(String message) {
    return new PosterGenresException(Failure.USAGE, message);
  }
}
