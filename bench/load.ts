/**
 * The load generator, in its own process (pinned to the other core than the server): checks that the
 * session round-trips, then for each route runs autocannon for a warm-up and a measured period, reading
 * the server's CPU time from /proc around the measured one. Prints one JSON line of RouteResult[].
 */
import { readFileSync } from 'node:fs';
import autocannon, { type Options } from 'autocannon';
import { type LoadConfig, ROUTES, type RouteResult } from './common.js';

/** utime + stime of a process in clock ticks, or NaN where /proc is unavailable. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

async function get(url: string, cookie?: string): Promise<{ body: string; setCookie: string[] }> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {} });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body}`);
  return { body, setCookie: res.headers.getSetCookie() };
}

/** Logs in once and checks read and write through the cookie; returns the `name=value` cookie. */
async function login(config: LoadConfig): Promise<string> {
  const { setCookie } = await get(`${config.url}/login`);
  const cookie = setCookie[0]?.split(';')[0];
  if (!config.sessions) {
    // Same header size as a real session cookie, so bare Nest parses a comparable request.
    return cookie ?? `sessionid=${'x'.repeat(87)}`;
  }
  if (!cookie) throw new Error('/login returned no session cookie');
  const read = (await get(`${config.url}/read`, cookie)).body;
  if (read !== 'user 42')
    throw new Error(`/read with the login cookie returned ${JSON.stringify(read)}`);
  const first = (await get(`${config.url}/write`, cookie)).body;
  const second = (await get(`${config.url}/write`, cookie)).body;
  if (first !== 'count 1' || second !== 'count 2') {
    throw new Error(
      `/write did not persist: ${JSON.stringify(first)} then ${JSON.stringify(second)}`,
    );
  }
  return cookie;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  const cookie = await login(config);
  const results: RouteResult[] = [];
  for (const route of ROUTES) {
    // /login measures creating a session, so it goes without a cookie; the rest reuse the login's.
    const options: Options = {
      url: `${config.url}/${route}`,
      connections: config.connections,
      headers: route === 'login' ? {} : { cookie },
    };
    if (config.warmup > 0) await autocannon({ ...options, duration: config.warmup });
    const before = cpuTicks(config.serverPid);
    const result = await autocannon({ ...options, duration: config.duration });
    const after = cpuTicks(config.serverPid);
    const requests = result.requests.total;
    const statusCodes: Record<string, number> = {};
    for (const [code, { count }] of Object.entries(result.statusCodeStats))
      statusCodes[code] = count;
    results.push({
      route,
      requests,
      rps: requests / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      cpuUs: (((after - before) / config.clockTicks) * 1e6) / requests,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      statusCodes,
    });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
