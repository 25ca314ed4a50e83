/**
 * Benchmark orchestrator (see the method at the top of bench/RESULTS.md).
 *   npm run bench                      full run: 3 interleaved rounds, writes bench/RESULTS.md
 *   npm run bench -- --smoke           ~1 s per route, 1 round; exits 1 if any scenario fails
 *   npm run bench -- --memory          bytes per stored session at 100k and 200k sessions
 *   npm run bench -- --profile [--scenario ns-memory]   --cpu-prof of one server, top self-time
 * Options: --rounds N, --duration S, --warmup S, --connections N, --only id,id
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresStore } from '../src/stores/postgres.store.js';
import { RedisStore } from '../src/stores/redis.store.js';
import {
  DATABASE_URL,
  type LoadConfig,
  REDIS_URL,
  ROUTES,
  type Route,
  type RouteResult,
  SCENARIOS,
  type Scenario,
  baselineOf,
  type ServerConfig,
} from './common.js';
import { sessionRecord, storeKey } from './memory-data.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root: dist-bench/bench/ is two levels below it. */
const root = resolve(here, '../..');
const outDir = join(root, 'bench/.out');
const resultsFile = join(root, 'bench/RESULTS.md');

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const smoke = flag('smoke');
const mode = flag('memory') ? 'memory' : flag('profile') ? 'profile' : smoke ? 'smoke' : 'full';
const rounds = Number(option('rounds') ?? (smoke ? 1 : 3));
const duration = Number(option('duration') ?? (smoke ? 1 : 5));
const warmup = Number(option('warmup') ?? (smoke ? 0 : 2));
const connections = Number(option('connections') ?? 50);
const only = option('only')?.split(',');

// ---------------------------------------------------------------- machine

function sh(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

const cores = os.availableParallelism();
// Taken when the run starts, i.e. right after the build: src/ may change while we run.
const sourceAtStart = sourceVersion();
const clockTicks = Number(sh('getconf', ['CLK_TCK']) ?? 100);
// Pinning server and load generator to different cores keeps them from stealing each other's time.
const pinning = cores >= 2 && sh('taskset', ['-c', '0', 'true']) !== undefined;
const SERVER_CORE = '1';
const LOAD_CORE = '0';

function nodeCommand(core: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', core, process.execPath, ...args]] : [process.execPath, args];
}

function cpuModel(): string {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'));
  return line?.split(':')[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

/** Highest resident set size the process reached (VmHWM), in kB. */
function peakRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- services

async function connectRedis(): Promise<Redis | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    enableAutoPipelining: true,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch {
    client.disconnect();
    return undefined;
  }
}

async function connectPostgres(): Promise<pg.Pool | undefined> {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    connectionTimeoutMillis: 2000,
    max: 16,
  });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch {
    await pool.end().catch(() => undefined);
    return undefined;
  }
}

/** Deletes every key under `prefix` (SCAN + DEL, never FLUSH*: the Redis may be shared). */
async function deleteRedisPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();

function cleanupChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', cleanupChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanupChildren();
    process.exit(130);
  });
}

