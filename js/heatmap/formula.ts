// "What am I looking at": the update the trainer's optimizer applied to one parameter, as its
// formula with that parameter's numbers plugged in, e.g.
//   w ← w − lr·grad = 0.31 − 0.1·(−0.42) = 0.352
// Text only: the caller sets it with textContent.
import { formatNumber } from "../shared/dom";
import type { OptimizerInfo } from "./types";

/** One parameter's numbers at the shown step (after its update). */
export interface CellNumbers {
  weight: number; // the value now, after the last step
  update: number; // the change the last step applied (new − old)
  grad: number; // the gradient that step used
  state: Record<string, number>; // the optimizer's state after the step: velocity, m, sqrt_v
}

/** A number as the formula writes it: 4 significant digits (or `digits`), a true minus sign. */
export function num(x: number, digits = 4): string {
  if (digits === 4 || !Number.isFinite(x) || x === 0) return formatNumber(x).replace(/^-/, "−");
  const abs = Math.abs(x);
  const text = abs >= 1e5 || abs < 1e-3 ? x.toExponential(digits - 1) : Number(x.toPrecision(digits)).toString();
  return text.replace(/^-/, "−");
}

/** The most digits the weights get (they travel as float32: ~7 significant digits). */
export const MAX_DIGITS = 6;

/**
 * Digits to write a weight before and after its update with: 4, or more (up to MAX_DIGITS) when
 * the update is too small to show at 4 -- `−0.362 − 0.1·1.416e-4 = −0.362` says nothing.
 */
export function weightDigits(before: number, after: number): number {
  let digits = 4;
  while (digits < MAX_DIGITS && before !== after && num(before, digits) === num(after, digits)) digits += 1;
  return digits;
}

/** A factor in a product: negative numbers in brackets, `0.1·(−0.42)`. */
function factor(x: number): string {
  return x < 0 ? `(${num(x)})` : num(x);
}

/**
 * The lines that explain the last update of one parameter, for `info`'s optimizer. Before any
 * step (no lr yet) only the rule; an optimizer this view does not know: its rule and the change.
 */
export function updateFormula(info: OptimizerInfo, cell: CellNumbers): string[] {
  const name = info.name ?? "";
  const rule = info.rule ?? "";
  if (!name) return [`change since the last refresh: ${num(cell.update)}`];
  const lr = info.lr;
  if (lr === null || lr === undefined) return [`no step yet; each step applies ${rule}`];
  const before = cell.weight - cell.update;
  const digits = weightDigits(before, cell.weight);
  const w = num(cell.weight, digits);
  const w0 = num(before, digits);
  if (name === "sgd") return [`w ← w − lr·grad = ${w0} − ${num(lr)}·${factor(cell.grad)} = ${w}`];
  if (name === "momentum" && "velocity" in cell.state) {
    const v = cell.state.velocity;
    return [
      `v ← μ·v + grad: v = ${num(v)} (μ = ${num(info.momentum ?? 0)}, grad = ${num(cell.grad)})`,
      `w ← w − lr·v = ${w0} − ${num(lr)}·${factor(v)} = ${w}`,
    ];
  }
  if ((name === "adam" || name === "adamw") && "m" in cell.state && "sqrt_v" in cell.state) {
    const [beta1, beta2] = info.betas ?? [0.9, 0.999];
    const t = info.t ?? 1;
    const eps = info.eps ?? 1e-8;
    const mHat = cell.state.m / (1 - beta1 ** t);
    const rootVHat = cell.state.sqrt_v / Math.sqrt(1 - beta2 ** t);
    const step = `${num(lr)}·${factor(mHat)} / (${num(rootVHat)} + ${num(eps)})`;
    const last =
      name === "adamw"
        ? `w ← w·(1 − lr·λ) − lr·m̂ / (√v̂ + ε) = ${w0}·(1 − ${num(lr)}·${num(info.weight_decay ?? 0)}) − ${step} = ${w}`
        : `w ← w − lr·m̂ / (√v̂ + ε) = ${w0} − ${step} = ${w}`;
    return [
      `m̂ = m / (1 − β1^t) = ${num(cell.state.m)} / (1 − ${num(beta1)}^${t}) = ${num(mHat)}`,
      `√v̂ = √v / √(1 − β2^t) = ${num(cell.state.sqrt_v)} / √(1 − ${num(beta2)}^${t}) = ${num(rootVHat)}`,
      last,
    ];
  }
  return [`${rule}: w = ${w0} → ${w}`];
}
