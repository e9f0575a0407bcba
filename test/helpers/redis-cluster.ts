import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/**
 * A real Redis Cluster for tests: `redis-server --cluster-enabled yes` processes on loopback ports, each in its own
 * temp dir, joined with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE (what `redis-cli --cluster create` sends, without its
 * one-second sleeps, and with a fixed layout: replica i follows master i % masters).
 *
 * No persistence (no AOF, no RDB): acknowledged writes survive a master's death by being on its replica
 * (the app WAITs for it, see packages/queue/src/replication.ts), not by being on its disk.
 * Nothing outlives the test process: `stop()` kills the nodes; so do an exit hook and, if the process is killed
 * outright, a watchdog shell that kills every node when its stdin (our end of a pipe) closes.
 */

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

export interface ClusterNodeState {
  port: number;
  role: "master" | "replica";
  /** For a replica: the port of the master it follows. */
  masterPort?: number;
  /** For a master: the slot ranges it serves, inclusive. */
  slots: [number, number][];
}

export interface RedisClusterOptions {
  /** At least 3 for a failover: a replica is promoted by a majority of masters. */
  masters?: number;
  replicasPerMaster?: number;
  /** How long a node may be unreachable before it is failed (and its replica promoted). */
  nodeTimeoutMs?: number;
  /** Deadline for the cluster to be up and consistent. */
  startTimeoutMs?: number;
}

export interface RedisCluster {
  /** Every node as started: masters first, then replicas. Roles change on a failover; see `topology()`. */
  nodes: ClusterNodeAddress[];
  /** The nodes as `REDIS_CLUSTER_NODES` takes them: `127.0.0.1:p1,127.0.0.1:p2,…`. */
  nodesEnv: string;
  /** The master serving `key`'s slot now. */
  masterOf(key: string): Promise<ClusterNodeAddress>;
  /** Roles, replication and slots of the live nodes, as the cluster sees them now. */
  topology(): Promise<ClusterNodeState[]>;
  /** SIGKILL, as a crash: no shutdown, no goodbye to the other nodes. Resolves once the process is gone. */
  killNode(port: number): Promise<void>;
  /**
   * After `killNode(oldMasterPort)`: waits until a replica took over its slots and every live node agrees on it
   * (cluster_state:ok everywhere, replicas linked), then returns the new master's port.
   */
  waitForFailover(oldMasterPort: number, timeoutMs?: number): Promise<number>;
  /** Starts a killed node again on its port and dir (it keeps its node id) and waits until the cluster is consistent. */
  restartNode(port: number): Promise<void>;
  /** SIGSTOP / SIGCONT: a node that hangs (a lagging replica, a stalled master) without closing its sockets. */
  pauseNode(port: number): void;
  resumeNode(port: number): void;
  /** Kills every node and deletes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const SLOT_COUNT = 16_384;
/** Redis listens for cluster gossip on port + 10000 (the "bus" port). */
const BUS_PORT_OFFSET = 10_000;
/**
 * Client ports come from 10000-21999, so the bus ports (20000-31999) stay below Linux's ephemeral range (32768+),
 * where the kernel picks outgoing connections' local ports and `freePort()` picks its ports.
 */
const PORT_RANGE = { from: 10_000, to: 22_000 };
const POLL_INTERVAL_MS = 25;
/** redis-server from PATH (7.0+ for ADDSLOTSRANGE), or the one REDIS_SERVER_BIN names. */
const REDIS_SERVER = process.env["REDIS_SERVER_BIN"] ?? "redis-server";

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  if (masters < 1 || replicasPerMaster < 0) throw new Error(`invalid cluster layout: ${masters} masters, ${replicasPerMaster} replicas each`);

