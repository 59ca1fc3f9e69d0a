// Binary traits arrive as a DataView that may start at an offset a Float32Array cannot use,
// so every decoder copies the bytes first.

export type Bytes = DataView | ArrayBuffer | null | undefined;

/** A copy of the bytes (a DataView may sit at any offset of a shared buffer). */
export function copyBytes(view: Bytes): Uint8Array {
  if (!view) return new Uint8Array(0);
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0));
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export function toFloat32(view: Bytes): Float32Array {
  return new Float32Array(copyBytes(view).buffer);
}

export function toFloat64(view: Bytes): Float64Array {
  return new Float64Array(copyBytes(view).buffer);
}

export function toInt8(view: Bytes): Int8Array {
  return new Int8Array(copyBytes(view).buffer);
}

/** float32 rows of `width` columns -> one Float32Array per column. */
export function columns(view: Bytes, width: number): Float32Array[] {
  const flat = toFloat32(view);
  const rows = Math.floor(flat.length / width);
  const cols = Array.from({ length: width }, () => new Float32Array(rows));
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) cols[c][r] = flat[r * width + c];
  return cols;
}
