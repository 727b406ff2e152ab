package io.postergenres.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One poster-genres command run in-process, as the command line would run it: its exit code and what it wrote to stderr and stdout. */
record CommandRun(int code, String err, String out) {
  static CommandRun of(String command, String... args) {
    CommandLine cmd = PosterGenres.commandLine();
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));
    StringWriter out = new StringWriter();
    cmd.setOut(new PrintWriter(out));
    String[] all = new String[args.length + 1];
    all[0] = command;
    System.arraycopy(args, 0, all, 1, args.length);
    return new CommandRun(cmd.execute(all), err.toString(), out.toString());
  }
}
