// Computes the TensorFlow.js reference values that KerasGraphTest.realNsfwjsMobileNetV2MatchesTensorFlowJs
// compares the Java port (KerasBackbone) with: nsfwjs 4.4.0's MobileNetV2 on KerasBackbone.syntheticImage,
// TensorFlow.js 4.22.0, CPU backend. Run once by hand when the pinned package changes:
//
//   mkdir -p target/tfjs-reference && cd target/tfjs-reference
//   npm install --no-save --no-audit --no-fund nsfwjs@4.4.0 @tensorflow/tfjs@4.22.0 buffer@6.0.3
//   node ../../src/test/tfjs/nsfwjs-reference.mjs
//
// and copy the printed numbers into the test. Packages are resolved from the current directory.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const tf = require("@tensorflow/tfjs");
await tf.setBackend("cpu");
const nsfwjs = require("nsfwjs");

const model = (await nsfwjs.load("MobileNetV2")).model; // the bundled weights, as the npm package ships them
const size = 224;
// KerasBackbone.syntheticImage: ((x * 3 + y * 5 + c * 7) % 256) / 255, NHWC, already in [0, 1] (InputScaling.UNIT)
const pixels = new Float32Array(size * size * 3);
for (let y = 0; y < size; y++)
  for (let x = 0; x < size; x++)
    for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = ((x * 3 + y * 5 + c * 7) % 256) / 255;
const image = tf.tensor4d(pixels, [1, size, size, 3]);

const softmax = Array.from(await model.predict(image).data());
const features = tf.model({ inputs: model.inputs, outputs: model.getLayer("out_relu").output });
const pooled = Array.from(await tf.mean(features.predict(image), [1, 2]).data());
const sum = pooled.reduce((a, b) => a + b, 0);

const nsfwjsVersion = JSON.parse(fs.readFileSync(path.join(process.cwd(), "node_modules/nsfwjs/package.json"))).version;
console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, nsfwjs ${nsfwjsVersion}`);
console.log(`softmax        ${softmax.map((v) => v.toFixed(6)).join(", ")}`);
console.log(`features       ${pooled.length}, sum ${sum.toFixed(4)}, last ${pooled[pooled.length - 1].toFixed(6)}`);
