import { describe, expect, it } from "vitest";
import { recordedFrame } from "./timeline";

// two units, three recorded steps: [data0, data1, grad0, grad1] per step
const rows = Float32Array.from([1, 2, 0.5, 0.25, 3, 4, 1.5, 1.25, 5, 6, 2.5, 2.25]);
const steps = [0, 10, 20];

describe("recordedFrame", () => {
  it("shows the last recorded step at or before the requested one", () => {
    const frame = recordedFrame(rows, steps, 2, 3, 15)!;
    expect(frame.step).toBe(10);
    expect([...frame.numbers.data]).toEqual([3, 4]);
    expect([...frame.numbers.grad]).toEqual([1.5, 1.25]);
    expect(frame.numbers.local.length).toBe(3);
    expect(recordedFrame(rows, steps, 2, 3, 20)!.step).toBe(20);
    expect(recordedFrame(rows, steps, 2, 3, 999)!.step).toBe(20);
  });

  it("starts at the first frame before the recording, and gives nothing for other units", () => {
    expect(recordedFrame(rows, steps, 2, 3, -5)!.step).toBe(0);
    expect(recordedFrame(rows, steps, 3, 3, 5)).toBeNull(); // a layout the rows are not for
    expect(recordedFrame(new Float32Array(0), [], 2, 3, 5)).toBeNull();
  });
});
