// Placeholder entry while the boundary view is being written (replaced by its owner).
import "./boundary.css";
import type { Render } from "./shared/anywidget";

const render: Render = ({ el }) => {
  el.textContent = "boundary view: under construction";
};
export default { render };
