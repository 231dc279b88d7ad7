// replay_lasersell_sdk.mjs - the official LaserSell SDK (StreamClient, StreamSession,
// connectLanes) against `wstape replay`, unmodified, pointed at it with withEndpoint.
//   node replay_lasersell_sdk.mjs MODE URL KEY WANT [SECONDS]
// MODE: client | session | lanes. Reads until WANT messages (or SECONDS), pings once, and
// prints a JSON summary: {"types": {type: count}, "count": n, "pong": bool}.
import { StreamClient, StreamSession } from "@lasersell/lasersell-sdk";

const [mode, url, key, wantArg, secsArg] = process.argv.slice(2);
const want = Number(wantArg);
const deadline = Date.now() + 1000 * Number(secsArg || 20);
const configure = {
	wallet_pubkeys: ["WaLLet1111111111111111111111111111111111111"],
	strategy: { target_profit_pct: 5.0, stop_loss_pct: 1.5 },
};
const types = {};
let count = 0, pong = false;

function note(t) {
	types[t] = (types[t] || 0) + 1;
	if (t === "pong") pong = true;
	else count++;
}

async function drain(recv) {
	while (count < want && Date.now() < deadline) {
		const m = await Promise.race([recv(), new Promise((r) => setTimeout(() => r("timeout"), 500))]);
		if (m === "timeout") continue;
		if (m === null) break;
		note(m.type);
	}
}

const client = new StreamClient(key).withEndpoint(url);
if (mode === "client") {
	const conn = await client.connect(configure);
	conn.sender().ping(Date.now());
	await drain(() => conn.recv());
	conn.close();
} else if (mode === "session") {
	const session = await StreamSession.connect(client, configure);
	session.sender().ping(Date.now());
	await drain(() => session.recv());
	console.error("positions tracked:", session.positions().length);
	session.close();
} else if (mode === "lanes") {
	const conn = await client.connectLanes(configure, { lowPriorityCapacity: 4096 });
	const [sender, high, low] = conn.split();
	sender.ping(Date.now());
	let lowCount = 0;
	const lowTask = (async () => {
		for await (const m of low) {
			if (m.type !== "pnl_update") throw new Error("low lane got " + m.type);
			lowCount++;
			note(m.type);
			if (count >= want) break;
		}
	})();
	await drain(() => high.recv());
	conn.close();
	await Promise.race([lowTask, new Promise((r) => setTimeout(r, 200))]);
	types.__low_lane = lowCount;
}
console.log(JSON.stringify({ types, count, pong }));
process.exit(0);