  const rootDir = await mkdtemp(join(tmpdir(), "leadsync-redis-cluster-"));
  const watchdog = startWatchdog(rootDir);
  const nodes = new Map<number, ClusterNode>();
  const cleanup = () => {
    for (const node of nodes.values()) node.process?.kill("SIGKILL");
    rmSync(rootDir, { recursive: true, force: true });
  };
  liveClusters.add(cleanup);
  let stopped = false;

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    liveClusters.delete(cleanup);
    watchdog.kill("SIGKILL"); // our own stop from here on: it must not kill pids that may be reused later
    await Promise.all([...nodes.values()].map((node) => killProcess(node)));
    await rm(rootDir, { recursive: true, force: true });
  }

  try {
    const total = masters * (1 + replicasPerMaster);
    const started = await Promise.all(Array.from({ length: total }, () => startNodeOnFreePort(rootDir, nodeTimeoutMs, watchdog)));
    for (const node of started) nodes.set(node.port, node);
    const masterNodes = started.slice(0, masters);
    const replicaNodes = started.slice(masters);

    // What redis-cli --cluster create does: distinct config epochs (no collisions to resolve), slots, then MEET.
    await Promise.all(started.map((node, index) => node.admin.call("CLUSTER", "SET-CONFIG-EPOCH", String(index + 1))));
    await Promise.all(
      masterNodes.map((node, index) => {
        const [first, last] = slotRange(index, masters);
        return node.admin.call("CLUSTER", "ADDSLOTSRANGE", String(first), String(last));
      }),
    );
    const [seed] = started;
    if (!seed) throw new Error("no nodes started");
    await Promise.all(started.slice(1).map((node) => seed.admin.call("CLUSTER", "MEET", HOST, String(node.port))));
    const ids = new Map(await Promise.all(started.map(async (node) => [node.port, String(await node.admin.call("CLUSTER", "MYID"))] as const)));

    // A replica can only REPLICATE a master it has heard of through gossip.
    await Promise.all(
      replicaNodes.map(async (replica, index) => {
        const master = masterNodes[index % masters];
        const masterId = master ? ids.get(master.port) : undefined;
        if (!masterId) throw new Error(`no master for replica ${replica.port}`);
        await pollUntil(
          async () => {
            const views = parseClusterNodes(String(await replica.admin.call("CLUSTER", "NODES")));
            return views.some((view) => view.id === masterId && !view.flags.includes("handshake"));
          },
          `replica ${replica.port} to learn of master ${master?.port}`,
          startTimeoutMs,
        );
        await replica.admin.call("CLUSTER", "REPLICATE", masterId);
      }),
    );
    await pollUntil(() => settledTopology(nodes), `cluster of ${total} nodes to be consistent`, startTimeoutMs, () => nodeLogs(nodes));
  } catch (error) {
    await stop();
    throw error;
  }

  const livePorts = () => [...nodes.values()].filter((node) => node.process !== undefined).map((node) => node.port);
  const nodeAt = (port: number) => {
    const node = nodes.get(port);
    if (!node) throw new Error(`no node on port ${port} in this cluster (${[...nodes.keys()].join(", ")})`);
    return node;
  };
  const addresses = [...nodes.keys()].map((port) => ({ host: HOST, port }));

  return {
    nodes: addresses,
    nodesEnv: toNodesEnv(addresses),
    masterOf: (key) => masterOfKey(livePorts().map((port) => ({ host: HOST, port })), key),
    topology: async () => (await settledTopology(nodes, { requireSettled: false })) || [],
    async killNode(port) {
      const node = nodeAt(port);
      // Remember what it served, for waitForFailover: once it is dead only its peers' (changing) views are left.
      const own = await node.admin
        .call("CLUSTER", "NODES")
        .then((text) => parseClusterNodes(String(text)).find((view) => view.flags.includes("myself")))
        .catch(() => undefined); // paused or dead: keep what the harness saw last
      if (own?.flags.includes("master")) node.lastKnownSlots = own.slots;
      await killProcess(node);
    },
    async waitForFailover(oldMasterPort, timeoutMs = 20_000) {
      const oldSlots = nodeAt(oldMasterPort).lastKnownSlots;
      const firstSlot = oldSlots[0]?.[0];
      if (firstSlot === undefined) throw new Error(`node ${oldMasterPort} served no slots when it was killed`);
      return pollUntil(
        async () => {
          const topology = await settledTopology(nodes);
          const owner = topology && topology.find((state) => state.slots.some(([from, to]) => from <= firstSlot && firstSlot <= to));
          return owner && owner.port !== oldMasterPort ? owner.port : false;
        },
        `a replica of ${oldMasterPort} to take over slot ${firstSlot}`,
        timeoutMs,
        () => nodeLogs(nodes),
      );
    },
    async restartNode(port) {
      const node = nodeAt(port);
      if (node.process) throw new Error(`node ${port} is running`);
      await launch(node, watchdog);
      await pollUntil(() => settledTopology(nodes), `node ${port} to rejoin the cluster`, startTimeoutMs, () => nodeLogs(nodes));
    },
    pauseNode: (port) => nodeAt(port).process?.kill("SIGSTOP"),
    resumeNode: (port) => nodeAt(port).process?.kill("SIGCONT"),
    stop,
  };
}