interface RunningServer {
  child: ChildProcess;
  pid: number;
  port: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

async function startServer(config: ServerConfig, nodeFlags: string[] = []): Promise<RunningServer> {
  const script = join(here, 'server.js');
  const [cmd, args] = nodeCommand(SERVER_CORE, [...nodeFlags, script, JSON.stringify(config)]);
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  const port = await new Promise<number>((done, fail) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error('server did not start within 30 s')), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        done((JSON.parse(line) as { port: number }).port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code} before listening: ${stderr.trim()}`));
    });
  });
  // taskset execs node, so the child's pid is the server's.
  return { child, pid: child.pid as number, port, exited, stderr: () => stderr };
}

async function stopServer(server: RunningServer): Promise<void> {
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

function runLoad(config: LoadConfig): Promise<RouteResult[]> {
  const [cmd, args] = nodeCommand(LOAD_CORE, [join(here, 'load.js'), JSON.stringify(config)]);
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const limit = (config.warmup + config.duration + 15) * ROUTES.length * 1000 + 30_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limit);
  return new Promise((done, fail) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) done(JSON.parse(stdout.trim()) as RouteResult[]);
      else fail(new Error(`load generator failed (${code}): ${stderr.trim()}`));
    });
  });
}

// ---------------------------------------------------------------- throughput runs

interface ScenarioRun {
  routes: RouteResult[];
  rssKb: number;
  failure?: string;
}

function serverConfig(scenario: Scenario, runId: string): ServerConfig {
  const side = scenario.library === 'nest-session' ? 'ns' : 'es';
  return { scenario: scenario.id, redisPrefix: `${runId}:${side}:`, pgTable: `${runId}_${side}` };
}

async function runScenario(scenario: Scenario, runId: string): Promise<ScenarioRun> {
  let server: RunningServer | undefined;
  try {
    server = await startServer(serverConfig(scenario, runId));
    let crashed: string | undefined;
    void server.exited.then((code) => (crashed = `server exited with ${code} during the run`));
    const routes = await loadServer(server, scenario);
    const rssKb = peakRssKb(server.pid);
    const bad = routes.filter((r) => r.errors > 0 || r.non2xx > 0 || r.requests === 0);
    const failure =
      crashed ??
      (bad.length > 0
        ? bad
            .map(
              (r) =>
                `/${r.route}: ${r.errors} errors, ${r.non2xx} non-2xx ${JSON.stringify(r.statusCodes)}`,
            )
            .join('; ')
        : undefined);
    if (failure && server.stderr())
      console.error(`  server stderr: ${server.stderr().trim().slice(-1000)}`);
    return { routes, rssKb, failure };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      routes: [],
      rssKb: NaN,
      failure: message + (server ? ` ${server.stderr().trim().slice(-1000)}` : ''),
    };
  } finally {
    if (server) await stopServer(server);
  }
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const align = header.map((h, i) => (i < 2 || h === 'note' ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

type Rounds = Map<string, ScenarioRun>[];

function routeOf(run: ScenarioRun | undefined, route: Route): RouteResult | undefined {
  return run?.failure === undefined ? run?.routes.find((r) => r.route === route) : undefined;
}

function perRound(
  rounds: Rounds,
  id: string,
  route: Route,
  pick: (r: RouteResult, round: Map<string, ScenarioRun>) => number,
): number[] {
  return rounds.map((round) => {
    const r = routeOf(round.get(id), route);
    return r ? pick(r, round) : NaN;
  });
}

function ratioTo(otherId: string, route: Route, key: 'rps' | 'cpuUs' | 'p99') {
  return (r: RouteResult, round: Map<string, ScenarioRun>): number => {
    const other = routeOf(round.get(otherId), route);
    return other ? r[key] / other[key] : NaN;
  };
}

function mainTable(rounds: Rounds, scenarios: Scenario[]): string {
  const rows: string[][] = [];
  for (const s of scenarios) {
    const rss = median(rounds.map((round) => round.get(s.id)?.rssKb ?? NaN)) / 1024;
    for (const route of ROUTES) {
      const m = (pick: (r: RouteResult, round: Map<string, ScenarioRun>) => number): number =>
        median(perRound(rounds, s.id, route, pick));
      const failures = rounds.reduce((n, round) => {
        const run = round.get(s.id);
        const r = run?.routes.find((x) => x.route === route);
        return n + (r ? r.errors + r.non2xx : 0);
      }, 0);
      rows.push([
        s.id,
        `/${route}`,
        fmt(m((r) => r.rps)),
        s.library === 'bare' ? '1.00' : fmt(m(ratioTo(baselineOf(s), route, 'rps')), 2),
        fmt(
          m((r) => r.p50),
          1,
        ),
        fmt(
          m((r) => r.p99),
          1,
        ),
        fmt(m((r) => r.cpuUs)),
        s.library === 'bare' ? '1.00' : fmt(m(ratioTo(baselineOf(s), route, 'cpuUs')), 2),
        fmt(rss, 0),
        String(failures),
      ]);
    }
  }
  return table(
    [
      'scenario',
      'route',
      'req/s',
      'req/s ÷ bare',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'CPU ÷ bare',
      'peak RSS MB',
      'errors+non-2xx',
    ],
    rows,
  );
}

function pairTable(rounds: Rounds, scenarios: Scenario[]): string {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const other of s.counterparts ?? []) {
      if (!scenarios.some((x) => x.id === other)) continue;
      for (const route of ROUTES) {
        const m = (key: 'rps' | 'cpuUs' | 'p99'): string =>
          fmt(median(perRound(rounds, s.id, route, ratioTo(other, route, key))), 2);
        rows.push([`${s.id} vs ${other}`, `/${route}`, m('rps'), m('p99'), m('cpuUs')]);
      }
    }
  }
  return table(
    ['pair', 'route', 'req/s ratio (>1: nest-session faster)', 'p99 ratio', 'CPU/req ratio'],
    rows,
  );
}

async function reachableScenarios(): Promise<{ scenarios: Scenario[]; skipped: string[] }> {
  const redis = await connectRedis();
  const pool = await connectPostgres();
  redis?.disconnect();
  await pool?.end();
  const skipped: string[] = [];
  const scenarios = SCENARIOS.filter((s) => {
    if (only && !only.includes(s.id) && s.library !== 'bare') return false;
    const down = (s.backend === 'redis' && !redis) || (s.backend === 'postgres' && !pool);
    if (down)
      skipped.push(`${s.id} (${s.backend === 'redis' ? REDIS_URL : DATABASE_URL} unreachable)`);
    return !down;
  });
  return { scenarios, skipped };
}

async function cleanupRun(runId: string): Promise<void> {
  const redis = await connectRedis();
  if (redis) {
    await deleteRedisPrefix(redis, `${runId}:`);
    redis.disconnect();
  }
  const pool = await connectPostgres();
  if (pool) {
    for (const side of ['es', 'ns']) await pool.query(`DROP TABLE IF EXISTS "${runId}_${side}"`);
    await pool.end();
  }
}

async function throughput(): Promise<number> {
  const started = Date.now();
  const runId = `bench_${randomBytes(4).toString('hex')}`;
  const { scenarios, skipped } = await reachableScenarios();
  for (const s of skipped) console.warn(`!!! skipping ${s}`);
  console.log(
    `${mode}: ${scenarios.length} scenarios × ${ROUTES.length} routes × ${rounds} rounds, ` +
      `warm-up ${warmup} s + ${duration} s, ${connections} connections, ` +
      (pinning ? `server on core ${SERVER_CORE}, load on core ${LOAD_CORE}` : 'no CPU pinning'),
  );
  const results: Rounds = [];
  const failures: string[] = [];
  // 1-minute load average after each scenario: shows how much other work shared the two cores.
  const loads: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const map = new Map<string, ScenarioRun>();
      results.push(map);
      // Rotate the order each round so no scenario always runs first or last.
      const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]);
      for (const s of order) {
        const t0 = Date.now();
        const run = await runScenario(s, runId);
        const load = os.loadavg()[0];
        loads.push(load);
        map.set(s.id, run);
        const summary = run.routes.map((r) => `/${r.route} ${fmt(r.rps)} req/s`).join(', ');
        console.log(
          `round ${round + 1} ${s.id} (${fmt((Date.now() - t0) / 1000, 1)} s, load ${load.toFixed(1)}): ` +
            `${summary}${run.failure ? `  FAILED: ${run.failure}` : ''}`,
        );
        if (run.failure) failures.push(`round ${round + 1} ${s.id}: ${run.failure}`);
      }
    }
  } finally {
    await cleanupRun(runId);
  }
  const seconds = (Date.now() - started) / 1000;
  const main = mainTable(results, scenarios);
  const pairs = pairTable(results, scenarios);
  console.log(`\n${main}\n\n${pairs}\n\n${mode} mode took ${fmt(seconds)} s`);
  if (failures.length) console.error(`\n${failures.length} failure(s):\n${failures.join('\n')}`);
  if (mode === 'full') {
    writeSection('throughput', throughputSection(main, pairs, seconds, failures, skipped, loads));
    console.log(`wrote ${resultsFile}`);
  }
  return failures.length ? 1 : 0;
}

// ---------------------------------------------------------------- RESULTS.md

function machine(): string {
  const redisVersion = sh('redis-cli', ['-u', REDIS_URL, 'INFO', 'server'])?.match(
    /redis_version:(\S+)/,
  )?.[1];
  const pgVersion = sh('psql', [DATABASE_URL, '-Atc', 'SHOW server_version']);
  return [
    `- machine: ${cores} CPUs (\`nproc\` ${sh('nproc', []) ?? '?'}), ${cpuModel()}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM`,
    `- node ${process.version}, ${os.type()} ${os.release()}; Redis ${redisVersion ?? '?'}, PostgreSQL ${pgVersion ?? '?'}`,
    `- code: ${sourceAtStart}`,
    `- date: ${new Date().toISOString()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other work on the machine skews results)`,
  ].join('\n');
}

/** Drives every route of a running scenario server with the configured load. */
function loadServer(server: RunningServer, scenario: Scenario): Promise<RouteResult[]> {
  return runLoad({
    url: `http://127.0.0.1:${server.port}`,
    serverPid: server.pid,
    clockTicks,
    connections,
    warmup,
    duration,
    sessions: scenario.library !== 'bare',
  });
}

/** The commit, plus a digest of src/ when it has uncommitted changes (others edit it concurrently). */
function sourceVersion(): string {
  const head = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--', 'src']);
  if (!dirty) return `commit ${head}`;
  const digest = createHash('sha256');
  // src/ has folders by layer: every file below it, in a stable order.
  const files = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) digest.update(file).update(readFileSync(file));
  return `commit ${head} + uncommitted src/ changes (src digest ${digest.digest('hex').slice(0, 12)})`;
}

