package io.postergenres.cli;

import io.postergenres.errors.Failure;
import io.postergenres.errors.PosterGenresException;
import io.postergenres.serve.LoadClient;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code poster-genres serve-load}: the bounded load generator of {@code scripts/serve-load-test},
 * hidden from the help (a tool for measuring serve, not a user command).
 */
@Command(
    name = "serve-load",
    hidden = true,
    description = "Posts posters to a loopback serve endpoint from N clients for S seconds; prints one JSON line.")
public final class ServeLoadCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec commandSpec;

  @Parameters(index = "0", paramLabel = "URL") URI url;
  @Parameters(index = "1", paramLabel = "POSTER_DIR") Path posters;
  @Parameters(index = "2", paramLabel = "CLIENTS") int clients;
  @Parameters(index = "3", paramLabel = "SECONDS") long seconds;
  @Parameters(index = "4", paramLabel = "MAX_REQUESTS", defaultValue = "100000") long maxRequests;

  @Override
  public Integer call() throws Exception {
    if (!LoadClient.isLoopback(url)) {
      throw new PosterGenresException(Failure.USAGE, "serve-load only targets loopback addresses, not " + url.getHost());
    }
    commandSpec.commandLine().getOut().print(LoadClient.run(url, posters, clients, seconds, maxRequests));
    commandSpec.commandLine().getOut().flush();
    return ExitCode.OK.code();
  }
}