/** `127.0.0.1:7000,127.0.0.1:7001` → addresses. */
export function parseNodesEnv(nodesEnv: string): ClusterNodeAddress[] {
  return nodesEnv.split(",").map((entry) => {
    const [host, port] = entry.trim().split(":");
    if (!host || !port) throw new Error(`not host:port: ${JSON.stringify(entry)}`);
    return { host, port: Number(port) };
  });
}

export function toNodesEnv(nodes: ClusterNodeAddress[]): string {
  return nodes.map((node) => `${node.host}:${node.port}`).join(",");
}

/**
 * The master serving `key`, asked of the cluster itself (CLUSTER KEYSLOT, CLUSTER SHARDS) through the first node that
 * answers: usable with only the addresses, e.g. in a test file that got the shared cluster's nodes by `inject`.
 */
export async function masterOfKey(nodes: ClusterNodeAddress[], key: string): Promise<ClusterNodeAddress> {
  for (const node of nodes) {
    const redis = adminClient(node.port, node.host);
    try {
      const slot = Number(await redis.call("CLUSTER", "KEYSLOT", key));
      const views = parseClusterNodes(String(await redis.call("CLUSTER", "NODES")));
      const owner = views.find((view) => view.flags.includes("master") && view.slots.some(([from, to]) => from <= slot && slot <= to));
      if (owner) return { host: owner.host, port: owner.port };
    } catch {
      // a dead or paused node: ask the next one
    } finally {
      redis.disconnect();
    }
  }
  throw new Error(`no node of ${toNodesEnv(nodes)} knows the master of ${JSON.stringify(key)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Nodes as processes

interface ClusterNode {
  port: number;
  dir: string;
  nodeTimeoutMs: number;
  /** Undefined while the node is killed. */
  process: ChildProcess | undefined;
  exited: Promise<void>;
  /** One connection per running node for the harness's own commands (never a test's). */
  admin: Redis;
  /** The slots it served the last time the harness looked (kept for `waitForFailover` once it is dead). */
  lastKnownSlots: [number, number][];
}

/** Cleanups of the clusters still running in this process, for the exit hook. */
const liveClusters = new Set<() => void>();
process.once("exit", () => {
  for (const cleanup of liveClusters) cleanup();
});

function redisArgs(node: ClusterNode): string[] {
  return [
    ...["--port", String(node.port), "--bind", HOST, "--daemonize", "no"],
    ...["--dir", node.dir, "--logfile", join(node.dir, "redis.log")],
    ...["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", String(node.nodeTimeoutMs)],
    // A replica may always be promoted, however long it was cut off (default: not after 10 × node timeout).
    ...["--cluster-replica-validity-factor", "0"],
    ...["--appendonly", "no", "--save", ""],
    // Redis 7 waits 5 s by default before a diskless full sync, hoping for more replicas to serve at once.
    ...["--repl-diskless-sync-delay", "0"],
  ];
}

async function startNodeOnFreePort(rootDir: string, nodeTimeoutMs: number, watchdog: ChildProcess): Promise<ClusterNode> {
  // Another test process may take the port between our check and redis-server's bind: then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await reserveClusterPort();
    const dir = join(rootDir, String(port));
    await mkdir(dir);
    const node: ClusterNode = { port, dir, nodeTimeoutMs, process: undefined, exited: Promise.resolve(), admin: adminClient(port), lastKnownSlots: [] };
    try {
      await launch(node, watchdog);
      return node;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Spawns redis-server for `node` and resolves once it answers PING; rejects, with its log, if it exits first. */
async function launch(node: ClusterNode, watchdog: ChildProcess): Promise<void> {
  const child = spawn(REDIS_SERVER, redisArgs(node), { stdio: "ignore" });
  node.process = child;
  node.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  if (child.pid !== undefined) watchdog.stdin?.write(`${child.pid}\n`);
  if (node.admin.status === "end") node.admin = adminClient(node.port); // disconnected when it was killed
  const died = node.exited.then(() => {
    throw new Error(`redis-server on ${node.port} exited while starting:\n${tail(node)}`);
  });
  died.catch(() => undefined); // observed by the race below; a later death (killNode) is no start failure
  try {
    await Promise.race([pollUntil(async () => (await node.admin.ping()) === "PONG", `redis-server on ${node.port} to answer`, 10_000), died]);
  } catch (error) {
    await killProcess(node);
    throw error;
  }
}

async function killProcess(node: ClusterNode): Promise<void> {
  node.admin.disconnect();
  const child = node.process;
  if (!child) return;
  node.process = undefined;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGCONT"); // a paused process would still die of SIGKILL; this keeps its exit event prompt
    child.kill("SIGKILL");
  }
  await node.exited;
}

/**
 * `sh` that reads node pids on stdin and SIGKILLs them all once stdin ends, i.e. when this test process is gone
 * however it went (a SIGKILLed vitest fork runs no exit hook). Its own process group: Ctrl-C must not end it first.
 */
function startWatchdog(rootDir: string): ChildProcess {
  const script = 'pids=""; while read -r pid; do pids="$pids $pid"; done; [ -n "$pids" ] && kill -9 $pids 2>/dev/null; rm -rf "$1"';
  const watchdog = spawn("sh", ["-c", script, "sh", rootDir], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.stdin?.on("error", () => undefined); // EPIPE once stop() killed it
  return watchdog;
}

/** Every port handed out in this process: nodes started at once must not get the same one, nor a dying node's. */
const reservedPorts = new Set<number>();

/** A random port whose bus port (port + 10000) is free too. */
async function reserveClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (reservedPorts.has(port)) continue;
    reservedPorts.add(port); // before the awaits: a concurrent call must not pick it meanwhile
    if ((await isPortFree(port)) && (await isPortFree(port + BUS_PORT_OFFSET))) return port;
  }
  throw new Error(`no free port pair in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function adminClient(port: number, host = HOST): Redis {
  const redis = new Redis({
    host,
    port,
    // Fail a command at once when the node is down (the harness polls), but keep reconnecting while it starts.
    maxRetriesPerRequest: 0,
    retryStrategy: () => POLL_INTERVAL_MS,
    enableReadyCheck: false,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
  });
  redis.on("error", () => undefined);
  return redis;
}

function tail(node: ClusterNode, lines = 15): string {
  try {
    return readFileSync(join(node.dir, "redis.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function nodeLogs(nodes: Map<number, ClusterNode>): string {
  return [...nodes.values()].map((node) => `--- ${node.port}${node.process ? "" : " (killed)"}\n${tail(node, 5)}`).join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// What the cluster says about itself

interface NodeView {
  id: string;
  host: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
  slots: [number, number][];
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <master|-> <ping> <pong> <epoch> <link> <slot ranges…>`. */
function parseClusterNodes(text: string): NodeView[] {
  return text
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", master = "-", , , , , ...slotFields] = line.trim().split(" ");
      const [hostPort = ""] = address.split("@");
      const separator = hostPort.lastIndexOf(":");
      const slots = slotFields
        .filter((field) => !field.startsWith("[")) // [slot->-id] / [slot-<-id]: a migration in progress
        .map((field): [number, number] => {
          const [from, to = from] = field.split("-").map(Number);
          return [from ?? 0, to ?? 0];
        });
      return {
        id,
        host: hostPort.slice(0, separator),
        port: Number(hostPort.slice(separator + 1)),
        flags: flags.split(","),
        masterId: master === "-" ? undefined : master,
        slots,
      };
    });
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const separator = line.indexOf(":");
    if (separator > 0) fields.set(line.slice(0, separator), line.slice(separator + 1));
  }
  return fields;
}

const UNHEALTHY_FLAGS = ["fail", "fail?", "handshake", "noaddr"];

/**
 * The live nodes' topology if the cluster is settled, else false. Settled: every live node says cluster_state:ok with
 * all 16384 slots served, every live node sees the same roles, masters and slots (and none of its live peers as
 * failing), every replica's link to its master is up and every master counts its replicas online.
 * With `requireSettled: false`, the first live node's view, as it is.
 */
async function settledTopology(nodes: Map<number, ClusterNode>, { requireSettled = true } = {}): Promise<ClusterNodeState[] | false> {
  const live = [...nodes.values()].filter((node) => node.process !== undefined);
  const reports = await Promise.all(
    live.map(async (node) => {
      const [info, clusterNodes, replication] = await Promise.all([
        node.admin.call("CLUSTER", "INFO"),
        node.admin.call("CLUSTER", "NODES"),
        node.admin.info("replication"),
      ]);
      return { node, info: parseInfo(String(info)), views: parseClusterNodes(String(clusterNodes)), replication: parseInfo(replication) };
    }),
  );
  const livePorts = new Set(live.map((node) => node.port));
  const topologies = reports.map((report) => toTopology(report.views, livePorts));
  const [first] = topologies;
  if (!first) return false;
  for (const report of reports) {
    const own = report.views.find((view) => view.flags.includes("myself"));
    if (own?.flags.includes("master")) report.node.lastKnownSlots = own.slots;
  }
  if (!requireSettled) return first;

  const signature = JSON.stringify(first);
  const healthy = reports.every(
    (report) =>
      report.info.get("cluster_state") === "ok" &&
      report.info.get("cluster_slots_ok") === String(SLOT_COUNT) &&
      Number(report.info.get("cluster_known_nodes")) === nodes.size &&
      report.views.every((view) => !livePorts.has(view.port) || !view.flags.some((flag) => UNHEALTHY_FLAGS.includes(flag))),
  );
  if (!healthy || topologies.some((topology) => JSON.stringify(topology) !== signature)) return false;
  const linked = reports.every((report) => {
    const state = first.find((node) => node.port === report.node.port);
    if (state?.role === "replica") {
      return report.replication.get("master_link_status") === "up" && report.replication.get("master_sync_in_progress") === "0";
    }
    const replicas = first.filter((node) => node.masterPort === report.node.port).length;
    const online = [...report.replication.entries()].filter(([key, value]) => /^slave\d+$/.test(key) && value.includes("state=online")).length;
    return online === replicas;
  });
  return linked ? first : false;
}

function toTopology(views: NodeView[], livePorts: Set<number>): ClusterNodeState[] {
  const portOf = new Map(views.map((view) => [view.id, view.port]));
  return views
    .filter((view) => livePorts.has(view.port))
    .map((view): ClusterNodeState => {
      const masterPort = view.masterId === undefined ? undefined : portOf.get(view.masterId);
      return view.flags.includes("master")
        ? { port: view.port, role: "master", slots: [...view.slots].sort((a, b) => a[0] - b[0]) }
        : { port: view.port, role: "replica", ...(masterPort === undefined ? {} : { masterPort }), slots: [] };
    })
    .sort((a, b) => a.port - b.port);
}

/** The slots of master `index` of `masters`: contiguous ranges, like redis-cli's. */
function slotRange(index: number, masters: number): [number, number] {
  const size = SLOT_COUNT / masters;
  return [Math.round(index * size), Math.round((index + 1) * size) - 1];
}

/** Polls `check` until it returns something other than false; errors in between count as "not yet". */
async function pollUntil<T>(check: () => Promise<T | false>, what: string, timeoutMs: number, diagnostics?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${diagnostics ? `\n${diagnostics()}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
