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
  let svgText = null;
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
    if (!view) {
      view = new TreeView(host, {
        nodes: args.nodes,
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
    view.options.rankdir = args.rankdir;
    view.setNodes(args.nodes);
    const fresh = args.svg !== svgText;
    if (fresh) {
      svgText = args.svg;
      view.setSvg(parseSvg(args.svg));
    }
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
