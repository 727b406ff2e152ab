package io.postergenres.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.image.Preprocessor;
import io.postergenres.image.TestImages;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP server on loopback, through a real HTTP client. */
class ServeTest {
  @TempDir static Path tmp;
  static PosterModel model;
  static PosterServer server;
  static HttpClient client;
  static final ObjectMapper JSON = new ObjectMapper();
  static byte[] poster;

  @BeforeAll
  static void start() throws Exception {
    Path dir = TestModels.write(tmp.resolve("model"), 32, 24, 11);
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    model = PosterModel.load(dir, pkg.spec(), 1, 1);
    server = new PosterServer(model, new PosterServer.Settings("127.0.0.1", 0, 200_000, 5_000_000, 8, 20_000, 8, 30_000)).start();
    client = HttpClient.newHttpClient();
    poster = TestImages.jpeg(TestImages.solid(300, 444, new Color(180, 30, 40)), false);
  }

  @AfterAll
  static void stop() {
    server.close();
    model.close();
  }

  static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  static HttpResponse<String> post(String path, byte[] body) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static List<String> expectedGenres(byte[] image) throws Exception {
    float[] pixels = new Preprocessor(32, 24, 5_000_000).preprocess(image);
    return GenreRules.of(model.spec()).assign(model.predict(pixels, 1), 0);
  }

  @Test
  void legacyGetAnswersLikeTheOriginal() throws Exception {
    HttpResponse<String> r = get("/analysis/");
    assertEquals(200, r.statusCode());
    assertEquals("Send post request", JSON.readTree(r.body()).get("result").asText());
  }

  @Test
  void legacyPostWithImageBytes() throws Exception {
    HttpResponse<String> r = post("/analysis/", poster);
    assertEquals(200, r.statusCode(), r.body());
    List<String> got = new ArrayList<>();
    JSON.readTree(r.body()).get("result").forEach(n -> got.add(n.asText()));
    assertEquals(expectedGenres(poster), got);
    assertFalse(got.isEmpty());
  }

  @Test
  void legacyPostWithBase64AsTheOriginalClientSent() throws Exception {
    byte[] b64 = Base64.getEncoder().encode(poster);
    JsonNode plain = JSON.readTree(post("/analysis/", b64).body());
    JsonNode dataUrl = JSON.readTree(post("/analysis/", ("data:image/jpeg;base64," + new String(b64, StandardCharsets.US_ASCII)).getBytes()).body());
    JsonNode raw = JSON.readTree(post("/analysis/", poster).body());
    assertEquals(raw, plain);
    assertEquals(raw, dataUrl);
  }

  @Test
  void richApiGivesEveryScoreModelAndTiming() throws Exception {
    HttpResponse<String> r = post("/api/v1/classify", poster);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = JSON.readTree(r.body());
    assertEquals(TestModels.GENRES.size(), body.get("scores").size());
    assertEquals("test-model", body.get("model").get("name").asText());
    assertEquals("seed-11", body.get("model").get("version").asText());
    assertTrue(body.get("timing_ms").get("total").asDouble() > 0);
    List<String> genres = new ArrayList<>();
    body.get("genres").forEach(n -> genres.add(n.asText()));
    assertEquals(expectedGenres(poster), genres);
    double previous = 2;
    for (var it = body.get("scores").fields(); it.hasNext(); ) {
      double s = it.next().getValue().asDouble();
      assertTrue(s <= previous, "scores listed best first");
      previous = s;
    }
  }

  @Test
  void greyscaleTransparentAndWebpPostersWork() throws Exception {
    assertEquals(200, post("/api/v1/classify", TestImages.greyJpeg(100, 150, 90)).statusCode());
    assertEquals(200, post("/api/v1/classify", TestImages.alphaPng(100, 150, Color.BLUE)).statusCode());
    byte[] webp = TestImages.webp("alpha.webp");
    HttpResponse<String> r = post("/api/v1/classify", webp);
    assertEquals(200, r.statusCode(), r.body());
    List<String> genres = new ArrayList<>();
    JSON.readTree(r.body()).get("genres").forEach(n -> genres.add(n.asText()));
    assertEquals(expectedGenres(webp), genres, "a WebP poster goes through the same preprocessing");
  }

