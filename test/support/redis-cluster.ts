import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';

const run = promisify(execFile);

/** Ports the test clusters may use (each node also needs its bus port, +10000); never 6379. */
const PORT_MIN = 7100;
const PORT_MAX = 7199;
const NODES = 6;
/** How long a master may be unreachable before its replica takes over: short, so failover tests are quick. */
const NODE_TIMEOUT_MS = 1000;

/** One redis-server of the cluster, a child process of the test. */
export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

/** A private local Redis Cluster (3 masters, 3 replicas) started for one test file. */
export interface RedisClusterHandle {
  nodes: ClusterNode[];
  /** A new ioredis Cluster client with options suited to failover (the caller disconnects it). */
  client(options?: ClusterOptions): Cluster;
  /** The port of the master currently serving `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Kills the node on `port` with SIGKILL (by its PID) and waits for it to exit. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again with its cluster config: it rejoins, as a replica once failed over. */
  restart(port: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok` and all slots have a reachable master. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Resolves once every master has a replica online (what `WAIT 1` needs to answer in time). */
  waitUntilReplicated(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the data directory. */
  stop(): Promise<void>;
}

/** Options of an ioredis Cluster that rides out a failover instead of failing for good. */
export const CLUSTER_CLIENT_OPTIONS: ClusterOptions = {
  // Reconnect to the cluster after losing every node, instead of ending the client.
  clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
  // Commands to a dead master are retried after a topology refresh; the store timeout bounds the wait.
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 1000,
  slotsRefreshInterval: 1000,
  redisOptions: { connectTimeout: 1000 },
};

function cli(port: number, ...args: string[]): Promise<string> {
  return run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5000,
  }).then((r) => r.stdout);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Ports in the range whose bus port is free too, starting at a random offset (parallel jest workers). */
async function freePorts(count: number): Promise<number[]> {
  const span = PORT_MAX - PORT_MIN + 1;
  const start = Math.floor(Math.random() * span);
  const ports: number[] = [];
  for (let i = 0; i < span && ports.length < count; i++) {
    const port = PORT_MIN + ((start + i) % span);
    if ((await portFree(port)) && (await portFree(port + 10000))) ports.push(port);
  }
  if (ports.length < count)
    throw new Error(`fewer than ${count} free ports in ${PORT_MIN}-${PORT_MAX}`);
  return ports;
}

/** Starts one cluster-enabled redis-server; rejects if it exits before accepting connections. */
function startNode(port: number, dir: string): Promise<ClusterNode> {
  const child = spawn(
    '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      // A replica takes over however long it was cut off (the test kills masters on purpose).
      '--cluster-replica-validity-factor',
      '0',
      // A (re)joining replica syncs at once instead of after the default 5 s batching delay.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ port, process: child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`redis-server on ${port} exited (${code}): ${output.slice(-300)}`)),
    );
  });
}

function kill(node: ClusterNode): Promise<void> {
  const child = node.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid as number, 'SIGKILL');
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function healthy(nodes: ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const live = nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
    try {
      const infos = await Promise.all(live.map((n) => cli(n.port, 'cluster', 'info')));
      const ok = infos.every((info) => info.includes('cluster_state:ok'));
      // No slot is still served by a node that is down (its replica has taken them over).
      const dead = new Set(nodes.filter((n) => !live.includes(n)).map((n) => n.port));
      const views = await Promise.all(live.map((n) => cli(n.port, 'cluster', 'nodes')));
      const stale = views.some((view) =>
        view.split('\n').some((line) => {
          const parts = line.split(' ');
          const port = Number(parts[1]?.split(':')[1]?.split('@')[0]);
          return (dead.has(port) || /(^|,)fail\??(,|$)/.test(parts[2] ?? '')) && parts.length > 8;
        }),
      );
      if (ok && !stale) return;
      last = infos.join(' | ').replace(/\s+/g, ' ').slice(0, 300);
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`Redis Cluster not healthy after ${timeoutMs} ms: ${last}`);
}

async function replicated(nodes: ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const live = nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
    try {
      const infos = await Promise.all(live.map((n) => cli(n.port, 'info', 'replication')));
      const masters = infos.filter((info) => info.includes('role:master'));
      if (masters.length > 0 && masters.every((info) => /slave\d+:.*state=online/.test(info)))
        return;
      last = masters.map((info) => info.replace(/\s+/g, ' ').slice(0, 120)).join(' | ');
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`Redis Cluster masters without an online replica after ${timeoutMs} ms: ${last}`);
}

/** Starts the cluster once, cleaning up what it started if any step fails. */
async function startOnce(): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'nest-session-cluster-'));
  const nodes: ClusterNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(kill));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await freePorts(NODES);
    nodes.push(...(await Promise.all(ports.map((port) => startNode(port, dir)))));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 20_000 },
    );
    await healthy(nodes, 20_000);
    // Replicas in sync, so that WAIT and failover work from the first test on.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const info = await cli(node.port, 'info', 'replication');
        if (info.includes('role:master') || info.includes('master_link_status:up')) break;
        if (Date.now() > deadline) throw new Error(`replica ${node.port} never synced`);
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const byPort = (port: number): ClusterNode => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    return node;
  };
  return {
    nodes,
    client: (options = {}) =>
      new Cluster(
        nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { ...CLUSTER_CLIENT_OPTIONS, ...options },
      ),
    masterOf: async (key) => {
      const live = nodes.find((n) => n.process.exitCode === null && n.process.signalCode === null);
      const slot = Number((await cli(live!.port, 'cluster', 'keyslot', key)).trim());
      const view = await cli(live!.port, 'cluster', 'nodes');
      for (const line of view.split('\n')) {
        const parts = line.split(' ');
        if (!parts[2]?.includes('master') || parts[2].includes('fail')) continue;
        for (const range of parts.slice(8)) {
          const [from, to = from] = range.split('-').map(Number);
          if (slot >= from! && slot <= to!) return Number(parts[1]!.split(':')[1]!.split('@')[0]);
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    kill: (port) => kill(byPort(port)),
    restart: async (port) => {
      const node = byPort(port);
      node.process = (await startNode(port, dir)).process;
      for (const deadline = Date.now() + 20_000; ; await sleep(100)) {
        const info = await cli(port, 'info', 'replication');
        if (info.includes('master_link_status:up')) return;
        if (Date.now() > deadline)
          throw new Error(
            `node ${port} did not rejoin as an in-sync replica: ${info.replace(/\s+/g, ' ')} ${await cli(port, 'cluster', 'nodes')}`,
          );
      }
    },
    waitUntilHealthy: (timeoutMs = 20_000) => healthy(nodes, timeoutMs),
    waitUntilReplicated: (timeoutMs = 20_000) => replicated(nodes, timeoutMs),
    stop,
  };
}

/**
 * Starts a private Redis Cluster of 3 masters and 3 replicas on free ports in 7100-7199, or `undefined`
 * (after a warning) when it cannot start outside CI; under CI, failing to start fails the suite.
 * Call `stop()` in afterAll.
 */
export async function startRedisClusterOrSkip(): Promise<RedisClusterHandle | undefined> {
  let lastError: unknown;
  // Another jest worker may grab the same free ports between the probe and the bind: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      lastError = error;
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  if (process.env.CI) throw new Error(`Redis Cluster could not start (${reason}); CI requires it.`);
  console.warn(`!!! SKIPPING Redis Cluster tests: the cluster could not start (${reason}).`);
  return undefined;
}
