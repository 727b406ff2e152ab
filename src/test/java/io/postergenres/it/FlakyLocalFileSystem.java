package io.postergenres.it;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;

/**
 * The local file system with one fault, for {@link StandaloneClusterIT}: the first attempt of the
 * task whose {@code binaryFile} scan stats {@value #VICTIM} fails with an I/O error; the retry (and
 * everything else: the driver, the labeller's reads) sees a plain local disk. Test classes only:
 * the test puts this class alone on the driver's and executors' class path and names it as {@code
 * fs.file.impl}, so the shipped classes carry no fault switch.
 */
public class FlakyLocalFileSystem extends LocalFileSystem {
  public static final String VICTIM = "p0000.jpg";
  public static final String MESSAGE = "injected failure";
  /**
   * With this Hadoop setting true, the first labelling thread that reaches its third poster read
   * fails there (once per JVM), after its first batch (of two) was labelled and counted, with an
   * Error (AssertionError: no nested class to ship with this one), which no poster reader turns
   * into an error row (for {@code LabelJobRetryTest}).
   */
  public static final String FAIL_THIRD_READ = "poster-genres.test.fail-third-read";

  private static final Map<Long, Integer> READS = new ConcurrentHashMap<>();
  private static final java.util.concurrent.atomic.AtomicBoolean FIRED = new java.util.concurrent.atomic.AtomicBoolean();
  private static final java.util.concurrent.atomic.AtomicInteger FAULTS = new java.util.concurrent.atomic.AtomicInteger();

  /** How many such faults this JVM has thrown (local mode: the test's own). */
  public static int faultsThrown() {
    return FAULTS.get();
  }

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    // Counted per reading thread: with decode-ahead the labeller reads on its own thread, where
    // TaskContext is not set; FIRED makes it one failure per JVM, so the retry reads in peace.
    if (getConf().getBoolean(FAIL_THIRD_READ, false) && calledBy("PosterReader")
        && READS.merge(Thread.currentThread().getId(), 1, Integer::sum) == 3 && FIRED.compareAndSet(false, true)) {
      FAULTS.incrementAndGet();
      throw new AssertionError(MESSAGE + ": third poster read of a labelling task (FlakyLocalFileSystem)");
    }
    return super.open(f, bufferSize);
  }

  @Override
  public FileStatus getFileStatus(Path f) throws IOException {
    TaskContext task = TaskContext.get();
    if (task != null && task.attemptNumber() == 0 && f.getName().equals(VICTIM) && calledByTheScan()) {
      throw new IOException(MESSAGE + ": first attempt of the task that scans " + f.getName() + " (FlakyLocalFileSystem)");
    }
    return super.getFileStatus(f);
  }

  /** Whether Spark's binaryFile reader asks (not the labeller's own read of the poster). */
  private static boolean calledByTheScan() {
    return calledBy("BinaryFileFormat");
  }

  private static boolean calledBy(String className) {
    return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().contains(className)));
  }
}
