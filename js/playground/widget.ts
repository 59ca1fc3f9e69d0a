// Playground view: the controls, drawn from the config Python holds, and the inner widgets
// (boundary, heatmap) rendered in their slots with anywidget's host.getWidget. Every control sends
// {type: "set", key, value}; Python checks it and answers with the new config, which redraws.
import "./widget.css";
import { sendAction, type RenderProps } from "../shared/anywidget";
import { fitCanvas } from "../shared/canvas";
import { cssColor, diverging, kClassColor, themePalette } from "../shared/colors";
import { button, formatCount, h, showText } from "../shared/dom";
import { mountView, NEEDS_KERNEL } from "../shared/view";
import { classLabels, className, dataToPad, editNetwork, padToData, parseNumber } from "./logic";
import type { ConfigValue, PlaygroundState } from "./types";

/** What anywidget (>= 0.11) passes as `host`: renders another widget's view in an element. */
interface Host {
  getWidget(ref: string): Promise<{ render(options: { el: HTMLElement; signal?: AbortSignal }): Promise<void> }>;
}

const PAD_SIZE = 300;
const GENERATOR_KEYS = ["n", "noise", "test_ratio", "regenerate"];
const needsKernel = { [NEEDS_KERNEL]: true };
const field = { class: "mgw-field" }; // the shared look of a toolbar box (shared/field.css)
const LABELS: Record<string, string> = {
  dataset: "Data",
  classes: "Classes",
  n: "Points",
  noise: "Noise",
  test_ratio: "Test",
  hidden: "Hidden layers",
  activation: "Activation",
  loss: "Loss",
  penalty: "Penalty",
  penalty_rate: "Penalty rate",
  batch_size: "Batch",
  lr: "Learning rate",
  optimizer: "Optimizer",
  speed: "Steps/s",
  max_steps: "Stop at step",
};

/**
 * Send a number box's value when it changes (blur) or on Enter: the notebook's own Enter key
 * (edit mode) never sees it, so typing 100 ⏎ in the box applies 100.
 */
function commitOnEnter(input: HTMLInputElement, commit: () => void): void {
  // each typed value is sent once: Enter sends it and leaves the box, whose blur must not resend
  // it later (e.g. when the box hides, after a newer change was sent)
  const fire = () => {
    if (input.dataset.sent === input.value) return;
    input.dataset.sent = input.value;
    commit();
  };
  input.addEventListener("change", fire);
  input.addEventListener("keydown", (event) => {
    event.stopPropagation(); // typing in the box is not a notebook shortcut
    if (event.key !== "Enter") return;
    event.preventDefault();
    fire();
    input.blur(); // so the box shows what Python answers
  });
}

/** Show `value` in a box the user is not typing in (or, when `force`, in any). */
function showValue(input: HTMLInputElement, value: string, force: boolean): void {
  if (!force && document.activeElement === input) return;
  input.value = value;
  delete input.dataset.sent; // a value typed again after this is new
}

/** The colour of class `label`, as the boundary draws it (binary: its two sides). */
function classColor(label: number, classes: number): string {
  return cssColor(classes === 2 ? diverging(label, 1, 1) : kClassColor(label));
}

