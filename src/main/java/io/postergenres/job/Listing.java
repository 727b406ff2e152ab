package io.postergenres.job;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.sql.Timestamp;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The files a run labels: {@code path, modificationTime, length} of each file under the inputs
 * whose name matches the glob, listed and stat-ed by Spark's {@code binaryFile} source (which never
 * reads the content here), the schema the labeller takes.
 */
public final class Listing {
  /** Schema of the listing the labeller takes. */
  public static final StructType SCHEMA = new StructType()
      .add("path", DataTypes.StringType, false)
      .add("modificationTime", DataTypes.TimestampType, true)
      .add("length", DataTypes.LongType, true);

  private Listing() {}

  /** The listing: {@code path, modificationTime, length} of each file matching the glob. */
  public static Dataset<Row> list(SparkSession spark, List<String> inputs, String glob) {
    return spark.read()
        .format("binaryFile")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", caseInsensitiveGlob(glob))
        // a file deleted between listing and scan is skipped here and given its row by the caller (StatFile)
        .option("ignoreMissingFiles", "true")
        .load(inputs.toArray(new String[0]))
        .select("path", "modificationTime", "length");
  }

  /**
   * Turns each letter of a glob into a bracket of both cases ({@code *.jpg} becomes {@code
   * *.[jJ][pP][gG]}), leaving existing brackets alone: Hadoop's globs have no case-insensitive flag,
   * and camera exports write {@code .JPG}.
   */
  public static String caseInsensitiveGlob(String glob) {
    StringBuilder b = new StringBuilder();
    boolean inBracket = false;
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '\\' && i + 1 < glob.length()) {
        b.append(c).append(glob.charAt(++i));
      } else if (c == '[') {
        inBracket = true;
        b.append(c);
      } else if (c == ']') {
        inBracket = false;
        b.append(c);
      } else if (!inBracket && Character.isLetter(c) && Character.toLowerCase(c) != Character.toUpperCase(c)) {
        b.append('[').append(Character.toLowerCase(c)).append(Character.toUpperCase(c)).append(']');
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Paths as the binaryFile source writes them ({@code file:/x}), from the index's URIs ({@code file:///x}). */
  public static String[] asScanPaths(String[] uris) {
    String[] out = new String[uris.length];
    for (int i = 0; i < uris.length; i++) out[i] = new Path(URI.create(uris[i])).toString();
    return out;
  }

  /** Stats one path again on an executor: (path, modificationTime, length), nulls if it is gone. */
  public record StatFile(Broadcast<HadoopConf> conf) implements MapFunction<String, Row> {
    @Override
    public Row call(String path) throws IOException {
      Path p = new Path(path);
      try {
        FileStatus st = p.getFileSystem(conf.value().get()).getFileStatus(p);
        return RowFactory.create(path, new Timestamp(st.getModificationTime()), st.getLen());
      } catch (FileNotFoundException e) {
        return RowFactory.create(path, null, null);
      }
    }
  }
}
