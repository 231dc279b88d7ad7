// replay_node.mjs - what a user would write instead of wstape replay: a Node `ws` server that
// sends the lines of a JSON-lines file to each client as fast as it reads, then closes.
//   node replay_node.mjs FILE PORT
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/package.json", import.meta.url));
const { WebSocketServer } = require("ws");

const [file, port] = process.argv.slice(2);
const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.length);
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port), perMessageDeflate: false });
wss.on("connection", (ws) => {
	let i = 0;
	const pump = () => {
		while (i < lines.length) {
			if (ws.bufferedAmount > 4 << 20) {
				setImmediate(pump);
				return;
			}
			ws.send(lines[i++]);
		}
		ws.close(1000, "end");
	};
	pump();
});
console.log("listening");
