// Decoding the decision-boundary widget's binary traits, and mapping data <-> canvas coordinates.
import { columns, copyBytes, toFloat32, toInt8, type Bytes } from "../shared/binary";

export interface Points {
  xy: Float32Array; // x0, y0, x1, y1, ...
  labels: Int8Array; // -1 or +1
  count: number;
}

export function decodePoints(points: Bytes, labels: Bytes): Points {
  const xy = toFloat32(points);
  const lab = toInt8(labels);
  return { xy, labels: lab, count: Math.min(xy.length >> 1, lab.length) };
}

export interface RecordedFrame {
  step: number;
  loss: number;
  accuracy: number;
  values: Float32Array; // resolution² scores, row 0 at the top
}

/**
 * The recorded run: uint8 grids (128 = score 0, ±127 = ±scale) with float32 meta rows
 * (step, scale, loss, accuracy).
 */
export function decodeRecording(recording: Bytes, meta: Bytes, resolution: number): RecordedFrame[] {
  const bytes = copyBytes(recording);
  const [steps, scales, loss, accuracy] = columns(meta, 4);
  const size = resolution * resolution;
  const count = size > 0 ? Math.min(steps.length, Math.floor(bytes.length / size)) : 0;
  const frames: RecordedFrame[] = [];
  for (let f = 0; f < count; f++) {
    const values = new Float32Array(size);
    const scale = scales[f] / 127;
    for (let i = 0; i < size; i++) values[i] = (bytes[f * size + i] - 128) * scale;
    frames.push({ step: steps[f], loss: loss[f], accuracy: accuracy[f], values });
  }
  return frames;
}

/** [xmin, xmax, ymin, ymax] of the data shown in a width × height canvas. */
export type Extent = [number, number, number, number];

export function dataToCanvas(extent: Extent, width: number, height: number, x: number, y: number): [number, number] {
  const [xmin, xmax, ymin, ymax] = extent;
  return [((x - xmin) / (xmax - xmin)) * width, ((ymax - y) / (ymax - ymin)) * height];
}

export function canvasToData(extent: Extent, width: number, height: number, px: number, py: number): [number, number] {
  const [xmin, xmax, ymin, ymax] = extent;
  return [xmin + (px / width) * (xmax - xmin), ymax - (py / height) * (ymax - ymin)];
}

/** A recorded frame of a k-output model: class bytes then confidence bytes (as class_frame). */
export interface RecordedClasses {
  step: number;
  loss: number;
  accuracy: number;
  bytes: Uint8Array; // resolution² classes, then resolution² confidences
}

/** The recorded run of a k-output model: 2·resolution² bytes per frame, meta rows as above. */
export function decodeClassRecording(recording: Bytes, meta: Bytes, resolution: number): RecordedClasses[] {
  const bytes = copyBytes(recording);
  const [steps, , loss, accuracy] = columns(meta, 4);
  const size = 2 * resolution * resolution;
  const count = size > 0 ? Math.min(steps.length, Math.floor(bytes.length / size)) : 0;
  return Array.from({ length: count }, (_, f) => ({
    step: steps[f],
    loss: loss[f],
    accuracy: accuracy[f],
    bytes: bytes.subarray(f * size, (f + 1) * size),
  }));
}

/** float32 (w0, w1, b) rows, one per first-layer neuron; `frames` sets of them when recorded. */
export function decodeLines(bytes: Bytes, frames = 1): Float32Array[] {
  const flat = toFloat32(bytes);
  if (frames <= 0 || flat.length % (3 * frames) !== 0) return [];
  const per = flat.length / frames;
  return Array.from({ length: frames }, (_, f) => flat.subarray(f * per, (f + 1) * per));
}

/** One hidden neuron's output over the plane (a thumbnail), decoded to numbers. */
export interface NeuronThumb {
  layer: number;
  index: number;
  values: Float32Array; // resolution², row 0 at the top
  scale: number; // max |value|
}

/** uint8 thumbnails (128 = 0, ±127 = ±scale), hidden layer after hidden layer. */
export function decodeThumbnails(bytes: Bytes, layers: number[], scales: number[], resolution: number): NeuronThumb[] {
  const data = copyBytes(bytes);
  const size = resolution * resolution;
  const total = layers.reduce((a, b) => a + b, 0);
  if (size <= 0 || data.length !== total * size || scales.length !== total) return [];
  const thumbs: NeuronThumb[] = [];
  let j = 0;
  layers.forEach((width, layer) => {
    for (let index = 0; index < width; index++, j++) {
      const values = new Float32Array(size);
      const step = scales[j] / 127;
      for (let i = 0; i < size; i++) values[i] = (data[j * size + i] - 128) * step;
      thumbs.push({ layer, index, values, scale: scales[j] });
    }
  });
  return thumbs;
}
