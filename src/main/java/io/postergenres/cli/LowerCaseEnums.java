package io.postergenres.cli;

import io.postergenres.job.LabelOptions;
import io.postergenres.job.WriteMode;
import io.postergenres.job.incremental.IncrementalJob;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/**
 * Enum options spelled in lower case on the command line and in the defaults file ({@code --mode
 * overwrite}), accepted in any case, with the message of the option before enums: "must be a, b or
 * c, not 'x'".
 */
final class LowerCaseEnums {
  private LowerCaseEnums() {}

  static <E extends Enum<E>> E parse(Class<E> type, String option, String value) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(value.trim())) return e;
    }
    throw new CommandLine.TypeConversionException(option + " must be " + choices(type) + ", not '" + value + "'");
  }

  /** {@code a, b or c}. */
  static <E extends Enum<E>> String choices(Class<E> type) {
    String all = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    int last = all.lastIndexOf(", ");
    return last < 0 ? all : all.substring(0, last) + " or " + all.substring(last + 2);
  }

  static final class WriteModes implements ITypeConverter<WriteMode> {
    @Override
    public WriteMode convert(String value) {
      return parse(WriteMode.class, "--mode", value);
    }
  }

  static final class NewModelScopes implements ITypeConverter<IncrementalJob.NewModelScope> {
    @Override
    public IncrementalJob.NewModelScope convert(String value) {
      return parse(IncrementalJob.NewModelScope.class, "--new-model-scope", value);
    }
  }

  /** auto, on or off; true and false (a defaults file of the boolean option) as on and off. */
  static final class DecodeAheads implements ITypeConverter<LabelOptions.DecodeAhead> {
    @Override
    public LabelOptions.DecodeAhead convert(String value) {
      String v = value.trim();
      if (v.equalsIgnoreCase("true")) return LabelOptions.DecodeAhead.ON;
      if (v.equalsIgnoreCase("false")) return LabelOptions.DecodeAhead.OFF;
      return parse(LabelOptions.DecodeAhead.class, "--decode-ahead", value);
    }
  }

  static final class TableFormats implements ITypeConverter<LabelCommand.TableFormat> {
    @Override
    public LabelCommand.TableFormat convert(String value) {
      return parse(LabelCommand.TableFormat.class, "--table-format", value);
    }
  }
}