const METHOD = `# nest-session benchmark results

Generated by \`npm run bench\` (bench/main.ts); do not edit by hand.

## Method

- Every scenario is a Nest 12 application on Express 5 or, for the \`f-\`, \`fs-\` and \`nsf-\` ones, on
  Fastify 5 (\`@nestjs/platform-fastify\`), run as compiled JS (\`tsc -p bench/tsconfig.json\`
  into dist-bench/), one server process per scenario and round, on 127.0.0.1 and a random port,
  pinned to CPU 1 with \`taskset\`. The load generator (autocannon 8, 50 connections, no pipelining) is
  a separate Node process pinned to CPU 0. Redis and PostgreSQL run on the same machine, unpinned, so
  they compete with both (there are only two cores).
- Scenarios: \`bare\` (same routes, no sessions); express-session 1.19 (\`app.use(session(...))\`,
  \`resave: false, saveUninitialized: false\`) with its MemoryStore, connect-redis 9 (redis@5 client) and
  connect-pg-simple 10 (pg Pool of 10); nest-session with MemoryStore, RedisStore (ioredis) and
  PostgresStore (pg Pool of 10). On Fastify: \`f-bare\`; @fastify/session 11 + @fastify/cookie 11
  (\`app.register(...)\`, \`saveUninitialized: false, rolling: false\`) with its MemoryStore and
  connect-redis 9 (redis@5 client); nest-session with MemoryStore and RedisStore. Same secret (signed
  cookies everywhere), cookie name, 14-day max-age. \`÷ bare\` divides by bare Nest on the same platform.
- Routes: \`/login\` sets \`userId\` on a new session (requests carry no cookie, so each one creates a
  session); \`/read\` reads \`userId\`, \`/write\` increments a counter and \`/plain\` does not use the
  session, all three sent with the cookie of one login. Before measuring, the load generator checks that
  the cookie reads back \`userId\` and that \`/write\` persists.
- Per route: a warm-up (default 2 s), then the measured period (default 5 s; see the command below). Round = every scenario once (order rotated each round);
  3 rounds. Ratios to \`bare\` and between the libraries are computed within a round, then the median
  over rounds is shown; absolute numbers are medians over rounds too.
- Server CPU per request: utime + stime delta of the server process from /proc/<pid>/stat over the
  measured period, divided by the requests completed. Peak RSS: VmHWM of the server at the end of its
  round (after all four routes). Session rows accumulate over a run (each /login creates one).
- Differences by design, not by configuration: express-session loads (and touches) the session on every
  request, including \`/plain\`, and calls \`store.touch\` on every unmodified request; nest-session loads
  the session only in handlers that use it and throttles touches (\`touchAfter\` 0.1 of the lifetime).
`;

