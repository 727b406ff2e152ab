package io.postergenres.job;

import io.postergenres.image.ErrorKind;
import io.postergenres.image.PosterException;
import io.postergenres.image.Preprocessor;
import io.postergenres.model.GenreRules;
import io.postergenres.model.ModelCache;
import io.postergenres.model.ModelPackage;
import io.postergenres.model.ModelSpec;
import io.postergenres.model.PosterModel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Executor side of the job: turns a partition of listed files ({@code path, modificationTime,
 * length}) into output rows, lazily, one batch at a time. Holds only broadcasts and plain values;
 * the model comes from the JVM's {@link ModelCache}, so every task of an executor shares one.
 *
 * <p>A poster that cannot be read or decoded becomes an error row and the rest of its batch is
 * labelled as usual. If TensorFlow fails on a batch, its posters are retried one at a time so that
 * one pathological poster cannot take its neighbours with it.
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
  private final Broadcast<Map<String, Reusable>> reusable;

  /**
   * Labels from an earlier run that a file with the same content may take instead of running the
   * model (a rename): keyed by sha256, all from the current model version.
   */
  public record Reusable(String path, String[] genres, Map<String, Float> scores) implements java.io.Serializable {}

  public PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads) {
    this(model, fingerprint, spec, hadoopConf, options, runId, modelLoads, null);
  }

  /** @param reusable labels to reuse by sha256, or null for none */
  public PosterLabeller(Broadcast<ModelPackage> model, String fingerprint, ModelSpec spec,
      Broadcast<HadoopConf> hadoopConf, LabelOptions options, String runId, LongAccumulator modelLoads,
      Broadcast<Map<String, Reusable>> reusable) {
    this.reusable = reusable;
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
    if (!files.hasNext()) {
      return java.util.Collections.emptyIterator(); // no model load for an empty partition
    }
    ModelCache.Threads threads = resolve(options.threads());
    PosterModel loaded = ModelCache.get(fingerprint, model::value, threads, () -> modelLoads.add(1));
    return new Batches(files, loaded);
  }

  private static ModelCache.Threads resolve(ModelCache.Threads t) {
    // 0 means "this executor's cores": one intra-op pool shared by all concurrent tasks' runs.
    int cores = Runtime.getRuntime().availableProcessors();
    return new ModelCache.Threads(t.intraOp() > 0 ? t.intraOp() : cores, t.interOp() > 0 ? t.interOp() : 2);
  }

  /** One input file as listed, with the tries an earlier run already made on it. */
  private record Listed(String path, Timestamp modificationTime, Long length, int priorAttempts) {}

  /** Pulls one batch of inputs at a time and hands out its rows; never holds more than a batch. */
  private final class Batches implements Iterator<Row> {
    private final Iterator<Row> input;
    private final PosterModel poster;
    private final Preprocessor preprocessor;
    private final PosterReader reader;
    private final GenreRules rules;
    private final float[] pixels;
    private final ArrayDeque<Row> ready = new ArrayDeque<>();
    private final MessageDigest sha256;
    private final Map<String, Reusable> reuse;

    Batches(Iterator<Row> input, PosterModel poster) {
      this.input = input;
      this.poster = poster;
      this.preprocessor = new Preprocessor(spec.inputHeight(), spec.inputWidth(), options.maxPixels());
      this.reader = new PosterReader(hadoopConf.value().get(), options.maxFileBytes());
      this.rules = GenreRules.of(spec);
      this.pixels = new float[options.batchSize() * preprocessor.floatsPerImage()];
      this.reuse = reusable == null ? null : reusable.value();
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public boolean hasNext() {
      while (ready.isEmpty() && input.hasNext()) {
        nextBatch();
      }
      return !ready.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) throw new NoSuchElementException();
      return ready.poll();
    }

    private void nextBatch() {
      int capacity = options.batchSize();
      Listed[] files = new Listed[capacity];
      String[] digests = new String[capacity];
      PosterException[] errors = new PosterException[capacity];
      Reusable[] reused = new Reusable[capacity];
      int[] slot = new int[capacity]; // index into pixels for good posters, -1 for failed
      int n = 0;
      int good = 0;
      while (n < capacity && input.hasNext()) {
        Row r = input.next();
        int prior = r.size() > 3 && !r.isNullAt(3) ? r.getInt(3) : 0;
        Listed f = new Listed(r.getString(0), r.getTimestamp(1), r.isNullAt(2) ? null : r.getLong(2), prior);
        files[n] = f;
        slot[n] = -1;
        try {
          byte[] bytes = reader.read(f.path(), f.length() == null ? -1 : f.length());
          digests[n] = HexFormat.of().formatHex(sha256.digest(bytes));
          Reusable same = reuse == null ? null : reuse.get(digests[n]);
          if (same != null) {
            reused[n] = same;
            n++;
            continue;
          }
          preprocessor.preprocessInto(bytes, pixels, good * preprocessor.floatsPerImage());
          slot[n] = good++;
        } catch (PosterException e) {
          errors[n] = e;
        } catch (RuntimeException e) {
          // A decoder bug on one file must not fail the task.
          errors[n] = new PosterException(ErrorKind.CORRUPT, "decoder failed: " + e, e);
        }
        n++;
      }
      float[] scores = good > 0 ? score(good, slot, errors, n) : null;
      Timestamp now = new Timestamp(System.currentTimeMillis());
      int g = rules.genres().size();
      for (int i = 0; i < n; i++) {
        if (reused[i] != null) {
          ready.add(reusedRow(files[i], digests[i], reused[i], now));
        } else if (slot[i] >= 0 && errors[i] == null) {
          ready.add(labelled(files[i], digests[i], scores, slot[i] * g, now));
        } else {
          ready.add(failed(files[i], digests[i], errors[i], now));
        }
      }
    }

    /** Scores the good posters; on failure retries one by one and marks the ones that still fail. */
    private float[] score(int good, int[] slot, PosterException[] errors, int n) {
      try {
        return poster.predict(pixels, good);
      } catch (RuntimeException batchFailure) {
        LOG.warn("Batch of {} posters failed in TensorFlow ({}); retrying one at a time", good, batchFailure.toString());
        int g = rules.genres().size();
        int per = preprocessor.floatsPerImage();
        float[] scores = new float[good * g];
        float[] one = new float[per];
        for (int i = 0; i < n; i++) {
          if (slot[i] < 0) continue;
          System.arraycopy(pixels, slot[i] * per, one, 0, per);
          try {
            System.arraycopy(poster.predict(one, 1), 0, scores, slot[i] * g, g);
          } catch (RuntimeException e) {
            errors[i] = new PosterException(ErrorKind.INFERENCE_ERROR, "model failed: " + e.getMessage(), e);
          }
        }
        return scores;
      }
    }

    private Row labelled(Listed f, String digest, float[] scores, int offset, Timestamp now) {
      List<String> genres = rules.assign(scores, offset);
      Map<String, Float> byGenre = new LinkedHashMap<>();
      List<String> all = rules.genres();
      for (int j = 0; j < all.size(); j++) byGenre.put(all.get(j), scores[offset + j]);
      return RowFactory.create(f.path(), f.modificationTime(), f.length(), digest,
          genres.toArray(new String[0]), CollectionConverters.asScala(byGenre),
          spec.name(), spec.version(), runId, now, null, null, f.priorAttempts() + 1, null);
    }

    private Row reusedRow(Listed f, String digest, Reusable from, Timestamp now) {
      return RowFactory.create(f.path(), f.modificationTime(), f.length(), digest,
          from.genres(), CollectionConverters.asScala(from.scores()),
          spec.name(), spec.version(), runId, now, null, null, 1, from.path());
    }

    private Row failed(Listed f, String digest, PosterException e, Timestamp now) {
      return RowFactory.create(f.path(), f.modificationTime(), f.length(), digest, null, null,
          spec.name(), spec.version(), runId, now, e.kind().columnValue(), e.getMessage(), f.priorAttempts() + 1, null);
    }
  }
}
