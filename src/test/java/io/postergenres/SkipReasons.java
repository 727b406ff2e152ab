package io.postergenres;

import java.io.PrintStream;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints why each skipped test was skipped (a failed assumption, such as the real-poster data set
 * or Chromium being absent, or a disabled test), one line each on the console: Maven's summary
 * shows only a count, and the reasons would otherwise sit in the XML reports. Registered with the
 * JUnit Platform launcher through {@code META-INF/services}, for unit and integration tests alike.
 */
public final class SkipReasons implements TestExecutionListener {
  private final PrintStream out = System.out;

  @Override
  public void executionSkipped(TestIdentifier test, String reason) {
    print(test, reason);
  }

  @Override
  public void executionFinished(TestIdentifier test, TestExecutionResult result) {
    if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
      print(test, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
    }
  }

  static String line(String test, String reason) {
    String why = reason == null || reason.isBlank() ? "(no reason given)" : reason.replaceFirst("^Assumption failed: ", "");
    return "SKIPPED " + test + ": " + why.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private void print(TestIdentifier test, String reason) {
    out.println(line(name(test), reason));
    out.flush();
  }

  private static String name(TestIdentifier test) {
    String id = test.getUniqueId();
    String cls = id.replaceAll(".*\\[class:([^\\]]+)\\].*", "$1");
    String simple = cls.equals(id) ? "" : cls.substring(cls.lastIndexOf('.') + 1);
    return test.isContainer() || simple.isEmpty() ? (simple.isEmpty() ? test.getDisplayName() : simple)
        : simple + "." + test.getDisplayName();
  }
}
