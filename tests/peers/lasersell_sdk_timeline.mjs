// lasersell_sdk_timeline.mjs - an application on the official LaserSell SDK (StreamSession),
// unmodified, pointed at a server with withEndpoint: it writes every message the SDK hands
// it, one JSON object a line, through the SDK's reconnects; with ACT "close" it closes
// each position it gets an exit signal for (close_position), with "read" it sends nothing.
//   node lasersell_sdk_timeline.mjs URL KEY ACT END LINGER_MS SECONDS
// (The SDK drops the frames it has received but not handed over yet when a send fails on a
// closed socket: an application that sends while the server drops it may miss messages.)
// END is a JSON object: the run ends LINGER_MS after the first hello_ok that follows a
// message whose fields include all of END's (the last one of the recording), or after
// SECONDS in all.
import { StreamClient, StreamSession } from "@lasersell/lasersell-sdk";

const [url, key, act, endArg, lingerArg, secsArg] = process.argv.slice(2);
const end = JSON.parse(endArg);
const deadline = Date.now() + 1000 * Number(secsArg);
let stopAt = Infinity, sawEnd = false;
const configure = {
	wallet_pubkeys: ["WaLLet1111111111111111111111111111111111111"],
	strategy: { target_profit_pct: 5.0, stop_loss_pct: 1.5 },
};

const isEnd = (m) => Object.entries(end).every(([k, v]) => m[k] === v);
const session = await StreamSession.connect(new StreamClient(key).withEndpoint(url), configure);
let pending = null;   // one recv() at a time: a recv() that lost a race still takes a message
while (Date.now() < Math.min(deadline, stopAt)) {
	pending = pending || session.recv();
	const ev = await Promise.race([pending, new Promise((r) => setTimeout(() => r("timeout"), 100))]);
	if (ev === "timeout") continue;
	pending = null;
	if (ev === null) break;
	const m = ev.message;
	process.stdout.write(JSON.stringify(m) + "\n");
	if (ev.type === "exit_signal_with_tx" && act === "close") {
		if (ev.handle) session.close(ev.handle);
		else session.sender().closeById(m.position_id);
	}
	if (sawEnd && m.type === "hello_ok" && stopAt === Infinity) stopAt = Date.now() + Number(lingerArg);
	if (isEnd(m)) sawEnd = true;
}
session.close();
process.exit(0);
