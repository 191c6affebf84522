// @ts-check
// The HTML export's script (a classic script inlined in the page, see render/html.py): the
// tree, a search box and an inspector from the data in #lineage-data. The app's component
// is built from streamlit.js instead (an ES module).
import { standalone } from "./standalone.js";

if (document.getElementById("lineage-data")) standalone();
