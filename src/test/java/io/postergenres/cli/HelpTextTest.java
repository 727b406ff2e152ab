package io.postergenres.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What a newcomer reads first: every command's {@code --help}. picocli prints each element of a
 * description array on its own line and wraps it at the usage width, so an element that is the
 * hard-wrapped half of a sentence shows as a ragged line break; and an unescaped {@code %} makes
 * picocli print warnings instead of the text.
 */
class HelpTextTest {
  private static List<CommandLine> everyCommand() {
    List<CommandLine> out = new ArrayList<>();
    List<CommandLine> todo = new ArrayList<>(List.of(PosterGenres.commandLine()));
    while (!todo.isEmpty()) {
      CommandLine c = todo.remove(0);
      out.add(c);
      todo.addAll(c.getSubcommands().values().stream().distinct().toList());
    }
    return out;
  }

  @Test
  void everyUsageMessageRendersWithoutPicocliWarnings() {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> names = new ArrayList<>();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      for (CommandLine c : everyCommand()) {
        String usage = c.getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertTrue(usage.contains("Usage: "), c.getCommandName());
        names.add(c.getCommandName());
      }
    } finally {
      System.setErr(saved);
    }
    assertTrue(names.containsAll(List.of("label", "train", "evaluate", "serve", "bench", "convert", "show")), names.toString());
    assertEquals("", err.toString(StandardCharsets.UTF_8), "picocli warned while rendering --help");
  }

  @Test
  void everyDescriptionLineIsAWholeParagraph() {
    List<String> fragments = new ArrayList<>();
    for (CommandLine c : everyCommand()) {
      CommandSpec spec = c.getCommandSpec();
      check(spec.qualifiedName() + " (command)", spec.usageMessage().description(), fragments);
      for (ArgSpec arg : spec.args()) {
        String name = arg instanceof CommandLine.Model.OptionSpec o ? o.longestName() : arg.paramLabel();
        check(spec.qualifiedName() + " " + name, arg.description(), fragments);
      }
    }
    assertTrue(fragments.isEmpty(), "description lines that end mid-sentence (join them into one line; picocli wraps):\n"
        + String.join("\n", fragments));
  }

  private static void check(String where, String[] lines, List<String> fragments) {
    for (String line : lines) {
      String t = line.strip();
      if (t.isEmpty()) continue;
      char last = t.charAt(t.length() - 1);
      if (".:)!?".indexOf(last) < 0 && !t.endsWith("%n")) fragments.add(where + ": \"" + t + "\"");
    }
  }
}
