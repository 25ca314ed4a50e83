// `node bench/cpu-per-request.js [scenarios] [route] [requests] [runs] [logins]`, after `npm run bench -- --smoke`
// (or any bench run) has compiled dist-bench/. A finer instrument than the throughput table, for
// comparing changes: server CPU (user + system, from /proc) per request on one route, for each scenario,
// over `runs` interleaved runs of `requests` requests each (after 20,000 of warm-up), server on core 1.
// Run it pinned to the other core: `taskset -c 0 node bench/cpu-per-request.js bare,ns-memory read`.
// `logins`: that many /login requests first, to measure with that many sessions in the store.
// Defaults: bare,ns-memory read 60000 5 0. Prints every run, then the median per scenario. The Redis and
// PostgreSQL scenarios leave one session per run behind (prefix `cpu-bench:`, table `cpu_bench`).
// To compare two builds in one interleaved run, compile the other one into another folder and name it
// after the scenario: `ns-memory,ns-memory@dist-bench-base` (the folder holds bench/server.js).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const autocannon = createRequire(import.meta.url)('autocannon');
const root = new URL('..', import.meta.url).pathname;
const [scenarios = 'bare,ns-memory', route = 'read', requests = '60000', runs = '5', logins = '0'] =
  process.argv.slice(2);
const CLOCK_TICKS = 100;

/** CPU seconds the process has used so far, in microseconds. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

async function startServer(name) {
  const [scenario, dist = 'dist-bench'] = name.split('@');
  const config = JSON.stringify({ scenario, redisPrefix: 'cpu-bench:', pgTable: 'cpu_bench' });
  const child = spawn('taskset', ['-c', '1', process.execPath, `${dist}/bench/server.js`, config], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve) =>
    child.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port)),
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

function load(options) {
  return new Promise((resolve, reject) =>
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

const results = new Map();
for (let run = 0; run < Number(runs); run++) {
  for (const scenario of scenarios.split(',')) {
    const { child, url } = await startServer(scenario);
    try {
      // The same request for every scenario: bare gets a cookie of the same shape, which it ignores.
      const login = await fetch(`${url}/login`);
      const cookie =
        login.headers.get('set-cookie')?.split(';')[0] ??
        `sessionid=${'x'.repeat(43)}.${'y'.repeat(43)}`;
      const options = { url: `${url}/${route}`, connections: 50, headers: { cookie } };
      if (Number(logins) > 0)
        await load({ url: `${url}/login`, connections: 50, amount: Number(logins) });
      await load({ ...options, amount: 20_000 });
      const before = cpuMicros(child.pid);
      const result = await load({ ...options, amount: Number(requests) });
      if (result.non2xx || result.errors) throw new Error(`${scenario}: failed requests`);
      const perRequest = (cpuMicros(child.pid) - before) / result.requests.total;
      results.set(scenario, [...(results.get(scenario) ?? []), perRequest]);
      console.log(`run ${run + 1} ${scenario} /${route}: ${perRequest.toFixed(1)} µs/request`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
}
for (const [scenario, values] of results) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `${scenario}: median ${median.toFixed(1)} µs/request [${sorted.map((v) => v.toFixed(0)).join(' ')}]`,
  );
}
