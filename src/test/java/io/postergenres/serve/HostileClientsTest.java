package io.postergenres.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.postergenres.image.TestImages;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13: slow, silent and oversized clients on loopback; Host names; generic error bodies.
 * Raw sockets so the test controls every byte and every pause.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileClientsTest {
  @TempDir static Path tmp;
  static PosterModel model;
  static PosterServer server;
  static final ObjectMapper JSON = new ObjectMapper();
  static byte[] poster;

  @BeforeAll
  static void start() throws Exception {
    Path dir = TestModels.write(tmp.resolve("model"), 32, 24, 11);
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    model = PosterModel.load(dir, pkg.spec(), 1, 1);
    // Two request threads, as on a 1-core machine: the old server had four and four slow clients stopped it.
    server = new PosterServer(model, new PosterServer.Settings("127.0.0.1", 0, 200_000, 5_000_000, 8, 0, 2, 30_000)
        .withDeadlines(3_000, 4_000, 5_000).withAllowedHosts(List.of("posters.example"))).start();
    poster = TestImages.jpeg(TestImages.solid(300, 444, new Color(180, 30, 40)), false);
  }

  @AfterAll
  static void stop() {
    server.close();
    model.close();
  }

  static Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2_000);
    s.setSoTimeout(15_000);
    return s;
  }

  /** Everything the server sends until it closes the connection (or the socket times out). */
  static String readToEnd(Socket s) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    byte[] buf = new byte[4096];
    int n;
    try {
      while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
    } catch (SocketTimeoutException e) {
      return out.toString(StandardCharsets.ISO_8859_1) + "<still open>";
    } catch (IOException e) {
      // reset after the answer: what came is what counts
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** A fresh connection per call, so a slow one never shares with it. */
  static HttpResponse<String> get(String path) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static String raw(String request) throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return readToEnd(s);
    }
  }

  @Test
  void slowAndSilentClientsDoNotStopTheServer() throws Exception {
    ExecutorService slowSenders = Executors.newCachedThreadPool();
    List<Socket> sockets = new ArrayList<>();
    try {
      // Four clients that send their headers one byte every 200 ms (they would need 6 s; the header deadline is 3 s).
      List<Future<String>> slow = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Socket s = connect();
        sockets.add(s);
        slow.add(slowSenders.submit(() -> readToEnd(s)));
        slowSenders.submit(() -> {
          byte[] request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaa\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
          OutputStream out = s.getOutputStream();
          try {
            for (byte b : request) {
              out.write(b);
              out.flush();
              Thread.sleep(200);
            }
          } catch (IOException e) {
            // closed by the server: expected
          }
          return null;
        });
      }
      // Four that announce a huge body and send nothing.
      List<Socket> huge = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Socket s = connect();
        sockets.add(s);
        huge.add(s);
        s.getOutputStream().write(("POST /analysis/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
      }
      // Four that connect and say nothing; and four that send headers of a small body but not the body.
      for (int i = 0; i < 4; i++) sockets.add(connect());
      for (int i = 0; i < 4; i++) {
        Socket s = connect();
        sockets.add(s);
        s.getOutputStream().write(("POST /analysis/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\nabc")
            .getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
      }
      Thread.sleep(300);

      // Well-behaved clients are served meanwhile, promptly.
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        HttpResponse<String> health = get("/health");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(200, health.statusCode());
        assertTrue(ms < 1_000, "/health answered in " + ms + " ms while slow clients held connections");
      }
      HttpResponse<String> classified = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.port() + "/analysis/")).timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofByteArray(poster)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, classified.statusCode(), classified.body());

      // The huge announcements were answered 413 from their headers, and their connections closed.
      for (Socket s : huge) {
        String answer = readToEnd(s);
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(answer.contains("too_large_file"), answer);
        assertFalse(answer.endsWith("<still open>"), "connection closed after the 413");
      }
      // The slow senders ran out of time: 408 and closed, long before they finished.
      for (Future<String> f : slow) {
        String answer = f.get(20, TimeUnit.SECONDS);
        assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
        assertFalse(answer.endsWith("<still open>"));
      }
      // Silent and stalled connections are closed too (idle 5 s, body 4 s).
      for (Socket s : sockets.subList(8, 16)) assertFalse(readToEnd(s).endsWith("<still open>"));
      assertEquals(200, get("/health").statusCode());
    } finally {
      slowSenders.shutdownNow();
      for (Socket s : sockets) s.close();
    }
  }

  @Test
  void anOversizedBodyIsAnsweredBeforeItIsRead() throws Exception {
    // A client that sends its (too large) body anyway still reads the 413.
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write("POST /api/v1/classify HTTP/1.1\r\nHost: localhost\r\nContent-Length: 300000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      try {
        out.write(new byte[300_000]);
      } catch (IOException e) {
        // the server may shut the door first
      }
      String answer = readToEnd(s);
      assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
    }
    // Chunked, growing past the limit.
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write("POST /analysis/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      try {
        for (int i = 0; i < 30; i++) {
          out.write("2710\r\n".getBytes(StandardCharsets.ISO_8859_1));
          out.write(new byte[10_000]);
          out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
      } catch (IOException e) {
        // shut out: fine
      }
      assertTrue(readToEnd(s).startsWith("HTTP/1.1 413"));
    }
  }

  @Test
  void onlyTheNamesItServesAreAnswered() throws Exception {
    // DNS rebinding: a page on attacker.example whose name now points at 127.0.0.1.
    String rebound = raw("GET /health HTTP/1.1\r\nHost: attacker.example:8080\r\nConnection: close\r\n\r\n");
    assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
    assertFalse(rebound.contains("\"ok\""));
    String classify = raw("POST /analysis/ HTTP/1.1\r\nHost: attacker.example\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
    assertTrue(classify.startsWith("HTTP/1.1 403"), classify);
    for (String host : List.of("localhost:8080", "127.0.0.1", "[::1]:8080", "LOCALHOST", "posters.example", "10.1.2.3:80")) {
      String ok = raw("GET /health HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
      assertTrue(ok.startsWith("HTTP/1.1 200"), host + ": " + ok);
    }
    assertTrue(raw("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 403"), "HTTP/1.1 needs a Host");
  }

  @Test
  void errorsAreGenericAndNotSniffable() throws Exception {
    HttpResponse<String> missing = get("/%3Cscript%3Ealert(1)%3C/script%3E");
    assertEquals(404, missing.statusCode());
    assertFalse(missing.body().contains("script"), missing.body());
    assertEquals("nosniff", missing.headers().firstValue("X-Content-Type-Options").orElse(""));
    assertEquals("nosniff", get("/health").headers().firstValue("X-Content-Type-Options").orElse(""));
    String put = raw("PUT /analysis/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assertTrue(put.startsWith("HTTP/1.1 405"), put);
    assertFalse(put.contains("Exception"), put);
  }

  @Test
  void originalApiBodiesAreTakenWhateverTheirContentType() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    URI uri = URI.create("http://127.0.0.1:" + server.port() + "/analysis/");
    String b64 = java.util.Base64.getEncoder().encodeToString(poster);
    HttpResponse<String> bytes = client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofByteArray(poster)).build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> text = client.send(HttpRequest.newBuilder(uri).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString(b64)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, bytes.statusCode(), bytes.body());
    assertEquals(200, text.statusCode(), text.body());
    assertEquals(JSON.readTree(bytes.body()), JSON.readTree(text.body()));
  }

  @Test
  void multipartUploadsLikeCurlDashF() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    for (String path : List.of("/analysis/", "/api/v1/classify")) {
      URI uri = URI.create("http://127.0.0.1:" + server.port() + path);
      HttpResponse<String> raw = client.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(poster)).build(),
          HttpResponse.BodyHandlers.ofString());
      String boundary = "------------------------d74496d66958873e";
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"poster.jpg\"\r\n"
          + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      body.write(poster);
      body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
      HttpResponse<String> multipart = client.send(HttpRequest.newBuilder(uri)
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, multipart.statusCode(), path + ": " + multipart.body());
      JsonNode a = JSON.readTree(multipart.body());
      JsonNode b = JSON.readTree(raw.body());
      String field = path.equals("/analysis/") ? "result" : "genres";
      assertEquals(b.get(field), a.get(field), path);
    }
    // A form without any file: 400 (empty), not a crash.
    String boundary = "xyz";
    HttpResponse<String> none = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/analysis/"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofString("--xyz--\r\n")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, none.statusCode(), none.body());
  }
}
