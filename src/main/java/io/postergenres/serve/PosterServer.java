package io.postergenres.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online endpoint: one poster in, its genres out, through the same preprocessing and genre
 * rules as the batch job. The model is loaded once by the caller and shared; concurrent requests
 * are batched by an {@link InferenceBatcher}. Built on the JDK's own HTTP server, so it adds no
 * web framework (and no Jetty version) to the classpath Spark already crowds.
 *
 * <ul>
 *   <li>{@code POST /analysis/} with the image bytes (or base64 of them, or a data URL) answers
 *       {@code {"result": [genres]}}, as the original Flask endpoint did; {@code GET /analysis/}
 *       answers {@code {"result": "Send post request"}}.
 *   <li>{@code POST /api/v1/classify}: genres, every score, model name and version, timings.
 *   <li>{@code GET /health}, {@code GET /metrics} (Prometheus text format), and the page at {@code /}.
 * </ul>
 *
 * Bad input gets a JSON error with the right status, and the server keeps serving.
 */
public final class PosterServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PosterServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> STATIC = Map.of(
      "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/style.css", "style.css");

  /** Settings of one server. */
  public record Settings(String host, int port, long maxBodyBytes, long maxPixels, int maxBatch, long maxWaitMicros,
      int threads, long requestTimeoutMillis) {}

  private final PosterModel model;
  private final ModelSpec spec;
  private final GenreRules rules;
  private final Preprocessor preprocessor;
  private final Settings settings;
  private final InferenceBatcher batcher;
  private final ServerMetrics metrics = new ServerMetrics();
  private final HttpServer http;
  private final ExecutorService pool;
  private final long startedAt = System.currentTimeMillis();

  public PosterServer(PosterModel model, Settings settings) throws IOException {
    this.model = model;
    this.spec = model.spec();
    this.rules = GenreRules.of(spec);
    this.preprocessor = new Preprocessor(spec.inputHeight(), spec.inputWidth(), settings.maxPixels());
    this.settings = settings;
    this.batcher = new InferenceBatcher(model, settings.maxBatch(), settings.maxWaitMicros());
    this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 128);
    this.pool = Executors.newFixedThreadPool(settings.threads(), r -> {
      Thread t = new Thread(r, "poster-genres-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(pool);
    http.createContext("/", this::handle);
  }

  public PosterServer start() {
    batcher.start();
    http.start();
    LOG.info("Serving model {} {} on http://{}:{}/ (batches of up to {}, {} us wait)", spec.name(), spec.version(),
        settings.host(), port(), settings.maxBatch(), settings.maxWaitMicros());
    return this;
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  public InferenceBatcher batcher() {
    return batcher;
  }

  @Override
  public void close() {
    http.stop(1);
    batcher.close();
    pool.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    long start = System.nanoTime();
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    int status;
    try {
      status = route(ex, path, method, start);
    } catch (RuntimeException e) {
      LOG.error("Request {} {} failed", method, path, e);
      status = error(ex, 500, "internal_error", "the server failed on this request: " + e);
    } finally {
      ex.close();
    }
    metrics.record(endpoint(path), status, System.nanoTime() - start);
  }

  private static String endpoint(String path) {
    return switch (path) {
      case "/analysis/", "/analysis" -> "analysis";
      case "/api/v1/classify" -> "classify";
      case "/health" -> "health";
      case "/metrics" -> "metrics";
      default -> STATIC.containsKey(path) ? "page" : "other";
    };
  }

  private int route(HttpExchange ex, String path, String method, long start) throws IOException {
    switch (path) {
      case "/analysis/", "/analysis" -> {
        if (method.equals("GET")) return json(ex, 200, Map.of("result", "Send post request"));
        if (!method.equals("POST")) return notAllowed(ex, "GET, POST");
        return classify(ex, start, true);
      }
      case "/api/v1/classify" -> {
        if (!method.equals("POST")) return notAllowed(ex, "POST");
        return classify(ex, start, false);
      }
      case "/health" -> {
        if (!method.equals("GET")) return notAllowed(ex, "GET");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok");
        body.put("model", Map.of("name", spec.name(), "version", spec.version()));
        body.put("uptime_seconds", (System.currentTimeMillis() - startedAt) / 1000);
        return json(ex, 200, body);
      }
      case "/metrics" -> {
        if (!method.equals("GET")) return notAllowed(ex, "GET");
        return send(ex, 200, "text/plain; version=0.0.4", metrics.prometheus(batcher).getBytes(StandardCharsets.UTF_8));
      }
      default -> {
        String resource = STATIC.get(path);
        if (resource == null) return error(ex, 404, "not_found", "no such endpoint: " + path + " (try /, /analysis/, /api/v1/classify, /health)");
        if (!method.equals("GET")) return notAllowed(ex, "GET");
        try (InputStream in = PosterServer.class.getResourceAsStream(resource)) {
          if (in == null) return error(ex, 404, "not_found", "page resource missing: " + resource);
          return send(ex, 200, contentType(resource), in.readAllBytes());
        }
      }
    }
  }

  private int classify(HttpExchange ex, long start, boolean legacy) throws IOException {
    String declared = ex.getRequestHeaders().getFirst("Content-Length");
    if (declared != null && Long.parseLong(declared.trim()) > settings.maxBodyBytes()) {
      drain(ex);
      return error(ex, 413, "too_large_file", "request body of " + declared + " bytes is over the limit of " + settings.maxBodyBytes());
    }
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxBodyBytes() + 1));
    }
    if (body.length > settings.maxBodyBytes()) {
      drain(ex);
      return error(ex, 413, "too_large_file", "request body is over the limit of " + settings.maxBodyBytes() + " bytes");
    }
    byte[] image = unwrapBase64(body);
    long decodeStart = System.nanoTime();
    float[] pixels;
    try {
      pixels = preprocessor.preprocess(image);
    } catch (PosterException e) {
      return error(ex, statusOf(e.kind()), e.kind().columnValue(), e.getMessage());
    } catch (RuntimeException e) {
      return error(ex, 400, ErrorKind.CORRUPT.columnValue(), "cannot decode the image: " + e);
    }
    long inferStart = System.nanoTime();
    InferenceBatcher.Result result;
    try {
      result = batcher.submit(pixels).get(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return error(ex, 503, "timeout", "the model did not answer within " + settings.requestTimeoutMillis() + " ms");
    } catch (ExecutionException e) {
      return error(ex, 500, ErrorKind.INFERENCE_ERROR.columnValue(), "model failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return error(ex, 503, "interrupted", "server is shutting down");
    }
    long end = System.nanoTime();
    List<String> genres = rules.assign(result.scores(), 0);
    if (legacy) return json(ex, 200, Map.of("result", genres));

    Map<String, Float> scores = new LinkedHashMap<>();
    Integer[] order = new Integer[result.scores().length];
    for (int i = 0; i < order.length; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Float.compare(result.scores()[b], result.scores()[a]));
    for (int i : order) scores.put(spec.genres().get(i), result.scores()[i]);
    Map<String, Object> body2 = new LinkedHashMap<>();
    body2.put("genres", genres);
    body2.put("scores", scores);
    body2.put("thresholds", spec.thresholds());
    body2.put("model", Map.of("name", spec.name(), "version", spec.version()));
    body2.put("batch_size", result.batchSize());
    Map<String, Double> timing = new LinkedHashMap<>();
    timing.put("decode", (inferStart - decodeStart) / 1e6);
    timing.put("queue_and_inference", (end - inferStart) / 1e6);
    timing.put("total", (end - start) / 1e6);
    body2.put("timing_ms", timing);
    return json(ex, 200, body2);
  }

  /**
   * The original web client posted the image base64-encoded; accept that, a data URL, and raw
   * bytes. Raw image bytes never pass as base64: every supported format starts with a byte
   * outside the base64 alphabet or with a magic that fails the check below.
   */
  static byte[] unwrapBase64(byte[] body) {
    int start = 0;
    if (body.length > 5 && new String(body, 0, 5, StandardCharsets.US_ASCII).equals("data:")) {
      int comma = indexOf(body, (byte) ',');
      if (comma < 0) return body;
      start = comma + 1;
    }
    int end = body.length;
    while (end > start && Character.isWhitespace(body[end - 1])) end--;
    if (end - start < 8) return body;
    for (int i = start; i < end; i++) {
      byte b = body[i];
      boolean ok = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
          || b == '+' || b == '/' || b == '=' || b == '-' || b == '_' || b == '\r' || b == '\n';
      if (!ok) return body;
    }
    String text = new String(body, start, end - start, StandardCharsets.US_ASCII);
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text.replaceAll("\\s", ""))
          : Base64.getMimeDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return body;
    }
  }

  /**
   * Reads and discards what is left of an oversized upload (up to a bound), so that the client,
   * still sending, gets the 413 instead of a reset connection. Past the bound the connection closes.
   */
  private static void drain(HttpExchange ex) {
    ex.getResponseHeaders().set("Connection", "close");
    try {
      InputStream in = ex.getRequestBody();
      byte[] sink = new byte[64 * 1024];
      long left = 64L * 1024 * 1024;
      int n;
      while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) left -= n;
    } catch (IOException e) {
      // the client gave up; nothing to answer
    }
  }

  private static int indexOf(byte[] b, byte x) {
    for (int i = 0; i < Math.min(b.length, 256); i++) if (b[i] == x) return i;
    return -1;
  }

  static int statusOf(ErrorKind kind) {
    return switch (kind) {
      case TOO_MANY_PIXELS, TOO_LARGE_FILE -> 413;
      case UNSUPPORTED_FORMAT -> 415;
      default -> 400;
    };
  }

  private static String contentType(String resource) {
    if (resource.endsWith(".html")) return "text/html; charset=utf-8";
    if (resource.endsWith(".js")) return "text/javascript; charset=utf-8";
    if (resource.endsWith(".css")) return "text/css; charset=utf-8";
    return "application/octet-stream";
  }

  private static int notAllowed(HttpExchange ex, String allow) throws IOException {
    ex.getResponseHeaders().set("Allow", allow);
    return error(ex, 405, "method_not_allowed", ex.getRequestMethod() + " is not allowed here; use " + allow);
  }

  private static int error(HttpExchange ex, int status, String kind, String message) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", kind);
    body.put("message", message);
    body.put("status", status);
    return json(ex, status, body);
  }

  private static int json(HttpExchange ex, int status, Object body) throws IOException {
    return send(ex, status, "application/json", JSON.writeValueAsBytes(body));
  }

  private static int send(HttpExchange ex, int status, String type, byte[] bytes) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
    return status;
  }

}
