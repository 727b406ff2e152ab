package io.postergenres.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Reads labelled posters for training: the CCU Movie Poster Dataset layout ({@code
 * Movie_Poster_Dataset/<year>/<imdbID>.jpg} plus {@code groundtruth/<year>.txt}, each a stream of
 * concatenated JSON objects), or a CSV manifest of {@code path,genres} lines with genres separated
 * by {@code |}.
 *
 * <p>The genre vocabulary is every genre that labels at least one kept poster, sorted by name (so
 * the model's output order is deterministic). {@code N/A} and empty names are not genres; posters
 * left with no genre are skipped and counted.
 */
public final class CcuDataset {
  /** Names that mean "no genre" in the CCU records. */
  private static final Set<String> NOT_GENRES = Set.of("n/a", "na", "none", "");

  private CcuDataset() {}

  /** One labelled poster; {@code genres} is sorted and non-empty. */
  public record Example(Path path, Set<String> genres) {
    public Example {
      genres = Collections.unmodifiableSet(new TreeSet<>(genres));
    }
  }

  /**
   * What the reader saw.
   *
   * @param records label records (JSON objects or manifest lines) read
   * @param examples posters kept
   * @param skippedNoPoster records whose poster file does not exist
   * @param duplicates records of an imdbID (or manifest path) already read; the first one is kept
   * @param skippedNoGenre records with a poster but no genre other than N/A
   * @param postersWithoutRecord poster files that no record names (CCU layout only)
   */
  public record Stats(
      int records, int examples, int skippedNoPoster, int duplicates, int skippedNoGenre, int postersWithoutRecord) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("records", records);
      m.put("examples", examples);
      m.put("skipped_no_poster", skippedNoPoster);
      m.put("duplicates", duplicates);
      m.put("skipped_no_genre", skippedNoGenre);
      m.put("posters_without_record", postersWithoutRecord);
      return m;
    }
  }

  /** Examples in a deterministic order, the genre vocabulary (sorted), and the stats. */
  public record Loaded(String source, List<Example> examples, List<String> genres, Stats stats) {
    public Loaded {
      examples = List.copyOf(examples);
      genres = List.copyOf(genres);
    }

    /** Posters per genre, in vocabulary order. */
    public Map<String, Integer> genreCounts() {
      Map<String, Integer> counts = new LinkedHashMap<>();
      for (String g : genres) counts.put(g, 0);
      for (Example e : examples) for (String g : e.genres()) counts.merge(g, 1, Integer::sum);
      return counts;
    }
  }

  /**
   * Reads the CCU layout under {@code root}. A record's poster is {@code
   * Movie_Poster_Dataset/<year of its groundtruth file>/<imdbID>.jpg}, or else a poster of that
   * imdbID ({@code .jpg}, {@code .jpeg} or {@code .webp}) in that or another year's folder.
   */
  public static Loaded readCcu(Path root) throws IOException {
    Path posters = root.resolve("Movie_Poster_Dataset");
    Path truth = root.resolve("groundtruth");
    if (!Files.isDirectory(posters) || !Files.isDirectory(truth)) {
      throw new IOException(root + " is not a CCU Movie Poster Dataset folder: it needs Movie_Poster_Dataset/ and groundtruth/");
    }
    // Every poster file, by imdbID (first year wins when one is in two folders).
    Map<String, Path> posterById = new TreeMap<>();
    try (Stream<Path> years = Files.list(posters)) {
      for (Path year : years.filter(Files::isDirectory).sorted().toList()) {
        try (Stream<Path> files = Files.list(year)) {
          for (Path f : files.sorted().toList()) {
            String name = f.getFileName().toString();
            String lower = name.toLowerCase(Locale.ROOT);
            if (Files.isRegularFile(f) && (lower.endsWith(".jpg") || lower.endsWith(".jpeg") || lower.endsWith(".webp"))) {
              posterById.putIfAbsent(name.substring(0, name.lastIndexOf('.')), f);
            }
          }
        }
      }
    }
    List<Path> truthFiles;
    try (Stream<Path> files = Files.list(truth)) {
      truthFiles = files.filter(f -> f.getFileName().toString().endsWith(".txt")).sorted().toList();
    }
    if (truthFiles.isEmpty()) throw new IOException(truth + " holds no <year>.txt label files");

    ObjectMapper mapper = new ObjectMapper();
    Map<String, Example> byId = new LinkedHashMap<>();
    Map<String, Boolean> seenIds = new HashMap<>();
    int records = 0;
    int noPoster = 0;
    int duplicates = 0;
    int noGenre = 0;
    for (Path file : truthFiles) {
      String fileName = file.getFileName().toString();
      String year = fileName.substring(0, fileName.length() - ".txt".length());
      try (MappingIterator<JsonNode> it = mapper.readerFor(JsonNode.class).readValues(file.toFile())) {
        while (it.hasNextValue()) {
          JsonNode record = it.nextValue();
          records++;
          String id = text(record, "imdbID");
          if (id == null || id.isBlank()) {
            noPoster++; // a record without an id cannot be joined to a poster
            continue;
          }
          id = id.trim();
          if (seenIds.putIfAbsent(id, Boolean.TRUE) != null) {
            duplicates++;
            continue;
          }
          Path poster = posters.resolve(year).resolve(id + ".jpg");
          if (!Files.isRegularFile(poster)) poster = posterById.get(id);
          if (poster == null) {
            noPoster++;
            continue;
          }
          Set<String> genres = parseGenres(text(record, "Genre"), ",");
          if (genres.isEmpty()) {
            noGenre++;
            continue;
          }
          byId.put(id, new Example(poster, genres));
        }
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IOException(file + " is not a stream of JSON objects: " + e.getOriginalMessage(), e);
      }
    }
    int withoutRecord = 0;
    for (String id : posterById.keySet()) if (!seenIds.containsKey(id)) withoutRecord++;
    List<Example> examples = new ArrayList<>(byId.values());
    return new Loaded(root.toString(), examples, vocabulary(examples),
        new Stats(records, examples.size(), noPoster, duplicates, noGenre, withoutRecord));
  }

  /**
   * Reads a CSV manifest: {@code path,genres} per line, genres separated by {@code |}, an optional
   * header line {@code path,genres}, fields optionally in double quotes. Relative paths are resolved
   * against the manifest's folder. Blank lines and lines starting with {@code #} are ignored.
   */
  public static Loaded readManifest(Path csv) throws IOException {
    Path base = csv.toAbsolutePath().getParent();
    Map<Path, Example> byPath = new LinkedHashMap<>();
    int records = 0;
    int noPoster = 0;
    int duplicates = 0;
    int noGenre = 0;
    try (BufferedReader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
        if (line.isBlank() || line.startsWith("#")) continue;
        List<String> fields = splitCsv(line, csv, lineNo);
        if (lineNo == 1 && fields.size() >= 1 && fields.get(0).trim().equalsIgnoreCase("path")) continue;
        if (fields.size() != 2) {
          throw new IOException(csv + " line " + lineNo + ": expected 2 fields path,genres but found " + fields.size());
        }
        records++;
        Path path = Path.of(fields.get(0).trim());
        if (!path.isAbsolute()) path = base.resolve(path);
        path = path.normalize();
        if (byPath.containsKey(path)) {
          duplicates++;
          continue;
        }
        if (!Files.isRegularFile(path)) {
          noPoster++;
          continue;
        }
        Set<String> genres = parseGenres(fields.get(1), "|");
        if (genres.isEmpty()) {
          noGenre++;
          continue;
        }
        byPath.put(path, new Example(path, genres));
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    List<Example> examples = new ArrayList<>(byPath.values());
    return new Loaded(csv.toString(), examples, vocabulary(examples),
        new Stats(records, examples.size(), noPoster, duplicates, noGenre, 0));
  }

  /** Splits a genre string on {@code separator}, trimming and dropping N/A and empties. */
  static Set<String> parseGenres(String value, String separator) {
    Set<String> genres = new TreeSet<>();
    if (value == null) return genres;
    for (String part : value.split(java.util.regex.Pattern.quote(separator))) {
      String g = part.trim();
      if (!NOT_GENRES.contains(g.toLowerCase(Locale.ROOT))) genres.add(g);
    }
    return genres;
  }

  private static List<String> vocabulary(List<Example> examples) {
    TreeSet<String> all = new TreeSet<>();
    for (Example e : examples) all.addAll(e.genres());
    return new ArrayList<>(all);
  }

  private static String text(JsonNode record, String field) {
    JsonNode n = record.get(field);
    return n == null || n.isNull() ? null : n.asText();
  }

  /** One CSV line: commas separate fields; double quotes may wrap a field ("" is a quote). */
  private static List<String> splitCsv(String line, Path csv, int lineNo) throws IOException {
    List<String> fields = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            cur.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (quoted) throw new IOException(csv + " line " + lineNo + ": unclosed double quote");
    fields.add(cur.toString());
    return fields;
  }
}