function render({ model, el, host }: RenderProps<PlaygroundState> & { host?: Host }) {
  const shell = mountView(model, el, { className: "mgw-playground", draw: drawNow });
  const { root, redraw, onChange, on, cleanup } = shell;
  const send = (type: string, payload: object = {}) => sendAction(model, type, payload);
  const set = (key: string, value: ConfigValue) => send("set", { key, value });
  const settings = () => model.get("settings");

  /** One control: a labelled wrapper (hover: its one-line help) that hide/lock act on. */
  const wrappers = new Map<string, HTMLElement>();
  const wrap = (key: string, children: (Node | string)[], label = LABELS[key]) => {
    const name = h("span", { class: "mgw-pg-name" }, [label ?? ""]);
    const wrapper = h("label", { class: "mgw-pg-control", "data-control": key }, label ? [name, ...children] : children);
    wrappers.set(key, wrapper);
    return wrapper;
  };

  const selects = new Map<string, HTMLSelectElement>();
  const select = (key: string) => {
    const element = h("select", { ...field, "aria-label": LABELS[key] ?? key, ...needsKernel });
    element.addEventListener("change", () => {
      const value = element.value;
      const options = model.get("options")[key] ?? [];
      set(key, options.find((option) => String(option) === value) ?? value);
    });
    selects.set(key, element);
    return wrap(key, [element]);
  };

  const numbers = new Map<string, HTMLInputElement>();
  const numberBox = (key: string, attrs: Record<string, string>, empty: number | string | null) => {
    const input = h("input", { ...field, type: "number", step: "any", "aria-label": LABELS[key] ?? key, ...attrs, ...needsKernel });
    commitOnEnter(input, () => set(key, parseNumber(input.value, empty)));
    numbers.set(key, input);
    return wrap(key, [input]);
  };

  const sliders = new Map<string, [HTMLInputElement, HTMLElement]>();
  const slider = (key: string, max: number, stepSize: number) => {
    const input = h("input", { type: "range", min: "0", max: String(max), step: String(stepSize), "aria-label": LABELS[key], ...needsKernel });
    const shown = h("output", { class: "mgw-pg-value" });
    input.addEventListener("input", () => (shown.textContent = input.value));
    input.addEventListener("change", () => set(key, Number(input.value)));
    sliders.set(key, [input, shown]);
    return wrap(key, [input, shown]);
  };

  // ---- the toolbar: play, pause, step, reset, status, copy as code ----
  const actionButton = (key: string, label: string) => {
    const b = button(label, () => send(key), { title: model.get("help")[key] ?? "", ...needsKernel });
    b.dataset.control = key;
    wrappers.set(key, b);
    return b;
  };
  const status = h("span", { class: "mgw-pg-status", role: "status" });
  const toolbar = h("div", { class: "mgw-toolbar mgw-pg-toolbar" }, [
    actionButton("play", "▶ Play"),
    actionButton("pause", "❚❚ Pause"),
    actionButton("step", "Step"),
    actionButton("reset", "Reset"),
    status,
    actionButton("code", "Copy as code"),
  ]);

  // ---- data ----
  const regenerate = actionButton("regenerate", "Regenerate");
  const dataSection = h("fieldset", { class: "mgw-pg-section" }, [
    h("legend", {}, ["Data"]),
    select("dataset"),
    select("classes"),
    numberBox("n", { min: "2", max: "2000", step: "1" }, ""),
    slider("noise", 0.5, 0.01),
    slider("test_ratio", 0.9, 0.05),
    regenerate,
  ]);

  // ---- network ----
  const layersText = h("span", { class: "mgw-pg-layers-text" });
  const layerButtons = h("span", { class: "mgw-pg-layer-buttons" });
  const editHidden = (layer: number | null, delta: 1 | -1) => {
    const next = editNetwork(settings().hidden as number[], { layer, delta }, model.get("limits"));
    if (next) set("hidden", next);
  };
  const addLayer = button("+", () => editHidden(null, 1), { title: "Add a hidden layer", "aria-label": "add a layer", ...needsKernel });
  const removeLayer = button("−", () => editHidden(null, -1), { title: "Remove the last hidden layer", "aria-label": "remove a layer", ...needsKernel });
  const networkEditor = h("div", { class: "mgw-pg-network" });
  const graphToggle = h("input", { type: "checkbox", "aria-label": "sample graph", ...needsKernel });
  graphToggle.addEventListener("change", () => set("graph", graphToggle.checked));
  const networkSection = h("fieldset", { class: "mgw-pg-section" }, [
    h("legend", {}, ["Network"]),
    wrap("hidden", [removeLayer, layersText, addLayer, layerButtons]),
    networkEditor,
    select("activation"),
    wrap("graph", [graphToggle], "Sample graph"),
  ]);

  // ---- training ----
  const lrMode = h("select", { ...field, "aria-label": "learning-rate kind", ...needsKernel }, [
    h("option", { value: "constant" }, ["constant"]),
    h("option", { value: "schedule" }, ["schedule"]),
  ]);
  const lrInput = h("input", { ...field, type: "number", step: "any", min: "0", "aria-label": "learning rate", ...needsKernel });
  lrMode.addEventListener("change", () => set("lr", lrMode.value === "schedule" ? "schedule" : parseNumber(lrInput.value || "0.1", 0.1)));
  commitOnEnter(lrInput, () => set("lr", parseNumber(lrInput.value, "")));
  const trainingSection = h("fieldset", { class: "mgw-pg-section" }, [
    h("legend", {}, ["Training"]),
    select("loss"),
    select("penalty"),
    numberBox("penalty_rate", { min: "0" }, ""),
    numberBox("batch_size", { min: "1", step: "1", placeholder: "all" }, null),
    wrap("lr", [lrMode, lrInput]),
    select("optimizer"),
    select("speed"),
    numberBox("max_steps", { min: "1", step: "1", placeholder: "no limit" }, null),
  ]);

  // ---- the draw-your-own pad, while there are too few points to train ----
  const problem = h("div", { class: "mgw-pg-problem", role: "status" });
  const classPicker = h("select", { ...field, "aria-label": "class of new points", title: "The class a click adds", ...needsKernel });
  const pad = h("canvas", { class: "mgw-pg-pad", "aria-label": "click to add a point, alt-click to remove one" });
  const padBox = h("div", { class: "mgw-pg-padbox" }, [
    h("label", { class: "mgw-pg-control", title: "Click adds a point of this class; alt-click removes the nearest" }, [h("span", {}, ["Add class"]), classPicker]),
    pad,
  ]);
  pad.addEventListener("click", (event) => {
    if (shell.kernelLost()) return;
    const rect = pad.getBoundingClientRect();
    const [x, y] = padToData(event.clientX - rect.left, event.clientY - rect.top, rect.width, model.get("pad_extent"));
    if (event.altKey) send("remove_point", { x, y });
    else send("add_point", { x, y, label: Number(classPicker.value) });
  });

  // ---- the inner widgets ----
  const partsBox = h("div", { class: "mgw-pg-parts" });
  const slots = new Map<string, { el: HTMLElement; ref: string; controller: AbortController | null }>();
  for (const name of ["boundary", "heatmap", "graph"]) {
    const slotEl = h("div", { class: `mgw-pg-part mgw-pg-part-${name}`, "data-part": name });
    slots.set(name, { el: slotEl, ref: "", controller: null });
    partsBox.append(slotEl);
  }
  let rendered = 0;
  const mountParts = () => {
    const parts = model.get("parts");
    for (const [name, slot] of slots) {
      const ref = parts[name] ?? "";
      if (ref === slot.ref) continue;
      slot.controller?.abort(); // the old view cleans up (and reports detached)
      slot.el.replaceChildren();
      slot.ref = ref;
      slot.controller = null;
      slot.el.hidden = !ref;
      if (!ref) continue;
      if (!host?.getWidget) {
        slot.el.append(h("p", {}, ["This front-end cannot show a widget inside another (anywidget ≥ 0.11 can)."]));
        continue;
      }
      const controller = new AbortController();
      slot.controller = controller;
      const el = h("div");
      slot.el.append(el);
      host
        .getWidget(ref)
        .then((widget) => (controller.signal.aborted ? undefined : widget.render({ el, signal: controller.signal })))
        .then(() => {
          if (controller.signal.aborted) return;
          rendered += 1;
          root.dataset.partsRendered = String(rendered);
        })
        .catch((error: unknown) => {
          if (!controller.signal.aborted) slot.el.replaceChildren(h("p", { class: "mgw-error" }, [`could not show the ${name}: ${String(error)}`]));
        });
    }
  };

  // Python answers every set (applied or refused) with "settled": the box of that key then shows
  // what Python holds, also when a refused value left the config as it was (no change event);
  // only that box: a number being typed in another box is the user's and stays
  let forceKey: string | null = null;
  on("msg:custom", (content: { type?: string; key?: string }) => {
    if (content?.type !== "settled") return;
    forceKey = typeof content.key === "string" ? content.key : null;
    redraw();
  });

  // ---- copy as code ----
  const codeBox = h("pre", { class: "mgw-pg-code", hidden: true, tabindex: "0" });
  const codeNote = h("div", { class: "mgw-pg-code-note", hidden: true });
  on("msg:custom", (content: { type?: string; code?: string }) => {
    if (content?.type !== "code" || typeof content.code !== "string") return;
    const code = content.code;
    codeBox.textContent = code; // text, never HTML
    codeBox.hidden = false;
    root.dataset.code = String(code.length);
    const copied = navigator.clipboard?.writeText(code);
    const say = (text: string) => showText(codeNote, text);
    if (copied) copied.then(() => say("Copied to the clipboard."), () => say("Select the code and copy it (the clipboard was refused)."));
    else say("Select the code and copy it (no clipboard here).");
  });

  root.append(
    toolbar,
    h("div", { class: "mgw-pg-controls" }, [dataSection, networkSection, trainingSection]),
    problem,
    padBox,
    partsBox,
    codeNote,
    codeBox,
  );

  // ---- drawing what the state says ----
  function showSelect(key: string, value: ConfigValue) {
    const element = selects.get(key)!;
    const options = (model.get("options")[key] ?? []).map(String);
    if ([...element.options].map((o) => o.value).join("\u0000") !== options.join("\u0000")) {
      element.replaceChildren(...options.map((option) => h("option", { value: option }, [option])));
    }
    element.value = String(value);
  }

  function drawControls() {
    const config = settings();
    const help = model.get("help");
    const hidden = new Set(model.get("hidden_controls"));
    const locked = new Set(model.get("locked_controls"));
    for (const key of selects.keys()) showSelect(key, config[key]);
    for (const [key, input] of numbers) showValue(input, config[key] == null ? "" : String(config[key]), forceKey === key);
    for (const [key, [input, shown]] of sliders) {
      input.value = String(config[key]);
      shown.textContent = String(config[key]);
    }
    const lr = config.lr;
    graphToggle.checked = config.graph === true;
    lrMode.value = lr === "schedule" ? "schedule" : "constant";
    lrInput.hidden = lr === "schedule";
    if (typeof lr === "number") showValue(lrInput, String(lr), forceKey === "lr");
    forceKey = null;
    // the network: one column per hidden layer with its own +/−
    const hiddenLayers = (config.hidden as number[]) ?? [];
    const limits = model.get("limits");
    layersText.textContent = `${hiddenLayers.length} hidden layer${hiddenLayers.length === 1 ? "" : "s"}`;
    addLayer.disabled = hiddenLayers.length >= limits.layers;
    removeLayer.disabled = hiddenLayers.length === 0;
    networkEditor.replaceChildren(
      ...hiddenLayers.map((width, layer) => {
        const more = button("+", () => editHidden(layer, 1), { "aria-label": `add a neuron to layer ${layer + 1}`, ...needsKernel });
        const fewer = button("−", () => editHidden(layer, -1), { "aria-label": `remove a neuron from layer ${layer + 1}`, ...needsKernel });
        more.disabled = width >= limits.neurons;
        fewer.disabled = width <= 1;
        return h("div", { class: "mgw-pg-layer", "data-layer": layer, title: `Hidden layer ${layer + 1}: ${width} neurons` }, [fewer, h("span", { class: "mgw-pg-width" }, [String(width)]), more]);
      }),
    );
    // hide, lock and explain
    for (const [key, wrapper] of wrappers) {
      wrapper.hidden = hidden.has(key);
      const isLocked = locked.has(key);
      wrapper.title = (help[key] ?? "") + (isLocked ? " (locked in this lesson)" : "");
      wrapper.toggleAttribute("data-locked", isLocked);
      const inputs = wrapper.matches("button, select, input") ? [wrapper] : [...wrapper.querySelectorAll<HTMLElement>("button, select, input")];
      if (key === "hidden") inputs.push(...networkEditor.querySelectorAll<HTMLElement>("button"));
      for (const input of inputs) if (isLocked) (input as HTMLInputElement).disabled = true;
    }
    // drawn data has no generator: its size, noise, split and seed do not apply
    if (config.dataset === "draw") for (const key of GENERATOR_KEYS) wrappers.get(key)!.hidden = true;
    networkEditor.hidden = hidden.has("hidden");
    wrappers.get("graph")!.hidden ||= !limits.graph; // this library's GraphWidget cannot follow
    padBox.toggleAttribute("data-locked", locked.has("drawn"));
    root.dataset.dataset = String(config.dataset);
  }

  function drawStatus() {
    const step = model.get("step");
    const limit = settings().max_steps;
    // no kernel: nothing runs, whatever the last status said
    const parts = [`step ${formatCount(step)}${limit == null ? "" : ` of ${formatCount(limit as number)}`}`, shell.kernelLost() ? "no kernel" : model.get("status")];
    const engine = model.get("engine");
    if (engine) parts.push(`${engine} engine, built in ${Math.round(model.get("build_ms"))} ms`);
    const message = model.get("message");
    status.textContent = parts.join(" · ") + (message ? ` — ${message}` : "");
    root.dataset.step = String(step);
    root.dataset.status = model.get("status");
  }

  function drawPad() {
    const text = model.get("problem");
    // Python's text asks for clicks on the pad, which need Python
    showText(problem, text && shell.kernelLost() ? `${text} Without a kernel no point can be added.` : text);
    root.dataset.problem = text ? "yes" : "no";
    const hasTrainer = !text;
    padBox.hidden = hasTrainer;
    if (hasTrainer) return;
    const config = settings();
    const classes = Number(config.classes);
    const labels = classLabels(classes);
    const wanted = labels.map(String).join(",");
    if ([...classPicker.options].map((o) => o.value).join(",") !== wanted) {
      classPicker.replaceChildren(...labels.map((label) => h("option", { value: String(label) }, [className(label, classes)])));
    }
    const drawn = (config.drawn as number[][]) ?? [];
    pad.dataset.points = String(drawn.length);
    const ctx = fitCanvas(pad, PAD_SIZE, PAD_SIZE);
    if (!ctx) return;
    const palette = themePalette(root);
    ctx.clearRect(0, 0, PAD_SIZE, PAD_SIZE);
    ctx.strokeStyle = palette.border;
    ctx.strokeRect(0.5, 0.5, PAD_SIZE - 1, PAD_SIZE - 1);
    const extent = model.get("pad_extent");
    const [ox, oy] = dataToPad(0, 0, PAD_SIZE, extent);
    ctx.beginPath();
    ctx.moveTo(ox, 0);
    ctx.lineTo(ox, PAD_SIZE);
    ctx.moveTo(0, oy);
    ctx.lineTo(PAD_SIZE, oy);
    ctx.stroke();
    for (const [x, y, label] of drawn) {
      const [px, py] = dataToPad(x, y, PAD_SIZE, extent);
      ctx.beginPath();
      ctx.arc(px, py, 5, 0, 2 * Math.PI);
      ctx.fillStyle = classColor(label, classes);
      ctx.fill();
      ctx.strokeStyle = palette.fg;
      ctx.stroke();
    }
  }

  function drawNow() {
    drawControls();
    drawStatus();
    drawPad();
  }

  onChange(["settings", "options", "help", "hidden_controls", "locked_controls", "limits"], redraw);
  onChange(["step", "status", "message", "engine", "build_ms"], redraw);
  onChange(["problem", "pad_extent"], redraw);
  onChange(["parts"], mountParts);
  mountParts();
  redraw();
  return () => {
    for (const slot of slots.values()) slot.controller?.abort();
    cleanup();
  };
}

export default { render };
