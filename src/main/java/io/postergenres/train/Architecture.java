package io.postergenres.train;

import java.util.Arrays;
import java.util.List;

/**
 * The architectures {@code train} knows, by the names {@code --arch} takes: one home for the names,
 * so the trainers of each (end to end in this package, a head on a frozen backbone in {@code
 * train.pretrained}) need not know each other.
 */
public enum Architecture {
  /** Our small network, trained from scratch end to end ({@link PosterCnn}). */
  POSTERCNN("postercnn"),
  /** The original Keras network with the original recipe ({@link SeedCnn}). */
  SEED("seed"),
  /** A head on a frozen network of the nsfwjs npm package ({@code train.pretrained}); {@code mobilenet} is its old name. */
  PRETRAINED("pretrained", "mobilenet");

  private final String cliName;
  private final List<String> aliases;

  Architecture(String cliName, String... aliases) {
    this.cliName = cliName;
    this.aliases = List.of(aliases);
  }

  /** The name {@code --arch} and model.json use. */
  public String cliName() {
    return cliName;
  }

  /** The architecture named {@code name} (its name or an old alias); IllegalArgumentException naming the choices otherwise. */
  public static Architecture parse(String name) {
    for (Architecture a : values()) if (a.cliName.equals(name) || a.aliases.contains(name)) return a;
    throw new IllegalArgumentException("--arch must be one of " + names() + ", got " + name);
  }

  /** The names {@code --arch} takes, in order. */
  public static List<String> names() {
    return Arrays.stream(values()).map(Architecture::cliName).toList();
  }

  /** Trained end to end from pixels (rather than a head on a frozen backbone). */
  public boolean endToEnd() {
    return this != PRETRAINED;
  }
}
