// Placeholder entry while the graph view is being written (replaced by its owner).
import "./graph.css";
import type { Render } from "./shared/anywidget";

const render: Render = ({ el }) => {
  el.textContent = "graph view: under construction";
};
export default { render };
