// Binary traits arrive as a DataView that may start at an offset a Float32Array cannot use.

export function toFloat32(view: DataView | ArrayBuffer | null | undefined): Float32Array {
  if (!view) return new Float32Array(0);
  if (view instanceof ArrayBuffer) return new Float32Array(view.slice(0));
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export function toFloat64(view: DataView | ArrayBuffer | null | undefined): Float64Array {
  if (!view) return new Float64Array(0);
  if (view instanceof ArrayBuffer) return new Float64Array(view.slice(0));
  return new Float64Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}
