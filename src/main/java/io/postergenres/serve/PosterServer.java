package io.postergenres.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.text.TextReader;
import io.postergenres.text.TextStage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online endpoint: one poster in, its genres out, through the same preprocessing and genre
 * rules as the batch job. The model is loaded once by the caller and shared; concurrent requests
 * are batched by an {@link InferenceBatcher}.
 *
 * <p>Built on Netty's HTTP codec, which Spark already puts on the classpath (no new dependency).
 * Sockets are read without blocking by a couple of event-loop threads, so a slow or silent client
 * holds no thread: it holds one connection until a deadline closes it (headers within {@code
 * headerTimeoutMillis}, the whole request within {@code bodyTimeoutMillis}, an idle keep-alive
 * connection after {@code idleTimeoutMillis}). A body announced over {@code maxBodyBytes} is
 * answered 413 from its headers and the connection closed, unread. Only complete requests reach
 * the decode pool ({@code threads}), whose queue is bounded (503 when full). {@code /health},
 * {@code /metrics} and the page are answered on the event loop and never wait for the pool.
 *
 * <ul>
 *   <li>{@code POST /analysis/} with the image bytes (raw, base64, a data URL, or a
 *       multipart/form-data upload) answers {@code {"result": [genres]}}, as the original Flask
 *       endpoint did; {@code GET /analysis/} answers {@code {"result": "Send post request"}}.
 *   <li>{@code POST /api/v1/classify}: genres, every score, model name and version, timings.
 *   <li>{@code GET /health}, {@code GET /metrics} (Prometheus text format), and the page at {@code /}.
 * </ul>
 *
 * Only requests whose {@code Host} is a loopback name, an IP address or a name in {@code
 * allowedHosts} are served (403 otherwise), so a web page cannot reach a loopback server through
 * DNS rebinding. Bad input gets a JSON error with the right status and a generic message (details
 * go to the log), and the server keeps serving.
 */
