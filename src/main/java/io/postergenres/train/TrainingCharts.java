package io.postergenres.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The two training-curve pictures the original Keras project showed, drawn from {@code
 * training-history.csv}: loss and validation loss per epoch ({@code training-loss.png}), binary
 * accuracy and validation binary accuracy per epoch ({@code training-accuracy.png}). Headless.
 */
public final class TrainingCharts {
  public static final String LOSS_FILE = "training-loss.png";
  public static final String ACCURACY_FILE = "training-accuracy.png";
  public static final int WIDTH = 800;
  public static final int HEIGHT = 500;

  private TrainingCharts() {}

  /**
   * Renders both charts from {@code historyCsv} (columns {@code epoch}, {@code train_loss}, {@code
   * val_loss}, {@code train_binary_accuracy}, {@code val_binary_accuracy}) into {@code outDir}.
   *
   * @return the two PNG files written
   */
  public static List<Path> render(Path historyCsv, Path outDir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> lines = Files.readAllLines(historyCsv, StandardCharsets.UTF_8);
    lines.removeIf(String::isBlank);
    if (lines.size() < 2) throw new IOException(historyCsv + " has no epoch rows");
    List<String> header = Arrays.asList(lines.get(0).trim().split(","));
    int epoch = column(header, "epoch", historyCsv);
    int loss = column(header, "train_loss", historyCsv);
    int valLoss = column(header, "val_loss", historyCsv);
    int acc = column(header, "train_binary_accuracy", historyCsv);
    int valAcc = column(header, "val_binary_accuracy", historyCsv);
    XYSeries sLoss = new XYSeries("loss");
    XYSeries sValLoss = new XYSeries("val_loss");
    XYSeries sAcc = new XYSeries("binary accuracy");
    XYSeries sValAcc = new XYSeries("val binary accuracy");
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.trim().split(",");
      double e = Double.parseDouble(f[epoch]);
      sLoss.add(e, Double.parseDouble(f[loss]));
      sValLoss.add(e, Double.parseDouble(f[valLoss]));
      sAcc.add(e, Double.parseDouble(f[acc]));
      sValAcc.add(e, Double.parseDouble(f[valAcc]));
    }
    Files.createDirectories(outDir);
    List<Path> written = new ArrayList<>();
    written.add(write(chart("Model loss", "loss (binary cross-entropy)", sLoss, sValLoss), outDir.resolve(LOSS_FILE)));
    written.add(write(chart("Model binary accuracy", "binary accuracy", sAcc, sValAcc), outDir.resolve(ACCURACY_FILE)));
    return written;
  }

  /**
   * The cross-validation curve ({@code cross-validation-curve.csv}: columns {@code epochs}, {@code
   * out_of_fold_macro_auc}, {@code out_of_fold_macro_auc_mirror_averaged}): held-out macro ROC-AUC
   * against the number of epochs, from which the shipped head's epoch count was chosen.
   */
  public static Path renderCurve(Path curveCsv, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> lines = Files.readAllLines(curveCsv, StandardCharsets.UTF_8);
    lines.removeIf(String::isBlank);
    if (lines.size() < 2) throw new IOException(curveCsv + " has no rows");
    List<String> header = Arrays.asList(lines.get(0).trim().split(","));
    int epoch = column(header, "epochs", curveCsv);
    int plain = column(header, "out_of_fold_macro_auc", curveCsv);
    int mirrored = column(header, "out_of_fold_macro_auc_mirror_averaged", curveCsv);
    XYSeries a = new XYSeries("poster as fed");
    XYSeries b = new XYSeries("poster and mirror image averaged");
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.trim().split(",");
      a.add(Double.parseDouble(f[epoch]), Double.parseDouble(f[plain]));
      b.add(Double.parseDouble(f[epoch]), Double.parseDouble(f[mirrored]));
    }
    JFreeChart chart = chart("Cross-validated macro ROC-AUC (out-of-fold)", "macro ROC-AUC", a, b);
    chart.getXYPlot().getDomainAxis().setLabel("epochs trained");
    return write(chart, png);
  }

  private static int column(List<String> header, String name, Path csv) throws IOException {
    int i = header.indexOf(name);
    if (i < 0) throw new IOException(csv + " has no column " + name + " (columns: " + header + ")");
    return i;
  }

  private static JFreeChart chart(String title, String yLabel, XYSeries train, XYSeries validation) {
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(train);
    data.addSeries(validation);
    JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setAntiAlias(true);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(220, 220, 220));
    plot.setRangeGridlinePaint(new Color(220, 220, 220));
    NumberAxis x = (NumberAxis) plot.getDomainAxis();
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    NumberAxis y = (NumberAxis) plot.getRangeAxis();
    y.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    r.setSeriesPaint(0, new Color(31, 119, 180)); // the matplotlib colours of the original pictures
    r.setSeriesPaint(1, new Color(255, 127, 14));
    r.setSeriesStroke(0, new BasicStroke(2f));
    r.setSeriesStroke(1, new BasicStroke(2f));
    plot.setRenderer(r);
    return chart;
  }

  private static Path write(JFreeChart chart, Path file) throws IOException {
    BufferedImage image = chart.createBufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB, null);
    if (!ImageIO.write(image, "png", file.toFile())) throw new IOException("no PNG writer");
    return file;
  }
}
