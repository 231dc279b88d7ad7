#!/usr/bin/env node
// lasersell_server.js - a fake LaserSell Exit Intelligence Stream server (Node `ws`), per the
// public docs: x-api-key checked on upgrade (HTTP 401), hello_ok with session_id and limits
// (on connect, after configure with --hello after-configure, or never), balance_update and
// position_opened after configure, pnl_update every --pnl-ms, pong to JSON pings,
// WebSocket ping frames every --ping-s. SIGUSR1 drops every connection (socket destroyed),
// SIGUSR2 closes them with 1001; after either, upgrades get HTTP 503 for --down-s seconds.
// Every message produced or received is logged to --log.
'use strict';
const fs = require('fs');
const { WebSocketServer } = require('ws');

const opt = { port: 0, key: null, log: null, hello: 'on-connect', pnlMs: 100, pingS: 0, downS: 0 };
let downUntil = 0;
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i], v = process.argv[i + 1];
	if (a === '--port') opt.port = +v, i++;
	else if (a === '--key') opt.key = v, i++;
	else if (a === '--log') opt.log = v, i++;
	else if (a === '--hello') opt.hello = v, i++;
	else if (a === '--pnl-ms') opt.pnlMs = +v, i++;
	else if (a === '--ping-s') opt.pingS = +v, i++;
	else if (a === '--down-s') opt.downS = +v, i++;
	else { console.error(`lasersell_server: unknown option ${a}`); process.exit(2); }
}
const logFd = opt.log ? fs.openSync(opt.log, 'a') : null;
function log(ev, fields) {
	if (logFd !== null)
		fs.writeSync(logFd, JSON.stringify(Object.assign({ ev, t: Date.now() / 1000 }, fields)) + '\n');
}

let nextSession = 42, nextConn = 1;
const conns = new Set();

const wss = new WebSocketServer({
	host: '127.0.0.1', port: opt.port, perMessageDeflate: true, maxPayload: 64 << 20,
	verifyClient: (info, cb) => {
		const key = info.req.headers['x-api-key'];
		if (Date.now() < downUntil) {
			log('reject', { status: 503 });
			cb(false, 503, 'Service Unavailable');
		} else if (opt.key !== null && key !== opt.key) {
			log('reject', { status: 401 });
			cb(false, 401, 'Unauthorized');
		} else cb(true);
	},
});

wss.on('connection', (ws, req) => {
	const c = { ws, id: nextConn++, session: nextSession++, hello: false, configured: false,
		    positions: 0, timers: [] };
	conns.add(c);
	log('connect', { conn: c.id, session: c.session, deflate: !!ws.extensions });
	const send = (obj) => {
		if (ws.readyState !== ws.OPEN) return;
		ws.send(JSON.stringify(obj));
		log('sent', { conn: c.id, type: obj.type });
	};
	const hello = () => {
		if (c.hello || opt.hello === 'never') return;
		c.hello = true;
		send({ type: 'hello_ok', session_id: c.session, server_time_ms: Date.now(),
		       limits: { hi_capacity: 1024, pnl_flush_ms: opt.pnlMs, max_positions_per_session: 100,
				 max_wallets_per_session: 10, max_positions_per_wallet: 20,
				 max_sessions_per_api_key: 5 } });
	};
	if (opt.hello === 'on-connect') hello();
	if (opt.pingS > 0) c.timers.push(setInterval(() => { ws.ping(); log('ping', { conn: c.id }); }, opt.pingS * 1000));
	ws.on('pong', () => log('pong_frame', { conn: c.id }));
	ws.on('message', (data, isBinary) => {
		let m;
		try { m = JSON.parse(data.toString()); } catch (e) {
			log('bad_message', { conn: c.id });
			send({ type: 'error', code: 'invalid_json', message: 'invalid JSON' });
			return;
		}
		log('received', { conn: c.id, type: m.type });
		if (m.type === 'configure') {
			hello();
			c.configured = true;
			const wallets = m.wallet_pubkeys || [];
			for (const w of wallets)
				send({ type: 'balance_update', wallet_pubkey: w, mint: 'MINT1', tokens: 1000, slot: 1 });
			const pid = c.session * 100 + ++c.positions;
			if (wallets.length)
				send({ type: 'position_opened', position_id: pid, wallet_pubkey: wallets[0], mint: 'MINT1',
				       token_account: 'TA1', tokens: 1000, entry_quote_units: 5000, slot: 2 });
			if (opt.pnlMs > 0)
				c.timers.push(setInterval(() => send({ type: 'pnl_update', position_id: pid, profit_units: 1,
					proceeds_units: 2, server_time_ms: Date.now() }), opt.pnlMs));
		} else if (m.type === 'ping') {
			send({ type: 'pong', server_time_ms: Date.now() });
		}
	});
	ws.on('close', (code) => {
		for (const t of c.timers) clearInterval(t);
		conns.delete(c);
		log('disconnect', { conn: c.id, code });
	});
});

process.on('SIGUSR1', () => { downUntil = Date.now() + opt.downS * 1000; log('drop', { hard: true }); for (const c of conns) c.ws.terminate(); });
process.on('SIGUSR2', () => { downUntil = Date.now() + opt.downS * 1000; log('drop', { hard: false }); for (const c of conns) c.ws.close(1001, 'going away'); });
process.on('SIGTERM', () => process.exit(0));
wss.on('listening', () => log('listening', { port: opt.port }));