function throughputSection(
  main: string,
  pairs: string,
  seconds: number,
  failures: string[],
  skipped: string[],
  loads: number[],
): string {
  return [
    '## Throughput and latency',
    '',
    `Command: \`npm run bench\` (${rounds} rounds, ${warmup} s warm-up + ${duration} s per route, ${connections} connections); took ${fmt(seconds / 60, 1)} min.`,
    '',
    machine(),
    `- 1-min load average after each scenario: min ${fmt(Math.min(...loads), 1)}, median ${fmt(median(loads), 1)}, max ${fmt(Math.max(...loads), 1)} (about 2 = the benchmark alone)`,
    '',
    'Medians over rounds; `÷ bare` = median of the per-round ratios to bare Nest on the same route.',
    '',
    main,
    '',
    '### nest-session vs the other library (same platform and backend), and on Fastify vs on Express',
    '',
    'Medians of per-round ratios of the first scenario ÷ the second: req/s above 1 and p99/CPU below 1 favour the first.',
    '',
    pairs,
    '',
    failures.length
      ? `Failures:\n\n${failures.map((f) => `- ${f}`).join('\n')}`
      : 'No errors, timeouts or non-2xx responses.',
    ...(skipped.length ? ['', `Skipped (service unreachable): ${skipped.join(', ')}`] : []),
  ].join('\n');
}

