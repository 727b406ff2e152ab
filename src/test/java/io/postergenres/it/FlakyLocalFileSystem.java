package io.postergenres.it;

import java.io.IOException;
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
    return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().contains("BinaryFileFormat")));
  }
}
