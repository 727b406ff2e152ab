package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.postergenres.model.TestModels;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve}'s start-up failures say which option to change, in one line, with exit 2. */
class ServeCommandTest {
  @Test
  @Timeout(120)
  void aBusyPortIsNamed(@TempDir Path tmp) throws Exception {
    Path model = TestModels.write(tmp.resolve("model"), 16, 12, 3);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      CommandRun run = CommandRun.of("serve", "--model", model.toString(), "--host", "127.0.0.1", "--port", String.valueOf(port));
      assertEquals(ExitCode.USAGE.code(), run.code(), run.err());
      assertTrue(run.err().contains("port " + port + " on 127.0.0.1 is already in use; stop what listens there or choose another --port"), run.err());
      assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }
  }

  @Test
  void anUnknownHostIsNamed() {
    String message = ServeCommand.cannotListen("not-a-host.invalid", 8080,
        new java.io.IOException("cannot listen", new java.nio.channels.UnresolvedAddressException()));
    assertEquals("--host not-a-host.invalid is not a known host name or address of this machine", message);
    String foreign = ServeCommand.cannotListen("10.255.255.1", 8080, new java.net.BindException("Cannot assign requested address"));
    assertTrue(foreign.contains("--host must be an address of this machine"), foreign);
  }
}