/** Replaces one mode's section of RESULTS.md, keeping the other mode's last results. */
function writeSection(name: string, body: string): void {
  const sections: Record<string, string> = {};
  if (existsSync(resultsFile)) {
    const text = readFileSync(resultsFile, 'utf8');
    for (const match of text.matchAll(/<!-- (\w+) -->\n([\s\S]*?)\n<!-- \/\1 -->/g))
      sections[match[1]] = match[2];
  }
  sections[name] = body;
  const order = ['throughput', 'memory', 'profile'];
  const parts = order
    .filter((n) => sections[n])
    .map((n) => `<!-- ${n} -->\n${sections[n]}\n<!-- /${n} -->`);
  writeFileSync(resultsFile, `${METHOD}\n${parts.join('\n\n')}\n`);
}

// ---------------------------------------------------------------- memory scale

interface MemoryRow {
  store: string;
  count: number;
  bytes: number;
  payload: number;
  seconds: number;
  note?: string;
}

/** Runs `task(i)` for i < count with at most `concurrency` in flight. */
async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function memoryStoreRow(count: number): MemoryRow {
  const started = Date.now();
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=4096', join(here, 'memory-child.js'), String(count)],
    { encoding: 'utf8' },
  );
  const { bytes, payload } = JSON.parse(out) as { bytes: number; payload: number };
  return {
    store: 'MemoryStore (heap)',
    count,
    bytes,
    payload,
    seconds: (Date.now() - started) / 1000,
  };
}

