// `node bench/view-cost.js [requests] [rounds]`, after `npm run bench -- --smoke` (or any bench run) has
// compiled dist-bench/. What the express-session-shaped `request.session` view adds to a request, without
// HTTP or the shared machine's noise around it: a session is opened over a stored record and read once
// (the bench's /read route), as the request path does it (attachView, then `@Session()`'s exposed() and
// the commit's pendingSave()) and without the view (the session object and needsSave() directly).
// Prints the median nanoseconds per request of each over `rounds` interleaved rounds (the first two are
// warm-up). Pin it: `taskset -c 0 node bench/view-cost.js`.
const root = new URL('../dist-bench/src/', import.meta.url);
const { RequestSession } = await import(new URL('session/request-session.js', root).href);
const { attachView, exposed, pendingSave } = await import(
  new URL('session/session-view.js', root).href
);
const { resolveSessionConfig } = await import(new URL('module/session-config.js', root).href);

const [requests = '300000', rounds = '9'] = process.argv.slice(2);
const config = resolveSessionConfig({ cleanupInterval: 0 });
const req = { headers: {}, socket: {} };
// Stored just now: no touch is due, so the commit has nothing to write (a read-only request).
const record = {
  data: { userId: 42 },
  expiresAt: Date.now() + config.maxAge * 1000,
  meta: { createdAt: Date.now() },
};
let sink = 0;

function open() {
  return new RequestSession(req, undefined, undefined, config, 'id', record, 'id', 'key');
}
const variants = {
  'session object': (n) => {
    for (let i = 0; i < n; i++) {
      const session = open();
      sink += session.get('userId');
      if (session.needsSave()) throw new Error('unexpected save');
    }
  },
  'express-style view': (n) => {
    for (let i = 0; i < n; i++) {
      const session = open();
      attachView(session);
      sink += exposed(session).get('userId');
      if (pendingSave(session)) throw new Error('unexpected save');
    }
  },
};

const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < Number(rounds); round++) {
  for (const [name, run] of Object.entries(variants)) {
    const start = process.hrtime.bigint();
    run(Number(requests));
    results[name].push(Number(process.hrtime.bigint() - start) / Number(requests));
  }
}
for (const [name, values] of Object.entries(results)) {
  const sorted = values.slice(2).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `${name}: median ${median.toFixed(0)} ns/request [${sorted.map((v) => v.toFixed(0)).join(' ')}]`,
  );
}
if (sink === 0) console.log('(nothing read)');
