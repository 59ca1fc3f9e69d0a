// The loader of a page written by micrograd_widgets.save_html / the notebook export: it reads the
// saved widgets from <script id="mgw-offline-data">, imports each view module from its inlined
// source (a blob: URL, so nothing is fetched) and renders every <div data-mgw-widget="id"> with
// an offline model (./model.ts). No kernel, no network.
import { OFFLINE_NOTICE, offlineModel, restoreState, type OfflineData } from "./model";

type Render = (props: { model: unknown; el: HTMLElement }) => unknown;

async function importModule(source: string): Promise<{ render?: Render; default?: { render?: Render } }> {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return await import(/* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function showProblem(el: HTMLElement, text: string): void {
  const p = document.createElement("pre");
  p.className = "mgw-offline-problem";
  p.textContent = text; // text, never HTML
  el.replaceChildren(p);
  el.dataset.mgwOffline = "failed";
}

/** Render every widget placeholder in `doc`; returns how many rendered. */
export async function mountAll(doc: Document = document): Promise<number> {
  const script = doc.getElementById("mgw-offline-data");
  if (!script?.textContent) return 0;
  const data = JSON.parse(script.textContent) as OfflineData;
  const modules = new Map<string, Promise<Render | undefined>>();
  const renderOf = (key: string) => {
    if (!modules.has(key)) {
      const source = data.modules[key]?.esm;
      modules.set(
        key,
        source == null
          ? Promise.resolve(undefined)
          : importModule(source).then((m) => m.default?.render ?? m.render),
      );
    }
    return modules.get(key)!;
  };
  let rendered = 0;
  for (const el of doc.querySelectorAll<HTMLElement>("[data-mgw-widget]")) {
    const saved = data.widgets[el.dataset.mgwWidget ?? ""];
    try {
      if (!saved) throw new Error("its saved state is not in this page");
      const render = await renderOf(saved.module);
      if (!render) throw new Error("its front-end module is not in this page");
      el.replaceChildren();
      await render({ model: offlineModel(restoreState(saved), data.notice ?? OFFLINE_NOTICE), el });
      el.dataset.mgwOffline = "rendered";
      rendered += 1;
    } catch (error) {
      showProblem(el, `This widget could not be drawn: ${(error as Error).message ?? error}`);
    }
  }
  doc.body.dataset.mgwOfflineRendered = String(rendered);
  return rendered;
}

if (typeof document !== "undefined" && document.getElementById("mgw-offline-data")) {
  void mountAll();
}
