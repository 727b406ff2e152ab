package io.postergenres.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.text.TextSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --read-text} with the shipped default model: the answer's scores are the plain
 * server's image scores blended with the lines it reports reading, and its genres follow the text
 * stage's thresholds.
 */
class ServeTextTest {
  static final Path MODEL = Path.of("models", "mobilenet-poster");
  static final ObjectMapper JSON = new ObjectMapper();
  static PosterServer plain;
  static PosterServer text;
  static PosterModel withText;
  static HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    ModelPackage pkg = ModelPackage.read(MODEL.toString(), new Configuration());
    ModelPackage image = pkg.withoutTextStage();
    ModelPackage blended = pkg.withTextStage();
    PosterModel imageModel = ModelCache.get(image.fingerprint(), () -> image, new ModelCache.Settings(2, 1), () -> {});
    withText = ModelCache.get(blended.fingerprint(), () -> blended, new ModelCache.Settings(2, 1), () -> {});
    PosterServer.Settings settings = new PosterServer.Settings("127.0.0.1", 0, 5_000_000, 50_000_000, 8, 20_000, 2, 60_000);
    plain = new PosterServer(imageModel, settings).start();
    text = new PosterServer(withText, settings).start();
  }

  @AfterAll
  static void stop() {
    if (plain != null) plain.close();
    if (text != null) text.close();
    ModelCache.closeAll();
  }

  static JsonNode classify(PosterServer server, byte[] poster) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/v1/classify"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(poster)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  @Test
  void answersWithTheBlendedScoresAndTheLinesRead() throws Exception {
    byte[] poster = Files.readAllBytes(Path.of("src", "samples", "posters", "night-chase.jpg"));
    JsonNode a = classify(plain, poster);
    JsonNode b = classify(text, poster);
    assertEquals(withText.spec().version(), b.get("model").get("version").asText(), "the image model's version and the stage's: " + b);
    assertTrue(withText.spec().version().contains("+text-"), withText.spec().version());
    assertTrue(b.get("text").isArray(), "the lines read: " + b);
    assertTrue(a.get("text") == null, "a plain server reads no text");
    List<String> lines = new ArrayList<>();
    b.get("text").forEach(n -> lines.add(n.asText()));
    List<String> genres = withText.spec().genres();
    float[] expected = new float[genres.size()];
    for (int j = 0; j < genres.size(); j++) expected[j] = a.get("scores").get(genres.get(j)).floatValue();
    withText.text().blendLines(expected, List.of(lines));
    float[] got = new float[genres.size()];
    for (int j = 0; j < genres.size(); j++) {
      got[j] = b.get("scores").get(genres.get(j)).floatValue();
      assertEquals(expected[j], got[j], 1e-4f, genres.get(j));
    }
    List<String> answered = new ArrayList<>();
    b.get("genres").forEach(n -> answered.add(n.asText()));
    assertEquals(GenreRules.of(withText.spec()).assign(got, 0), answered);
    assertEquals(withText.spec().thresholds().get("Drama"), b.get("thresholds").get("Drama").asDouble(), 1e-9);
    assertTrue(Files.isRegularFile(MODEL.resolve(TextSpec.DIR).resolve(TextSpec.FILE_NAME)));
  }
}