public final class PosterServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PosterServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> STATIC = Map.of(
      "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/style.css", "style.css");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "localhost.", "ip6-localhost");
  /** How long a connection refused mid-upload stays open (output shut) so the client reads its answer. */
  private static final long LINGER_MILLIS = 1_000;

  /**
   * Settings of one server.
   *
   * @param headerTimeoutMillis a request's line and headers must arrive within this, from its first byte
   * @param bodyTimeoutMillis the whole request must arrive within this, from its first byte
   * @param idleTimeoutMillis a connection with no request in progress is closed after this
   * @param maxConnections connections open at once; more are closed on accept
   * @param allowedHosts host names served besides loopback names and IP addresses; "*" serves any
   * @param maxQueue complete requests waiting for a decode thread; more are answered 503
   */
  public record Settings(String host, int port, long maxBodyBytes, long maxPixels, int maxBatch, long maxWaitMicros,
      int threads, long requestTimeoutMillis, long headerTimeoutMillis, long bodyTimeoutMillis, long idleTimeoutMillis,
      int maxConnections, List<String> allowedHosts, int maxQueue) {
    public Settings {
      if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("max body bytes must be between 1 and " + (Integer.MAX_VALUE - 8) + ", got " + maxBodyBytes);
      }
      allowedHosts = List.copyOf(allowedHosts);
    }

    /** The defaults for deadlines, connections, hosts and queue. */
    public Settings(String host, int port, long maxBodyBytes, long maxPixels, int maxBatch, long maxWaitMicros, int threads,
        long requestTimeoutMillis) {
      this(host, port, maxBodyBytes, maxPixels, maxBatch, maxWaitMicros, threads, requestTimeoutMillis,
          10_000, 60_000, 60_000, 256, List.of(), 64);
    }

    public Settings withDeadlines(long headerMillis, long bodyMillis, long idleMillis) {
      return new Settings(host, port, maxBodyBytes, maxPixels, maxBatch, maxWaitMicros, threads, requestTimeoutMillis,
          headerMillis, bodyMillis, idleMillis, maxConnections, allowedHosts, maxQueue);
    }

    public Settings withAllowedHosts(List<String> hosts) {
      return new Settings(host, port, maxBodyBytes, maxPixels, maxBatch, maxWaitMicros, threads, requestTimeoutMillis,
          headerTimeoutMillis, bodyTimeoutMillis, idleTimeoutMillis, maxConnections, hosts, maxQueue);
    }

    public Settings withLimits(int connections, int queue) {
      return new Settings(host, port, maxBodyBytes, maxPixels, maxBatch, maxWaitMicros, threads, requestTimeoutMillis,
          headerTimeoutMillis, bodyTimeoutMillis, idleTimeoutMillis, connections, allowedHosts, queue);
    }
  }

  private final ModelSpec spec;
  private final GenreRules rules;
  private final Preprocessor preprocessor;
  private final TextStage text; // null unless serving with --read-text
  private final Preprocessor textDecoder;
  private final Settings settings;
  private final InferenceBatcher batcher;
  private final ServerMetrics metrics = new ServerMetrics();
  private final EventLoopGroup boss;
  private final EventLoopGroup ioGroup;
  private final ThreadPoolExecutor pool;
  private final AtomicInteger connections = new AtomicInteger();
  private final Set<String> allowedHosts;
  private final long startedAt = System.currentTimeMillis();
  private Channel listening;

  public PosterServer(PosterModel model, Settings settings) throws IOException {
    this.spec = model.spec();
    this.rules = GenreRules.of(spec);
    this.preprocessor = new Preprocessor(spec.inputHeight(), spec.inputWidth(), settings.maxPixels());
    this.text = model.text();
    this.textDecoder = text == null ? null : TextReader.decoder(settings.maxPixels());
    this.settings = settings;
    this.batcher = new InferenceBatcher(model, settings.maxBatch(), settings.maxWaitMicros(),
        Math.max(settings.maxQueue(), settings.maxBatch()));
    this.allowedHosts = settings.allowedHosts().stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toSet());
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(Math.max(1, settings.maxQueue())), r -> {
          Thread t = new Thread(r, "poster-genres-http-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    this.boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.ioGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  public PosterServer start() throws IOException {
    batcher.start();
    ServerBootstrap bootstrap = new ServerBootstrap().group(boss, ioGroup).channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 128)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (connections.incrementAndGet() > settings.maxConnections()) {
              connections.decrementAndGet();
              ch.close();
              return;
            }
            ch.closeFuture().addListener(f -> connections.decrementAndGet());
            ch.pipeline()
                .addLast("deadline", new Deadline())
                .addLast("codec", new HttpServerCodec(4096, 8192, 64 * 1024))
                .addLast("gate", new Gate())
                .addLast("aggregate", new Aggregator((int) settings.maxBodyBytes()))
                .addLast("route", new Router());
          }
        });
    try {
      listening = bootstrap.bind(new InetSocketAddress(settings.host(), settings.port())).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + settings.host() + ":" + settings.port(), e);
    } catch (Exception e) {
      close();
      throw e instanceof IOException ioe ? ioe : new IOException("cannot listen on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e);
    }
    LOG.info("Serving model {} {} on http://{}:{}/ (batches of up to {}, {} us wait)", spec.name(), spec.version(),
        settings.host(), port(), settings.maxBatch(), settings.maxWaitMicros());
    return this;
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return ((InetSocketAddress) listening.localAddress()).getPort();
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  public InferenceBatcher batcher() {
    return batcher;
  }

  /** Connections open now. */
  public int openConnections() {
    return connections.get();
  }

  @Override
  public void close() {
    if (listening != null) listening.close().awaitUninterruptibly(2_000);
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    ioGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    batcher.close();
    pool.shutdownNow();
  }

  // ---- connection handling (event-loop threads) ----

  /**
   * Read deadlines: the first byte of a request arms the header deadline; its headers re-arm it to
   * the body deadline (counted from the first byte); the complete request disarms it. Between
   * requests an idle deadline runs. A request past its deadline gets 408 and the connection closes.
   */
  private final class Deadline extends ChannelDuplexHandler {
    private ScheduledFuture<?> timer;
    private long requestStartNanos;
    private boolean reading;

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      armIdle(ctx);
      super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!reading && msg instanceof ByteBuf b && b.isReadable()) {
        reading = true;
        requestStartNanos = System.nanoTime();
        arm(ctx, settings.headerTimeoutMillis(), true);
      }
      ctx.fireChannelRead(msg);
    }

    void headersRead(ChannelHandlerContext ctx) {
      if (!reading) return;
      long left = settings.bodyTimeoutMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - requestStartNanos);
      arm(ctx, Math.max(1, left), true);
    }

    void requestRead() {
      cancel();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      boolean last = msg instanceof FullHttpResponse;
      ctx.write(msg, promise);
      if (last) {
        promise.addListener(f -> {
          reading = false;
          if (ctx.channel().isActive()) armIdle(ctx);
        });
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }

    private void armIdle(ChannelHandlerContext ctx) {
      arm(ctx, settings.idleTimeoutMillis(), false);
    }

    private void arm(ChannelHandlerContext ctx, long millis, boolean request) {
      cancel();
      timer = ctx.executor().schedule(() -> {
        if (!ctx.channel().isActive()) return;
        if (request && reading && ctx.channel().attr(Gate.REFUSED).get() == null) {
          LOG.debug("Closing {}: request not received within its deadline", ctx.channel().remoteAddress());
          refuse(ctx, null, "other", 408, "timeout", "the request did not arrive in time");
        } else {
          ctx.close();
        }
      }, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
      if (timer != null) timer.cancel(false);
      timer = null;
    }
  }

  /**
   * Looks at each request's headers before any body is read: a malformed request, a Host that is
   * not served, or a Content-Length over the limit is answered at once and the connection closed;
   * the rest of that request is dropped unread.
   */
  private final class Gate extends ChannelInboundHandlerAdapter {
    static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf("poster-genres-refused");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (ctx.channel().attr(REFUSED).get() != null) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof HttpRequest req) {
        ctx.pipeline().get(Deadline.class).headersRead(ctx);
        String endpoint = endpoint(new QueryStringDecoder(req.uri()).path());
        if (req.decoderResult().isFailure()) {
          LOG.debug("Malformed request from {}: {}", ctx.channel().remoteAddress(), req.decoderResult().cause().toString());
          refuse(ctx, msg, endpoint, 400, "bad_request", "malformed HTTP request");
          return;
        }
        if (!hostAllowed(req)) {
          LOG.warn("Refused a request for Host '{}' from {}", req.headers().get(HttpHeaderNames.HOST), ctx.channel().remoteAddress());
          refuse(ctx, msg, endpoint, 403, "forbidden_host", "this server does not answer for that host name");
          return;
        }
        long declared = contentLength(req);
        if (declared > settings.maxBodyBytes()) {
          refuse(ctx, msg, endpoint, 413, ErrorKind.TOO_LARGE_FILE.columnValue(),
              "request body is over the limit of " + settings.maxBodyBytes() + " bytes");
          return;
        }
        if (declared < -1) {
          refuse(ctx, msg, endpoint, 400, "bad_request", "invalid Content-Length");
          return;
        }
      }
      ctx.fireChannelRead(msg);
    }

    private long contentLength(HttpRequest req) {
      String value = req.headers().get(HttpHeaderNames.CONTENT_LENGTH);
      if (value == null) return -1;
      try {
        long n = Long.parseLong(value.trim());
        return n < 0 ? -2 : n;
      } catch (NumberFormatException e) {
        return value.trim().matches("\\d+") ? Long.MAX_VALUE : -2;
      }
    }
  }

  /** Aggregates a request up to the body limit; a chunked body that grows past it is refused. */
  private final class Aggregator extends HttpObjectAggregator {
    Aggregator(int max) {
      super(max, true);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      refuse(ctx, null, "other", 413, ErrorKind.TOO_LARGE_FILE.columnValue(),
          "request body is over the limit of " + settings.maxBodyBytes() + " bytes");
    }
  }

  /**
   * Answers with Connection: close, shuts the output (the client reads the answer while it may
   * still be sending), drops whatever else arrives, and closes shortly after.
   */
  private void refuse(ChannelHandlerContext ctx, Object msg, String endpoint, int status, String kind, String message) {
    if (msg != null) ReferenceCountUtil.release(msg);
    Channel ch = ctx.channel();
    if (ch.attr(Gate.REFUSED).get() != null) return;
    ch.attr(Gate.REFUSED).set(Boolean.TRUE);
    metrics.record(endpoint, status, 0);
    ch.writeAndFlush(errorResponse(status, kind, message, false)).addListener(f -> {
      if (ch instanceof SocketChannel s && f.isSuccess()) s.shutdownOutput();
      ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    });
  }

  boolean hostAllowed(HttpRequest req) {
    String host = req.headers().get(HttpHeaderNames.HOST);
    if (host == null) return req.protocolVersion().equals(HttpVersion.HTTP_1_0);
    return hostAllowed(host, allowedHosts);
  }

  /** True for loopback names, IP literals (no DNS name to rebind), and the names allowed. */
  static boolean hostAllowed(String hostHeader, Set<String> allowed) {
    String h = hostHeader.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      return close > 0 && h.substring(1, close).matches("[0-9a-f:.]+");
    }
    int colon = h.lastIndexOf(':');
    if (colon >= 0) h = h.substring(0, colon);
    if (h.isEmpty()) return false;
    return LOOPBACK_NAMES.contains(h) || IPV4.matcher(h).matches() || allowed.contains(h) || allowed.contains("*");
  }

  private final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      ctx.pipeline().get(Deadline.class).requestRead();
      long start = System.nanoTime();
      String path = new QueryStringDecoder(req.uri()).path();
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      String method = req.method().name();
      String endpoint = endpoint(path);
      boolean classify = endpoint.equals("classify") || (endpoint.equals("analysis") && req.method().equals(HttpMethod.POST));
      if (!classify) {
        FullHttpResponse response = routeLight(path, method);
        reply(ctx, endpoint, start, keepAlive, response);
        return;
      }
      if (!req.method().equals(HttpMethod.POST)) {
        reply(ctx, endpoint, start, keepAlive, notAllowed(method, "POST"));
        return;
      }
      req.retain();
      try {
        pool.execute(() -> {
          FullHttpResponse response;
          try {
            response = classify(req, start, endpoint.equals("analysis"));
          } catch (Throwable e) {
            LOG.error("Request {} {} failed", method, path, e);
            response = errorResponse(500, "internal_error", "the server failed on this request", true);
          } finally {
            req.release();
          }
          reply(ctx, endpoint, start, keepAlive, response);
        });
      } catch (RejectedExecutionException e) {
        req.release();
        reply(ctx, endpoint, start, keepAlive, errorResponse(503, "busy", "too many requests are waiting; try again shortly", true));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("Connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  private void reply(ChannelHandlerContext ctx, String endpoint, long start, boolean keepAlive, FullHttpResponse response) {
    metrics.record(endpoint, response.status().code(), System.nanoTime() - start);
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  static String endpoint(String path) {
    return switch (path) {
      case "/analysis/", "/analysis" -> "analysis";
      case "/api/v1/classify" -> "classify";
      case "/health" -> "health";
      case "/metrics" -> "metrics";
      default -> STATIC.containsKey(path) ? "page" : "other";
    };
  }

  private FullHttpResponse routeLight(String path, String method) {
    switch (path) {
      case "/analysis/", "/analysis" -> {
        if (!method.equals("GET")) return notAllowed(method, "GET, POST");
        return json(200, Map.of("result", "Send post request"));
      }
      case "/health" -> {
        if (!method.equals("GET")) return notAllowed(method, "GET");
        Map<String, Object> body = new LinkedHashMap<>();
        boolean ok = batcher.alive();
        body.put("status", ok ? "ok" : "failing");
        body.put("model", Map.of("name", spec.name(), "version", spec.version()));
        body.put("uptime_seconds", (System.currentTimeMillis() - startedAt) / 1000);
        return json(ok ? 200 : 503, body);
      }
      case "/metrics" -> {
        if (!method.equals("GET")) return notAllowed(method, "GET");
        return response(200, "text/plain; version=0.0.4", metrics.prometheus(batcher).getBytes(StandardCharsets.UTF_8));
      }
      default -> {
        String resource = STATIC.get(path);
        if (resource == null) return errorResponse(404, "not_found", "no such endpoint (try /, /analysis/, /api/v1/classify, /health)", true);
        if (!method.equals("GET")) return notAllowed(method, "GET");
        try (InputStream in = PosterServer.class.getResourceAsStream(resource)) {
          if (in == null) return errorResponse(404, "not_found", "page resource missing", true);
          return response(200, contentType(resource), in.readAllBytes());
        } catch (IOException e) {
          LOG.error("Cannot read page resource {}", resource, e);
          return errorResponse(500, "internal_error", "the server failed on this request", true);
        }
      }
    }
  }

  // ---- classification (decode-pool threads) ----

  private FullHttpResponse classify(FullHttpRequest req, long start, boolean legacy) {
    byte[] image;
    try {
      image = imageOf(req);
    } catch (HttpPostRequestDecoder.ErrorDataDecoderException | IllegalArgumentException | IOException e) {
      LOG.debug("Unreadable multipart upload: {}", e.toString());
      return errorResponse(400, "bad_request", e instanceof NoPart ? e.getMessage() : "the multipart/form-data body cannot be read", true);
    }
    long decodeStart = System.nanoTime();
    float[] pixels;
    try {
      pixels = preprocessor.preprocess(image);
    } catch (PosterException e) {
      return errorResponse(statusOf(e.kind()), e.kind().columnValue(), e.getMessage(), true);
    } catch (RuntimeException e) {
      LOG.debug("Decoding an upload failed", e);
      return errorResponse(400, ErrorKind.CORRUPT.columnValue(), "cannot decode the image", true);
    }
    long inferStart = System.nanoTime();
    InferenceBatcher.Result result;
    try {
      result = batcher.submit(pixels).get(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return errorResponse(503, "timeout", "the model did not answer within " + settings.requestTimeoutMillis() + " ms", true);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RejectedExecutionException) {
        return errorResponse(503, "busy", "too many requests are waiting for the model; try again shortly", true);
      }
      LOG.error("The model failed on a request", e.getCause());
      return errorResponse(500, ErrorKind.INFERENCE_ERROR.columnValue(), "the model failed on this request", true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return errorResponse(503, "interrupted", "server is shutting down", true);
    }
    long textStart = System.nanoTime();
    float[] scored = result.scores();
    List<String> lines = null;
    if (text != null) { // --read-text: the words on the poster blended in (in this decode-pool thread)
      java.awt.image.BufferedImage decoded;
      try {
        decoded = textDecoder.decode(image);
      } catch (PosterException e) {
        decoded = null; // read as a poster without text, as the job does
      }
      try {
        lines = text.read(java.util.Collections.singletonList(decoded)).get(0);
        scored = scored.clone();
        text.blendLines(scored, List.of(lines));
      } catch (RuntimeException e) {
        LOG.error("The text stage failed on a request", e);
        return errorResponse(500, ErrorKind.INFERENCE_ERROR.columnValue(), "the text stage failed on this request", true);
      }
    }
    float[] finalScores = scored;
    long end = System.nanoTime();
    List<String> genres = rules.assign(finalScores, 0);
    if (legacy) return json(200, Map.of("result", genres));

    Map<String, Float> scores = new LinkedHashMap<>();
    Integer[] order = new Integer[finalScores.length];
    for (int i = 0; i < order.length; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Float.compare(finalScores[b], finalScores[a]));
    for (int i : order) scores.put(spec.genres().get(i), finalScores[i]);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("genres", genres);
    body.put("scores", scores);
    body.put("thresholds", spec.thresholds());
    body.put("model", Map.of("name", spec.name(), "version", spec.version()));
    body.put("batch_size", result.batchSize());
    if (lines != null) body.put("text", lines);
    Map<String, Double> timing = new LinkedHashMap<>();
    timing.put("decode", (inferStart - decodeStart) / 1e6);
    timing.put("queue_and_inference", (textStart - inferStart) / 1e6);
    if (text != null) timing.put("text", (end - textStart) / 1e6);
    timing.put("total", (end - start) / 1e6);
    body.put("timing_ms", timing);
    return json(200, body);
  }

  /**
   * The image of a request: the first file of a multipart/form-data body (or, without a file, its
   * first field, e.g. base64 text), else the body itself, whatever its content type (curl's
   * {@code --data-binary} says {@code application/x-www-form-urlencoded}; base64 clients say
   * {@code text/plain}). Base64 and data URLs are unwrapped.
   */
  static byte[] imageOf(FullHttpRequest req) throws IOException {
    if (!HttpPostRequestDecoder.isMultipart(req)) return unwrapBase64(ByteBufUtil.getBytes(req.content()));
    int bodyBytes = req.content().readableBytes(); // before the decoder reads the body
    HttpPostRequestDecoder decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), req);
    try {
      byte[] field = null;
      for (InterfaceHttpData data : decoder.getBodyHttpDatas()) {
        if (data instanceof FileUpload file) return unwrapBase64(file.get());
        if (field == null && data instanceof Attribute a) field = a.get();
      }
      if (field == null && bodyBytes > 0) throw new NoPart();
      return field == null ? new byte[0] : unwrapBase64(field);
    } finally {
      decoder.destroy();
    }
  }

  /** A multipart/form-data body with bytes but no part its boundary delimits: a wrong boundary, not an empty file. */
  static final class NoPart extends IOException {
    NoPart() {
      super("the multipart/form-data body holds no part: check that its boundary matches the Content-Type header");
    }
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

  private static FullHttpResponse notAllowed(String method, String allow) {
    FullHttpResponse r = errorResponse(405, "method_not_allowed", "method not allowed here; use " + allow, true);
    r.headers().set(HttpHeaderNames.ALLOW, allow);
    return r;
  }

  private static FullHttpResponse errorResponse(int status, String kind, String message, boolean keepAlive) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", kind);
    body.put("message", message);
    body.put("status", status);
    FullHttpResponse r = json(status, body);
    if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return r;
  }

  private static FullHttpResponse json(int status, Object body) {
    try {
      return response(status, "application/json", JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static FullHttpResponse response(int status, String type, byte[] bytes) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    r.headers().set("X-Content-Type-Options", "nosniff");
    return r;
  }
}
