package io.postergenres.job;

import io.postergenres.errors.ErrorKind;
import io.postergenres.errors.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import io.postergenres.text.TextReader;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of the job: turns a partition of listed files ({@code path, modificationTime,
 * length}) into output rows, lazily, one batch at a time. Holds only broadcasts and plain values;
 * the model comes from the JVM's {@link ModelCache}, so every task of an executor shares one.
 *
 * <p>A poster that cannot be read or decoded becomes an error row and the rest of its batch is
 * labelled as usual. If TensorFlow fails on a batch, its posters are retried one at a time so that
 * one pathological poster cannot take its neighbours with it.
 *
 * <p>With {@link DatasetColumns} it takes any rows that hold the poster's bytes or path (the
 * DataFrame API) and returns each of them with the output columns appended.
 */
public final class PosterLabeller implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PosterLabeller.class);

  private final Broadcast<ModelPackage> model;
  private final String fingerprint;
  private final ModelSpec spec;
  private final Broadcast<HadoopConf> hadoopConf;
  private final LabelOptions options;
  private final String runId;
  private final LongAccumulator modelLoads;
  private final DatasetColumns columns; // null: listing rows in, OutputSchema rows out
  private final RowCounts counts; // null: not counted

  public PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads) {
    this(model, fingerprint, spec, hadoopConf, options, runId, modelLoads, (RowCounts) null);
  }

  /** A labeller of a caller's own rows, laid out as {@code columns} says (the DataFrame API). */
  public PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads,
      DatasetColumns columns) {
    this(model, fingerprint, spec, hadoopConf, options, runId, modelLoads, columns, null);
  }

  /** As the first constructor, counting the rows it makes into {@code counts} (may be null: not counted). */
  public PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads, RowCounts counts) {
    this(model, fingerprint, spec, hadoopConf, options, runId, modelLoads, null, counts);
  }

  private PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads,
      DatasetColumns columns, RowCounts counts) {
    this.columns = columns;
    this.counts = counts;
    this.model = model;
    this.fingerprint = fingerprint;
    this.spec = spec;
    this.hadoopConf = hadoopConf;
    this.options = options;
    this.runId = runId;
    this.modelLoads = modelLoads;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> files) {
    TaskContext task = TaskContext.get();
    if (!files.hasNext()) {
      return Collections.emptyIterator(); // no model load for an empty partition
    }
    // 0 means "this executor's cores": one intra-op pool shared by all concurrent tasks' runs.
    ModelCache.Settings threads = options.threads().resolved();
    // The temporary copy TensorFlow loads from goes under Spark's own directory for this executor
    // (the driver's userFiles dir under spark.local.dir in local mode, the executor's working
    // directory on a cluster), which Spark or the cluster manager removes with the application.
    java.nio.file.Path scratch = task == null ? null : java.nio.file.Path.of(SparkFiles.getRootDirectory()).toAbsolutePath().normalize();
    PosterModel loaded = ModelCache.get(fingerprint, model::value, threads, scratch, () -> modelLoads.add(1));
    return new Batches(files, loaded);
  }

  /**
   * One input file as listed, with the tries an earlier run already made on it; for a caller's row,
   * also the row itself and, where it holds them, the poster's bytes.
   */
  private record Listed(String path, Timestamp modificationTime, Long length, int priorAttempts, Row source,
      byte[] content) {}

  /** One batch read and decoded, waiting for the model. */
  private static final class Prepared {
    final Listed[] files;
    final String[] digests;
    final PosterException[] errors;
    final int[] slot; // index into pixels for posters to score, -1 otherwise
    final float[] pixels;
    final byte[][] posterBytes; // by slot, the posters' bytes for the text stage; null without one
    int n;
    int good;

    Prepared(int capacity, float[] pixels, boolean keepBytes) {
      posterBytes = keepBytes ? new byte[capacity][] : null;
      files = new Listed[capacity];
      digests = new String[capacity];
      errors = new PosterException[capacity];
      slot = new int[capacity];
      this.pixels = pixels;
    }
  }

  /**
   * Pulls one batch of inputs at a time and hands out its rows; never holds more than two batches.
   * The task thread takes the listing rows from Spark's iterator; with decode-ahead on, a helper
   * thread reads and decodes batch k + 1 (into the other of two pixel buffers) while TensorFlow
   * scores batch k, so neither waits for the other.
   */
  private final class Batches implements Iterator<Row> {
    private final Iterator<Row> input;
    private final PosterModel poster;
    private final Preprocessor preprocessor;
    private final PosterReader reader;
    private final GenreRules rules;
    private final float[][] buffers;
    private int nextBuffer;
    private final ArrayDeque<Row> ready = new ArrayDeque<>();
    private final MessageDigest sha256;
    private final OutputRows rows = new OutputRows(spec.name(), spec.version(), runId);
    private final ExecutorService decoder;
    private final Preprocessor textDecoder; // null without a text stage
    private final int[] added = columns == null ? null : columns.addedIndexes();
    private Future<Prepared> pending;

    Batches(Iterator<Row> input, PosterModel poster) {
      this.input = input;
      this.poster = poster;
      this.preprocessor = new Preprocessor(spec.inputHeight(), spec.inputWidth(), options.maxPixels());
      this.reader = new PosterReader(hadoopConf.value().get(), options.maxFileBytes());
      this.rules = GenreRules.of(spec);
      this.textDecoder = poster.text() == null ? null : TextReader.decoder(options.maxPixels());
      int floats = options.batchSize() * preprocessor.floatsPerImage();
      this.buffers = options.decodesAhead() ? new float[][] {new float[floats], new float[floats]} : new float[][] {new float[floats]};
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      if (options.decodesAhead()) {
        decoder = Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "poster-genres-decode");
          t.setDaemon(true);
          return t;
        });
        TaskContext task = TaskContext.get();
        if (task != null) {
          task.addTaskCompletionListener((TaskCompletionListener) ctx -> decoder.shutdownNow());
        }
      } else {
        decoder = null;
      }
    }

    @Override
    public boolean hasNext() {
      while (ready.isEmpty() && (pending != null || input.hasNext())) {
        nextBatch();
      }
      if (ready.isEmpty() && decoder != null) decoder.shutdown();
      return !ready.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) throw new NoSuchElementException();
      return ready.poll();
    }

    /** Takes the next batch's listing rows from Spark's iterator (on the task thread). */
    private List<Listed> pull() {
      List<Listed> batch = new ArrayList<>(options.batchSize());
      while (batch.size() < options.batchSize() && input.hasNext()) {
        Row r = input.next();
        if (columns != null) {
          String path = columns.path() >= 0 && !r.isNullAt(columns.path()) ? r.getString(columns.path()) : null;
          byte[] content = columns.content() >= 0 && !r.isNullAt(columns.content()) ? (byte[]) r.get(columns.content()) : null;
          batch.add(new Listed(path, null, content == null ? null : (long) content.length, 0, r, content));
          continue;
        }
        int prior = r.size() > 3 && !r.isNullAt(3) ? r.getInt(3) : 0;
        batch.add(new Listed(r.getString(0), r.getTimestamp(1), r.isNullAt(2) ? null : r.getLong(2), prior, null, null));
      }
      return batch;
    }

    private void nextBatch() {
      Prepared current;
      if (decoder == null) {
        current = prepare(pull(), buffers[0]);
      } else {
        if (pending == null) pending = submit(pull());
        try {
          current = pending.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while decoding posters", e);
        } catch (ExecutionException e) {
          throw new IllegalStateException("decoding posters failed", e.getCause());
        }
        pending = input.hasNext() ? submit(pull()) : null; // decode the next batch while this one is scored
      }
      emit(current);
    }

    private Future<Prepared> submit(List<Listed> batch) {
      float[] pixels = buffers[nextBuffer];
      nextBuffer = (nextBuffer + 1) % buffers.length;
      return decoder.submit(() -> prepare(batch, pixels));
    }

    /** Reads, hashes and decodes one batch (on the decode thread when decode-ahead is on). */
    private Prepared prepare(List<Listed> batch, float[] pixels) {
      Prepared b = new Prepared(options.batchSize(), pixels, textDecoder != null);
      for (Listed f : batch) {
        int i = b.n++;
        b.files[i] = f;
        b.slot[i] = -1;
        try {
          byte[] bytes = bytesOf(f);
          b.digests[i] = HexFormat.of().formatHex(sha256.digest(bytes));
          preprocessor.preprocessInto(bytes, pixels, b.good * preprocessor.floatsPerImage());
          if (b.posterBytes != null) b.posterBytes[b.good] = bytes;
          b.slot[i] = b.good++;
        } catch (PosterException e) {
          b.errors[i] = e;
        } catch (RuntimeException e) {
          // A decoder bug on one file must not fail the task.
          b.errors[i] = new PosterException(ErrorKind.CORRUPT, "decoder failed: " + e, e);
        }
      }
      return b;
    }

    /** The poster's bytes: from the row's content column, else read from its path. */
    private byte[] bytesOf(Listed f) throws PosterException {
      if (columns != null && columns.content() >= 0) {
        if (f.content() == null) throw new PosterException(ErrorKind.EMPTY, "content is null");
        return reader.checkSize(f.content());
      }
      if (f.path() == null) throw new PosterException(ErrorKind.NOT_FOUND, "path is null");
      return reader.read(f.path(), f.length() == null ? -1 : f.length());
    }

    /** The row handed back: the output row, or for a caller's row that row with the added columns. */
    private Row finish(Listed f, Row out) {
      if (columns == null) return out;
      Row src = f.source();
      Object[] values = new Object[src.size() + added.length];
      for (int i = 0; i < src.size(); i++) values[i] = src.get(i);
      for (int i = 0; i < added.length; i++) values[src.size() + i] = out.get(added[i]);
      return RowFactory.create(values);
    }

    private void emit(Prepared b) {
      float[] scores = b.good > 0 ? score(b) : null;
      Timestamp now = new Timestamp(System.currentTimeMillis());
      int g = rules.genres().size();
      for (int i = 0; i < b.n; i++) {
        if (b.slot[i] >= 0 && b.errors[i] == null) {
          ready.add(labelled(b.files[i], b.digests[i], scores, b.slot[i] * g, now));
        } else {
          ready.add(failed(b.files[i], b.digests[i], b.errors[i], now));
          if (counts != null) counts.byKind().add(b.errors[i].kind().columnValue());
        }
      }
    }

    /** Scores the good posters; on failure retries one by one and marks the ones that still fail. */
    private float[] score(Prepared b) {
      try {
        float[] scores = poster.predict(b.pixels, b.good);
        if (textDecoder != null) readText(scores, b.posterBytes, 0, b.good);
        return scores;
      } catch (RuntimeException batchFailure) {
        LOG.warn("Batch of {} posters failed in TensorFlow ({}); retrying one at a time", b.good, batchFailure.toString());
        int g = rules.genres().size();
        int per = preprocessor.floatsPerImage();
        float[] scores = new float[b.good * g];
        float[] one = new float[per];
        for (int i = 0; i < b.n; i++) {
          if (b.slot[i] < 0) continue;
          System.arraycopy(b.pixels, b.slot[i] * per, one, 0, per);
          try {
            float[] s = poster.predict(one, 1);
            if (textDecoder != null) readText(s, b.posterBytes, b.slot[i], 1);
            System.arraycopy(s, 0, scores, b.slot[i] * g, g);
          } catch (RuntimeException e) {
            b.errors[i] = new PosterException(ErrorKind.INFERENCE_ERROR, "model failed: " + e.getMessage(), e);
          }
        }
        return scores;
      }
    }

    /**
     * Blends {@code count} posters' image scores (from index 0 of {@code scores}) with the text the
     * model's text stage reads on them (the posters' bytes from {@code bytes[from]}; {@link
     * io.postergenres.text.TextStage#blendFiles}).
     */
    private void readText(float[] scores, byte[][] bytes, int from, int count) {
      int g = rules.genres().size();
      float[] part = Arrays.copyOfRange(scores, 0, count * g);
      try {
        poster.text().blendFiles(part, Arrays.asList(bytes).subList(from, from + count), textDecoder);
      } catch (RuntimeException e) {
        // as the image model's failures: the batch is retried one poster at a time, and a poster that
        // still fails becomes an inference_error row saying it was the text stage
        throw new IllegalStateException("text stage failed: " + e.getMessage(), e);
      }
      System.arraycopy(part, 0, scores, 0, count * g);
    }

    private Row labelled(Listed f, String digest, float[] scores, int offset, Timestamp now) {
      List<String> genres = rules.assign(scores, offset);
      if (counts != null) {
        counts.byKind().add("");
        for (String genre : genres) counts.byGenre().add(genre);
      }
      Map<String, Float> byGenre = new LinkedHashMap<>();
      List<String> all = rules.genres();
      for (int j = 0; j < all.size(); j++) byGenre.put(all.get(j), scores[offset + j]);
      return finish(f, rows.labelled(f.path(), f.modificationTime(), f.length(), digest, genres.toArray(new String[0]),
          byGenre, f.priorAttempts() + 1, now));
    }

    private Row failed(Listed f, String digest, PosterException e, Timestamp now) {
      return finish(f, rows.failed(f.path(), f.modificationTime(), f.length(), digest, e, f.priorAttempts() + 1, now));
    }
  }
}