async function redisRow(client: Redis, count: number): Promise<MemoryRow> {
  const started = Date.now();
  const prefix = `bench_mem_${randomBytes(4).toString('hex')}:`;
  const store = new RedisStore({ client, prefix });
  const used = async (): Promise<number> =>
    Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? NaN);
  const before = await used();
  let payload = 0;
  const now = Date.now();
  let after = NaN;
  try {
    // Auto-pipelining batches the concurrent EVALSHAs into few round trips.
    await pool(count, 500, async (i) => {
      const record = sessionRecord(i, now);
      payload += JSON.stringify(record.data).length;
      if (!(await store.create(storeKey(), record))) throw new Error('duplicate key');
    });
    after = await used();
  } finally {
    await deleteRedisPrefix(client, prefix).then((deleted) => {
      // Also proves every create really landed under the prefix.
      if (Number.isFinite(after) && deleted !== count) after = NaN;
    });
  }
  if (!Number.isFinite(after)) throw new Error(`Redis did not hold all ${count} sessions`);
  return {
    store: 'RedisStore (used_memory)',
    count,
    bytes: after - before,
    payload,
    seconds: (Date.now() - started) / 1000,
  };
}

async function postgresRow(db: pg.Pool, count: number): Promise<MemoryRow> {
  const started = Date.now();
  const table = `bench_mem_${randomBytes(4).toString('hex')}`;
  const store = new PostgresStore({ pool: db, tableName: table });
  try {
    await store.clearExpired(); // creates the table
    const size = async (): Promise<number> =>
      Number((await db.query(`SELECT pg_total_relation_size($1) AS n`, [table])).rows[0].n);
    const before = await size();
    let payload = 0;
    const now = Date.now();
    await pool(count, 16, async (i) => {
      const record = sessionRecord(i, now);
      payload += JSON.stringify(record.data).length;
      if (!(await store.create(storeKey(), record))) throw new Error('duplicate key');
    });
    // VACUUM so the size includes the visibility/free-space maps whether or not autovacuum ran yet.
    await db.query(`VACUUM "${table}"`);
    const after = await size();
    const { rows } = await db.query(
      `SELECT pg_relation_size($1) AS heap, pg_indexes_size($1) AS idx,
              pg_total_relation_size($1) - pg_relation_size($1) - pg_indexes_size($1) AS other`,
      [table],
    );
    const mb = (n: unknown): string => fmt(Number(n) / 2 ** 20, 1);
    const note = `heap ${mb(rows[0].heap)} MB, indexes ${mb(rows[0].idx)} MB, toast+maps ${mb(rows[0].other)} MB`;
    return {
      store: 'PostgresStore (pg_total_relation_size)',
      count,
      bytes: after - before,
      payload,
      seconds: (Date.now() - started) / 1000,
      note,
    };
  } finally {
    await db.query(`DROP TABLE IF EXISTS "${table}"`);
  }
}

async function memory(): Promise<number> {
  const started = Date.now();
  const counts = (option('counts') ?? '100000,200000').split(',').map(Number);
  const rows: MemoryRow[] = [];
  const skipped: string[] = [];
  const redis = await connectRedis();
  const db = await connectPostgres();
  try {
    for (const count of counts) {
      rows.push(memoryStoreRow(count));
      console.log(`MemoryStore ${count}: done`);
      if (redis) {
        rows.push(await redisRow(redis, count));
        console.log(`RedisStore ${count}: done`);
      } else if (!skipped.includes('redis')) skipped.push('redis');
      if (db) {
        rows.push(await postgresRow(db, count));
        console.log(`PostgresStore ${count}: done`);
      } else if (!skipped.includes('postgres')) skipped.push('postgres');
    }
  } finally {
    redis?.disconnect();
    await db?.end();
  }
  const seconds = (Date.now() - started) / 1000;
  const body = table(
    [
      'store (measure)',
      'sessions',
      'bytes/session',
      'JSON payload bytes',
      'bytes ÷ payload',
      'insert+measure s',
      'note',
    ],
    rows.map((r) => [
      r.store,
      fmt(r.count),
      fmt(r.bytes / r.count),
      fmt(r.payload / r.count),
      fmt(r.bytes / r.payload, 2),
      fmt(r.seconds, 1),
      r.note ?? '',
    ]),
  );
  console.log(`\n${body}\n\nmemory mode took ${fmt(seconds)} s`);
  if (skipped.length) console.warn(`!!! skipped (unreachable): ${skipped.join(', ')}`);
  const section = [
    '## Memory per stored session',
    '',
    `Command: \`npm run bench -- --memory\`; took ${fmt(seconds)} s.`,
    '',
    machine(),
    '',
    'Each session: `store.create(key, { data, expiresAt, meta: { createdAt } })` with a distinct ~276-byte',
    'JSON `data` object and a 43-character key, as the library stores them. MemoryStore: V8 heap delta in a',
    'fresh process (`--expose-gc`, gc before and after). Redis: `INFO memory` used_memory delta under a',
    'unique prefix (deleted afterwards). PostgreSQL: `pg_total_relation_size` of a dedicated table after',
    '`VACUUM` minus the empty table (dropped afterwards). Each count is a separate, empty start.',
    '',
    body,
    ...(skipped.length ? ['', `Skipped (service unreachable): ${skipped.join(', ')}`] : []),
  ].join('\n');
  writeSection('memory', section);
  console.log(`wrote ${resultsFile}`);
  return 0;
}

