package io.postergenres.errors;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.job.RunSummary;
import io.postergenres.model.ModelException;
import io.postergenres.model.ModelPackage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue #13 item 9: user-info in a URI never reaches a message, a log line or a summary. */
class RedactionTest {
  @Test
  void userInfoIsStripped() {
    assertEquals("s3a://bucket/posters", Redaction.redact("s3a://AKIAKEY:s3cr3t@bucket/posters"));
    assertEquals("hdfs://nn:8020/x", Redaction.redact("hdfs://alice@nn:8020/x"));
    assertEquals("/local/path", Redaction.redact("/local/path"));
    assertEquals("s3a://b/x and s3a://c/y", Redaction.redact("s3a://k:s@b/x and s3a://k2:s2@c/y"));
    assertEquals("[s3a://b/x, /y]", Redaction.redact(List.of("s3a://k:s@b/x", "/y")));
    assertNull(Redaction.redact((String) null));
  }

  @Test
  void runSummaryRedactIsTheSame() {
    assertEquals("s3a://bucket/labels", RunSummary.redact("s3a://AKIAKEY:s3cr3t@bucket/labels"));
    assertEquals("file:/tmp/out", RunSummary.redact("file:/tmp/out"));
  }

  @Test
  void urisWithUserInfoAreRefusedBeforeAnyFileSystemSeesThem() {
    assertTrue(Redaction.hasUserInfo("s3a://AKIAKEY:s3cr3t@bucket/posters"));
    assertTrue(Redaction.hasUserInfo("s3a://AKIAKEY@bucket/posters"));
    assertFalse(Redaction.hasUserInfo("s3a://bucket/posters/a@b.jpg"));
    assertFalse(Redaction.hasUserInfo("/local/a@b"));
    PosterGenresException e = assertThrows(PosterGenresException.class, () -> new io.postergenres.job.LabelRequest(
        List.of("s3a://AKIAKEY:s3cr3t@bucket/posters"), "/tmp/out", "models/x", "*.jpg", io.postergenres.job.WriteMode.ERROR,
        0, 1.0, null, null, null, null));
    assertEquals(Failure.USAGE, e.failure());
    assertTrue(e.getMessage().contains("--input s3a://bucket/posters"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t") || e.getMessage().contains("AKIAKEY"), e.getMessage());
    assertThrows(PosterGenresException.class, () -> new io.postergenres.job.LabelRequest(List.of("/in"), "s3a://k:s@b/out",
        "models/x", "*.jpg", io.postergenres.job.WriteMode.ERROR, 0, 1.0, null, null, null, null));
  }

  @Test
  void modelMessagesDoNotCarryCredentials() {
    ModelException e = assertThrows(ModelException.class,
        () -> ModelPackage.read("file://user:s3cr3t@localhost/definitely/not/here", new org.apache.hadoop.conf.Configuration()));
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    assertFalse(e.getMessage().contains("user:"), e.getMessage());
  }
}
