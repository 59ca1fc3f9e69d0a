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