// ---------------------------------------------------------------- CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

async function profile(): Promise<number> {
  const id = option('scenario') ?? 'ns-memory';
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new Error(`unknown scenario ${id}`);
  mkdirSync(outDir, { recursive: true });
  const profDir = join(outDir, `prof-${Date.now()}`);
  const runId = `bench_${randomBytes(4).toString('hex')}`;
  const server = await startServer(serverConfig(scenario, runId), [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
  ]);
  let routes: RouteResult[];
  try {
    routes = await loadServer(server, scenario);
  } finally {
    await stopServer(server);
    await cleanupRun(runId);
  }
  console.log(
    routes.map((r) => `/${r.route} ${fmt(r.rps)} req/s, ${fmt(r.cpuUs)} µs/req`).join('\n'),
  );
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byNode = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const selfBySrc = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((nodeId, i) => {
    const frame = byNode.get(nodeId)?.callFrame;
    const dt = prof.timeDeltas[i] ?? 0;
    if (!frame) return;
    const url = frame.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    const fn =
      `${frame.functionName || '(anonymous)'} ${url ? `${url}:${frame.lineNumber + 1}` : ''}`.trim();
    selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + dt);
    const area =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url.includes('dist-bench/src/')
        ? 'nest-session (src)'
        : url.startsWith('node:')
          ? 'node internals'
          : url
            ? url
            : frame.functionName);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + dt);
    if (url.includes('dist-bench/src/')) selfBySrc.set(fn, (selfBySrc.get(fn) ?? 0) + dt);
    // Percentages are of busy time: idle samples only say the server waited for the network.
    if (frame.functionName !== '(idle)') total += dt;
  });
  const top = (m: Map<string, number>, n: number): string[][] =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, fmt(v / 1000, 0), fmt((100 * v) / total, 1)]);
  const report = [
    `CPU profile of ${id} (${join(profDir, file).replace(`${root}/`, '')}), ${fmt(total / 1e6, 1)} s busy`,
    `(all four routes, warm-up included; % of busy time, idle excluded)`,
    '',
    table(['function (self time)', 'ms', '%'], top(selfByFn, 30)),
    '',
    table(['package / area (self time)', 'ms', '%'], top(selfByArea, 15)),
    '',
    table(['nest-session function (self time)', 'ms', '%'], top(selfBySrc, 15)),
  ].join('\n');
  writeFileSync(join(outDir, `profile-${id}.md`), `${report}\n`);
  console.log(`\n${report}`);
  writeSection(
    'profile',
    [
      '## CPU profile',
      '',
      `Command: \`npm run bench -- --profile --scenario ${id}\` (server run with \`--cpu-prof\`).`,
      '',
      machine(),
      '',
      routes
        .map((r) => `- /${r.route}: ${fmt(r.rps)} req/s, ${fmt(r.cpuUs)} µs CPU/req`)
        .join('\n'),
      '',
      report,
    ].join('\n'),
  );
  return 0;
}

// ---------------------------------------------------------------- entry

const run = mode === 'memory' ? memory : mode === 'profile' ? profile : throughput;
run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
