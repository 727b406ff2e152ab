package io.postergenres.job;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The previous run's summary, found among many without reading each. */
class RunReportPreviousTest {
  @TempDir java.nio.file.Path tmp;

  /** The local file system, recording the files it opens. */
  static final class Opened extends LocalFileSystem {
    final List<String> names = new ArrayList<>();

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
      names.add(f.getName());
      return super.open(f, bufferSize);
    }
  }

  static Opened fs() throws IOException {
    Opened fs = new Opened();
    fs.initialize(URI.create("file:///"), new Configuration());
    return fs;
  }

  /** A summary of a run started at {@code started}, written under the name its run id gives it. */
  static RunSummary run(java.nio.file.Path runs, String started) throws IOException {
    RunSummary s = new RunSummary(RunSetup.newRunId(Instant.parse(started)), started, started, 1, List.of("in"), "out",
        "m", "1", "f", 1, 1, 1, 0, Map.of(), 0, 1, 1, 1, 1, 0.1, false, null);
    Files.createDirectories(runs);
    Files.write(runs.resolve(s.runId() + ".json"), s.toJson());
    return s;
  }

  /** What reading every summary finds: the latest started before {@code startedAt}. */
  static String everyOne(List<RunSummary> all, String startedAt) {
    return all.stream().filter(s -> s.startedAt().compareTo(startedAt) < 0).map(RunSummary::startedAt).max(String::compareTo).orElse(null);
  }

  @Test
  void findsTheSameSummaryAsReadingEveryOneAndReadsOnlyTheNewest() throws Exception {
    java.nio.file.Path runs = tmp.resolve("_runs");
    List<RunSummary> all = new ArrayList<>();
    for (int day = 1; day <= 28; day++) all.add(run(runs, String.format("2026-10-%02dT02:00:00.%03dZ", day, day)));
    // two runs within one second, the later one first by name or not: both are read
    all.add(run(runs, "2026-11-01T02:00:00.900Z"));
    all.add(run(runs, "2026-11-01T02:00:00.100Z"));
    all.add(run(runs, "2026-11-02T02:00:00.500Z")); // started after the run asking
    Files.writeString(runs.resolve("20261101T020000Z-broken00.json"), "{not json"); // skipped, as before
    Files.writeString(runs.resolve("20261101T020000Z-notes.txt"), "not a summary");

    for (String asking : List.of("2026-11-01T02:00:01.000Z", "2026-11-01T02:00:00.500Z", "2026-10-15T12:00:00Z",
        "2026-10-15T02:00:00.015Z", "2026-10-01T02:00:00.001Z", "2026-12-31T00:00:00Z")) {
      Opened fs = fs();
      RunSummary found = RunReport.previous(fs, new Path(runs.toUri()), asking);
      assertEquals(everyOne(all, asking), found == null ? null : found.startedAt(), asking);
      assertTrue(fs.names.size() <= 4, asking + " read " + fs.names);
    }
    Opened fs = fs();
    assertEquals("2026-11-01T02:00:00.900Z", RunReport.previous(fs, new Path(runs.toUri()), "2026-11-01T02:00:01Z").startedAt());
    // the two of that second and the unreadable one, not the 28 of October
    assertEquals(3, fs.names.size(), fs.names.toString());
  }

  @Test
  void readsEverySummaryWhoseNameIsNotARunId() throws Exception {
    java.nio.file.Path runs = tmp.resolve("_runs");
    List<RunSummary> all = new ArrayList<>();
    all.add(run(runs, "2026-10-01T02:00:00Z"));
    RunSummary renamed = run(runs, "2026-10-20T02:00:00Z");
    Files.move(runs.resolve(renamed.runId() + ".json"), runs.resolve("kept-by-hand.json"));
    all.add(renamed);
    assertEquals("2026-10-20T02:00:00Z", RunReport.previous(fs(), new Path(runs.toUri()), "2026-11-01T00:00:00Z").startedAt());
    assertNull(RunReport.previous(fs(), new Path(tmp.resolve("none").toUri()), "2026-11-01T00:00:00Z"));
  }
}
