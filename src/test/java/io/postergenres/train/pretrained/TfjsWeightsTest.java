package io.postergenres.train.pretrained;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfjsWeightsTest {
  private static final String TOPOLOGY = "{\"model_config\":{\"class_name\":\"Model\",\"config\":{\"layers\":[]}}}";

  private static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  @Test
  void readsFloatAndQuantizedWeightsAcrossShardsInManifestOrder(@TempDir Path dir) throws IOException {
    // a: float32 [2,2] (16 bytes); b: uint8 [3] with min -1, scale 0.5; c: uint16 [1]; d: float16 [2].
    // Concatenated (16 + 3 + 2 + 4 = 25 bytes) then cut into two shards at byte 10.
    ByteBuffer all = ByteBuffer.allocate(25).order(ByteOrder.LITTLE_ENDIAN);
    all.put(floats(1f, -2f, 3.5f, 0.25f));
    all.put((byte) 0).put((byte) 2).put((byte) 255);
    all.putShort((short) 1000);
    all.putShort((short) 0x3C00).putShort((short) 0xC000); // 1.0, -2.0
    byte[] bytes = all.array();
    Files.write(dir.resolve("group1-shard1of2.bin"), java.util.Arrays.copyOfRange(bytes, 0, 10));
    Files.write(dir.resolve("group1-shard2of2.bin"), java.util.Arrays.copyOfRange(bytes, 10, 25));
    String json = "{\"modelTopology\":" + TOPOLOGY + ",\"weightsManifest\":[{\"paths\":[\"group1-shard1of2.bin\",\"group1-shard2of2.bin\"],"
        + "\"weights\":[{\"name\":\"a\",\"shape\":[2,2],\"dtype\":\"float32\"},"
        + "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"min\":-1,\"scale\":0.5,\"dtype\":\"uint8\"}},"
        + "{\"name\":\"c\",\"shape\":[1],\"dtype\":\"float32\",\"quantization\":{\"min\":0,\"scale\":0.001,\"dtype\":\"uint16\"}},"
        + "{\"name\":\"d\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}}]}]}";
    Files.writeString(dir.resolve("model.json"), json);

    TfjsWeights w = TfjsWeights.read(dir);
    assertEquals("model.json", w.format());
    assertEquals(List.of("a", "b", "c", "d"), List.copyOf(w.weights().keySet()));
    assertArrayEquals(new long[] {2, 2}, w.weight("a").shape());
    assertArrayEquals(new float[] {1f, -2f, 3.5f, 0.25f}, w.weight("a").values());
    assertArrayEquals(new float[] {-1f, 0f, 126.5f}, w.weight("b").values(), 1e-6f);
    assertArrayEquals(new float[] {1f}, w.weight("c").values(), 1e-6f);
    assertArrayEquals(new float[] {1f, -2f}, w.weight("d").values());
  }

  @Test
  void failsWhenShardsAreShorterOrLongerThanTheManifest(@TempDir Path dir) throws IOException {
    Files.write(dir.resolve("s.bin"), floats(1f));
    Files.writeString(dir.resolve("model.json"), "{\"modelTopology\":" + TOPOLOGY
        + ",\"weightsManifest\":[{\"paths\":[\"s.bin\"],\"weights\":[{\"name\":\"a\",\"shape\":[2],\"dtype\":\"float32\"}]}]}");
    assertThrows(IOException.class, () -> TfjsWeights.read(dir));
    Files.write(dir.resolve("s.bin"), floats(1f, 2f, 3f));
    assertThrows(IOException.class, () -> TfjsWeights.read(dir));
  }

  @Test
  void readsTheNsfwjsBundledLayoutMinifiedObjectAndBase64Shard(@TempDir Path dir) throws IOException {
    // The shape of nsfwjs' dist/models/*/model.min.js: a UMD wrapper whose module exports a minified literal.
    String literal = "{modelTopology:{keras_version:\"2.2.4\",model_config:{class_name:\"Model\",config:{name:'m',layers:"
        + "[{name:\"input_1\",class_name:\"InputLayer\",config:{batch_input_shape:[null,2,2,1],sparse:!1,trainable:!0,seed:void 0},"
        + "inbound_nodes:[]}]}}},weightsManifest:[{paths:[\"group1-shard1of1\"],weights:[{name:\"w\",shape:[2],dtype:\"float32\","
        + "quantization:{min:-.5,scale:.25,dtype:\"uint8\"}},{name:\"v\",shape:[1],dtype:\"float32\"}]}]}";
    Files.writeString(dir.resolve("model.min.js"), "!function(e){if(\"object\"==typeof exports)module.exports=e();}(function(){return "
        + "function e(a,n,i){return 0}({1:[function(e,a,n){a.exports=" + literal + "},{}]},{},[1])(1)});", StandardCharsets.UTF_8);
    ByteBuffer shard = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0).put((byte) 4).putFloat(1.5e-3f);
    Files.writeString(dir.resolve("group1-shard1of1.min.js"), "!function(e){}(function(){return{1:[function(e,h,n){h.exports=\""
        + Base64.getEncoder().encodeToString(shard.array()) + "\"},{}]}});");

    TfjsWeights w = TfjsWeights.read(dir);
    assertEquals("model.min.js", w.format());
    assertArrayEquals(new float[] {-0.5f, 0.5f}, w.weight("w").values(), 1e-6f);
    assertArrayEquals(new float[] {1.5e-3f}, w.weight("v").values());
    assertEquals(1, w.layers().size());
    assertEquals(false, w.layers().get(0).path("config").path("sparse").asBoolean(true));
    assertEquals(true, w.layers().get(0).path("config").path("seed").isNull());
  }

  @Test
  void jsLiteralConversion() {
    assertEquals("{\"a\":[0.5,-0.25,1e-5,2E+3],\"b\":true,\"c\":\"it's \\\"x\\\"\",\"d\":null}",
        JsLiteral.toJson("{a:[.5,-.25,1e-5,2E+3],b:!0,c:'it\\'s \"x\"',d:void 0}"));
  }

  @Test
  void shardPathsStayInsideTheBackbonesDirectory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path backbone = java.nio.file.Files.createDirectories(tmp.resolve("backbone"));
    java.nio.file.Files.write(tmp.resolve("secret.bin"), new byte[] {1, 2, 3, 4});
    java.nio.file.Files.write(backbone.resolve("group1-shard1of1.bin"), new byte[] {5, 6, 7, 8});
    assertEquals(4, TfjsWeights.readShard(backbone, "group1-shard1of1.bin").length);
    java.io.IOException up = assertThrows(java.io.IOException.class, () -> TfjsWeights.readShard(backbone, "../secret.bin"));
    assertTrue(up.getMessage().contains("leaves"), up.getMessage());
    assertThrows(java.io.IOException.class, () -> TfjsWeights.readShard(backbone, tmp.resolve("secret.bin").toString()));
    java.nio.file.Files.createSymbolicLink(backbone.resolve("link.bin"), tmp.resolve("secret.bin"));
    assertThrows(java.io.IOException.class, () -> TfjsWeights.readShard(backbone, "link.bin"));
  }
}
