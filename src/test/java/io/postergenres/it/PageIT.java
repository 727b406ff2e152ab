package io.postergenres.it;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postergenres.image.Preprocessor;
import io.postergenres.image.TestImages;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.PosterModel;
import io.postergenres.model.TestModels;
import io.postergenres.serve.PosterServer;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page at / in real headless Chromium (Debian's chromium and chromium-driver, which .ci/run
 * installs): choose a poster, see its genres and a bar per score.
 */
class PageIT {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  @TempDir static Path tmp;
  static PosterModel model;
  static PosterServer server;

  @BeforeAll
  static void start() throws Exception {
    Path dir = TestModels.write(tmp.resolve("model"), 32, 24, 21);
    ModelPackage pkg = ModelPackage.read(dir.toString(), new org.apache.hadoop.conf.Configuration());
    model = PosterModel.load(dir, pkg.spec(), 1, 1);
    server = new PosterServer(model, new PosterServer.Settings("127.0.0.1", 0, 10_000_000, 50_000_000, 8, 2_000, 4, 30_000)).start();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
    if (model != null) model.close();
  }

  @Test
  void uploadAPosterAndSeeItsGenres() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run installs them)");
    byte[] poster = TestImages.jpeg(TestImages.solid(300, 444, new Color(40, 160, 90)), false);
    Path file = tmp.resolve("poster.jpg");
    Files.write(file, poster);
    List<String> expected = GenreRules.of(model.spec())
        .assign(model.predict(new Preprocessor(32, 24, 50_000_000).preprocess(poster), 1), 0);

    ChromeDriver driver = chromium();
    try {
      WebElement input = upload(driver, server, "test-model", file);
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
      List<String> shown = driver.findElements(By.cssSelector("#genres .genre")).stream().map(WebElement::getText).toList();
      assertEquals(expected, shown);
      assertEquals(expected.isEmpty() ? "The model gives this poster no genre."
          : "This poster looks like " + (expected.size() == 1 ? expected.get(0)
              : String.join(", ", expected.subList(0, expected.size() - 1)) + " and " + expected.get(expected.size() - 1)) + ".",
          driver.findElement(By.id("verdict")).getText(), "plain words first");
      assertEquals(TestModels.GENRES.size(), driver.findElements(By.cssSelector("#scores .threshold")).size(),
          "each bar marks its threshold");
      List<WebElement> bars = driver.findElements(By.cssSelector("#scores .score"));
      assertEquals(TestModels.GENRES.size(), bars.size(), "one bar per genre");
      for (String g : expected) {
        assertTrue(driver.findElement(By.cssSelector(".score.chosen[data-genre='" + g + "']")).isDisplayed());
      }
      Files.createDirectories(Path.of("target"));
      Files.write(Path.of("target/page-test.png"), driver.getScreenshotAs(OutputType.BYTES));

      // A broken file shows an error message, not a crash.
      Path broken = tmp.resolve("broken.jpg");
      Files.writeString(broken, "not an image");
      input.sendKeys(broken.toString());
      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
      assertTrue(driver.findElement(By.id("error-text")).getText().startsWith("This is not an image the model takes"),
          driver.findElement(By.id("error")).getText());
      assertTrue(driver.findElement(By.id("error-detail")).getText().contains("not a supported poster format"));
      assertFalse(driver.findElement(By.id("result")).isDisplayed(), "no empty headings or broken preview after an error");
    } finally {
      driver.quit();
    }
  }

  /**
   * Opens the server's page, waits for its model line to show {@code model}, chooses {@code file}
   * (the hidden input made visible, as a user's click on the drop zone reaches it) and waits for the
   * answer; returns the file input for further uploads.
   */
  static WebElement upload(ChromeDriver driver, PosterServer server, String model, Path file) {
    driver.get("http://127.0.0.1:" + server.port() + "/");
    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), model));
    WebElement input = driver.findElement(By.id("file"));
    ((JavascriptExecutor) driver).executeScript("arguments[0].style.display = 'block';", input);
    input.sendKeys(file.toString());
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("timing"), "Answered in"));
    return input;
  }

  /** Headless Chromium through chromedriver, each on a free loopback port. */
  static ChromeDriver chromium() throws java.io.IOException {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toString());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(tmp, "chrome"), "--window-size=1100,900");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  @Test
  void withReadTextThePageShowsTheWordsReadAndTheBlendedGenres() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run installs them)");
    // The shipped default model with its text stage, as 'serve --read-text' runs it.
    ModelPackage pkg = ModelPackage.read(Path.of("models", "mobilenet-poster").toAbsolutePath().toString(),
        new org.apache.hadoop.conf.Configuration()).withTextStage();
    PosterModel withText = io.postergenres.model.ModelCache.get(pkg.fingerprint(), () -> pkg, new io.postergenres.model.ModelCache.Settings(2, 1), () -> {});
    java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(300, 450, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = im.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(new Color(20, 30, 60));
    g.fillRect(0, 0, 300, 450);
    g.setColor(new Color(240, 230, 200));
    g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 40));
    g.drawString("MURDER", 30, 330);
    g.dispose();
    Path file = tmp.resolve("murder.jpg");
    javax.imageio.ImageIO.write(im, "jpg", file.toFile());
    byte[] poster = Files.readAllBytes(file);
    try (PosterServer text = new PosterServer(withText, new PosterServer.Settings("127.0.0.1", 0, 10_000_000, 50_000_000, 8, 20_000, 2, 60_000)).start()) {
      // What the endpoint answers for this poster: the genres the page must show.
      java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + text.port() + "/api/v1/classify")).POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(poster)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      com.fasterxml.jackson.databind.JsonNode answer = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
      List<String> expected = new java.util.ArrayList<>();
      answer.get("genres").forEach(n -> expected.add(n.asText()));

      ChromeDriver driver = chromium();
      try {
        upload(driver, text, "+text-", file);
        WebElement read = driver.findElement(By.id("read"));
        assertTrue(read.isDisplayed(), "the words read are shown");
        assertTrue(read.getText().startsWith("Words read on the poster:") && read.getText().toUpperCase(java.util.Locale.ROOT).contains("MURDER"),
            read.getText());
        assertEquals(expected, driver.findElements(By.cssSelector("#genres .genre")).stream().map(WebElement::getText).toList());
        Files.write(Path.of("target/page-test-read-text.png"), driver.getScreenshotAs(OutputType.BYTES));
      } finally {
        driver.quit();
      }
    } finally {
      io.postergenres.model.ModelCache.closeAll();
    }
  }
}