  @Test
  void badInputGetsJsonErrorsAndTheServerKeepsServing() throws Exception {
    HttpResponse<String> empty = post("/analysis/", new byte[0]);
    assertEquals(400, empty.statusCode());
    assertEquals("empty", JSON.readTree(empty.body()).get("error").asText());

    HttpResponse<String> text = post("/analysis/", "hello, this is not an image".getBytes());
    assertEquals(415, text.statusCode());
    assertEquals("unsupported_format", JSON.readTree(text.body()).get("error").asText());

    HttpResponse<String> corrupt = post("/analysis/", TestImages.truncated(poster, 0.4));
    assertEquals(400, corrupt.statusCode());
    assertEquals("corrupt", JSON.readTree(corrupt.body()).get("error").asText());

    HttpResponse<String> noPart = client.send(HttpRequest.newBuilder(uri("/analysis/"))
        .header("Content-Type", "multipart/form-data; boundary=xyz")
        .POST(HttpRequest.BodyPublishers.ofString("garbage with no boundary line")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, noPart.statusCode());
    assertTrue(noPart.body().contains("holds no part: check that its boundary"), noPart.body());

    HttpResponse<String> big = post("/analysis/", new byte[300_000]);
    assertEquals(413, big.statusCode());
    assertEquals("too_large_file", JSON.readTree(big.body()).get("error").asText());

    HttpResponse<String> bomb = post("/analysis/", TestImages.hugePngHeader(50_000, 50_000));
    assertEquals(413, bomb.statusCode());

    HttpResponse<String> put = client.send(HttpRequest.newBuilder(uri("/analysis/")).PUT(HttpRequest.BodyPublishers.ofByteArray(poster)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(405, put.statusCode());
    assertEquals("GET, POST", put.headers().firstValue("Allow").orElse(""));

    HttpResponse<String> missing = get("/nope");
    assertEquals(404, missing.statusCode());
    assertEquals("not_found", JSON.readTree(missing.body()).get("error").asText());

    assertEquals(200, post("/analysis/", poster).statusCode(), "still serving after bad requests");
  }

  @Test
  void concurrentRequestsAreAnsweredCorrectlyAndBatched() throws Exception {
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < 24; i++) images.add(TestImages.jpeg(TestImages.solid(200, 300, new Color(10 * i, 255 - 10 * i, 90)), false));
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    long batchesBefore = server.batcher().batches();
    long postersBefore = server.batcher().posters();
    for (byte[] img : images) {
      futures.add(client.sendAsync(HttpRequest.newBuilder(uri("/analysis/")).POST(HttpRequest.BodyPublishers.ofByteArray(img)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < images.size(); i++) {
      HttpResponse<String> r = futures.get(i).get();
      assertEquals(200, r.statusCode());
      List<String> got = new ArrayList<>();
      JSON.readTree(r.body()).get("result").forEach(n -> got.add(n.asText()));
      assertEquals(expectedGenres(images.get(i)), got, "request " + i + " got its own answer");
    }
    assertEquals(24, server.batcher().posters() - postersBefore);
    // 24 requests at once on 8 request threads, while the model is busy: some must have shared a batch.
    assertTrue(server.batcher().batches() - batchesBefore < 24, "concurrent requests were batched");
    assertTrue(server.batcher().largestBatch() > 1);
  }

  @Test
  void healthMetricsAndPage() throws Exception {
    JsonNode health = JSON.readTree(get("/health").body());
    assertEquals("ok", health.get("status").asText());
    post("/analysis/", poster);
    String metrics = get("/metrics").body();
    assertTrue(metrics.contains("poster_genres_requests_total{endpoint=\"analysis\",status=\"200\"}"), metrics);
    assertTrue(metrics.contains("poster_genres_classify_seconds_count"), metrics);
    HttpResponse<String> page = get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertTrue(page.body().contains("<script src=\"/app.js\">"));
    assertEquals(200, get("/app.js").statusCode());
  }
}
