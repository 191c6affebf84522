// The Streamlit custom-component protocol (components v1), spoken directly: the page
// sends "streamlit:render" with the arguments; we answer with the picked image.
import { TreeView, parseSvg } from "./tree.js";
import { TREE_CSS, addStyle } from "./style.js";

function send(type, data) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}

export function connect() {
  addStyle(TREE_CSS + "html, body { margin: 0; padding: 0; overflow: hidden; background: transparent; }");
  const host = document.createElement("div");
  document.body.appendChild(host);
  let view = null;
  let drawing = null; // the digest of the drawing shown
  let asked = null; // the digest last asked for
  let sent = null; // the node id the last click sent: the page's answer should not re-centre it
  let clicks = 0;
  let height = 0;

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || data.type !== "streamlit:render") return;
    const args = data.args || {};
    if (args.height !== height) {
      height = args.height || 600;
      host.style.height = `${height}px`;
      send("streamlit:setFrameHeight", { height: height + 2 });
    }
    // The drawing (SVG and tooltips) comes only when it changed: otherwise the page sends
    // its digest alone. A frame that does not hold it (mounted afresh) asks for it once.
    const fresh = args.drawing !== drawing;
    if (fresh) {
      if (typeof args.svg !== "string" || !args.nodes) {
        if (asked !== args.drawing) {
          asked = args.drawing;
          send("streamlit:setComponentValue", {
            value: { need: args.drawing, ask: `${Date.now()}-${Math.random()}` },
            dataType: "json",
          });
        }
        return;
      }
      if (!view) {
        view = new TreeView(host, {
          nodes: {},
          rankdir: args.rankdir,
          onPick: (id) => {
            sent = id;
            clicks += 1;
            send("streamlit:setComponentValue", {
              value: { node: id, image: (view.nodes[id] || {}).image || null, click: clicks },
              dataType: "json",
            });
          },
        });
      }
      drawing = args.drawing;
      asked = null;
      view.setNodes(args.nodes);
      view.setSvg(parseSvg(args.svg));
    }
    view.options.rankdir = args.rankdir;
    const previous = view.selected;
    view.setSelected(args.selected || null);
    view.setMatches(args.matches || []);
    // What the user asked for elsewhere (the picker, the search) is centred; a click's
    // own answer is not (the box is where the user just clicked).
    const focus = args.selected || (args.matches || [])[0];
    if (focus && (fresh || args.selected !== previous) && focus !== sent) view.centreOn(focus);
    if (args.selected === sent) sent = null;
    host.dataset.ready = "1";
  });
  send("streamlit:componentReady", { apiVersion: 1 });
}
