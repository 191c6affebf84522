// One bundle for both places the tree is shown: the app's Streamlit component, and
// the self-contained HTML export (which carries its data in #lineage-data).
import { connect } from "./streamlit.js";
import { standalone } from "./standalone.js";

if (document.getElementById("lineage-data")) standalone();
else connect();
