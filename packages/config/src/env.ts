import { z } from "zod";

/**
 * The one zod schema for LeadSync's environment (CONTRACT.md, "Environment").
 * Every process parses it once through `loadConfig()`; nothing else reads process.env.
 */

/** "true"/"1"/"yes" → true, "false"/"0"/"no"/"" → false. Never z.coerce.boolean: it turns "false" into true. */
export const envBoolean = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalString = z
  .string()
  .transform((v) => (v.trim() === "" ? undefined : v))
  .optional();

const port = z.coerce.number().int().min(0).max(65535);

// Development-only defaults. They are public, so production refuses to start with them.
export const DEV_JWT_SECRET = "leadsync-development-jwt-secret-change-me";
export const DEV_ENCRYPTION_KEY = Buffer.alloc(32, "leadsync-dev-key").toString("base64");
export const DEV_CLIENT_SECRET = "leadsync-development-client-secret";

/** A Redis node's address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is: one server (`url`), or a cluster reached through its seed nodes. */
export interface RedisTarget {
  url: string;
  clusterNodes?: HostPort[] | undefined;
}

/** Queue shards on a Redis Cluster when QUEUE_SHARDS is unset: enough to spread over up to 8 masters. */
export const DEFAULT_CLUSTER_QUEUE_SHARDS = 8;

function parseHostPorts(list: string): HostPort[] {
  return list.split(",").map((entry) => {
    const [host, port] = entry.trim().split(":") as [string, string];
    return { host, port: Number(port) };
  });
}

/** The queue prefix outside development when QUEUE_PREFIX is unset. */
export const DEFAULT_QUEUE_PREFIX = "{leadsync}";

/**
 * Development's queue prefix: `{leadsync:<database name>}`. Queue state belongs to a database's data (jobs name its
 * leads and integrations), so a second checkout or a fresh database on the same Redis starts with empty queues.
 */
export function devQueuePrefix(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\/+/, "")) || "postgres";
  // Braces would end the Redis Cluster hash tag early.
  return `{leadsync:${name.replace(/[{}]/g, "_")}}`;
}

export const rawEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z.string().url().default("postgresql://postgres:postgres@127.0.0.1:5432/leadsync"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** `host:port,host:port,…` of a Redis Cluster (a few seed nodes suffice); when set, every process uses it instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: optionalString.pipe(
    z
      .string()
      .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, "must be host:port,host:port,…")
      .transform(parseHostPorts)
      .optional(),
  ),
  /**
   * Queue shards per queue (crm-changes, crm-outbound), each its own Redis Cluster hash tag; a job's shard follows its
   * CRM account (or integration). Default 1 on one Redis, 8 on a cluster (README "Redis Cluster").
   */
  QUEUE_SHARDS: z.coerce.number().int().min(1).max(128).optional(),
  /**
   * Replicas that must hold a webhook's job before the receiver answers 2xx (Redis WAIT); 0 answers once the master has
   * it. With 1 on a cluster with replicas, a master that fails over loses no acknowledged webhook.
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
  /** How long the receiver waits for those replicas before answering 503 (the CRM retries). */
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(4000).default(1000),
  /**
   * BullMQ key prefix. The hash tag keeps every queue's keys in one Redis Cluster slot. Unset: `{leadsync}`, and in
   * development `{leadsync:<database name>}` (devQueuePrefix), so two dev setups on one Redis never share jobs.
   */
  QUEUE_PREFIX: optionalString.pipe(z.string().min(1).optional()),
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  API_URL: optionalString.pipe(z.string().url().optional()),
  HUBSPOT_CLIENT_SECRET: optionalString,
  HUBSPOT_WEBHOOK_SECRET: optionalString,
  HUBSPOT_CLIENT_ID: optionalString,
  HUBSPOT_ACCESS_TOKEN: optionalString,
  HUBSPOT_APP_ID: optionalString,
  HUBSPOT_DEVELOPER_API_KEY: optionalString,
  HUBSPOT_API_BASE: z.string().url().default("https://api.hubapi.com"),
  HUBSPOT_SANDBOX_PORT: port.default(3100),
  SALESFORCE_LOGIN_URL: z.string().url().default("https://login.salesforce.com"),
  SALESFORCE_CLIENT_ID: optionalString,
  SALESFORCE_CLIENT_SECRET: optionalString,
  SALESFORCE_SANDBOX_PORT: port.default(3200),
  /** Salesforce's Pub/Sub API (Change Data Capture): grpcs://host:port, or grpc:// for a plaintext emulator. */
  SALESFORCE_PUBSUB_URL: z.string().regex(/^grpcs?:\/\/[^/]+:\d+$/, "must be grpcs://host:port or grpc://host:port").default("grpcs://api.pubsub.salesforce.com:7443"),
  ZOHO_ACCOUNTS_URL: z.string().url().default("https://accounts.zoho.com"),
  ZOHO_CLIENT_ID: optionalString,
  ZOHO_CLIENT_SECRET: optionalString,
  ZOHO_SANDBOX_PORT: port.default(3300),
  PIPEDRIVE_API_BASE: z.string().url().default("https://api.pipedrive.com"),
  PIPEDRIVE_OAUTH_URL: z.string().url().default("https://oauth.pipedrive.com"),
  PIPEDRIVE_CLIENT_ID: optionalString,
  PIPEDRIVE_CLIENT_SECRET: optionalString,
  PIPEDRIVE_SANDBOX_PORT: port.default(3400),
  LEAD_SOURCE_MARKER: z.string().min(1).default("jazzaam"),
  JWT_SECRET: optionalString,
  ENCRYPTION_KEY: optionalString,
  BULL_BOARD_USER: optionalString,
  BULL_BOARD_PASSWORD: optionalString,
  /** How long the inbound worker gathers events of one portal before one batch read (ms). */
  INBOUND_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(5000).default(50),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * crm-changes jobs a bulk lane runs at once per worker process: the share of a worker a bursting account gets. Two
   * jobs (up to 200 events, a creation and a change per record) fill one 100-record batch read.
   */
  WORKER_BULK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(2),
  /** Where a standalone worker process serves /metrics and /health (0: a free port). */
  WORKER_METRICS_PORT: port.default(9464),
  /** BullMQ job lock: a worker that dies holding a job loses it after this long (then stalled-job recovery). */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
  /** How often workers look for stalled jobs (those whose lock expired). */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /** A HubSpot call with no response for this long fails (and is retried like a 5xx). */
  HUBSPOT_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
  /** Platform API requests per minute per org (authenticated; anonymous requests: 1,000 per IP). Default 60,000 (1,000/s). */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60_000),
  /** Webhook bodies above this size answer 413 (HubSpot sends at most 100 events per request). */
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** How often reconciliation asks the CRM what changed (ms); 0 turns it off. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(5 * 60 * 1000),
  /** How often expiring feeds (Zoho channels) and idle OAuth tokens are looked after (ms); 0 turns it off. */
  FEED_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(0).default(10 * 60 * 1000),
  /**
   * Days kept of webhook_events claims, unlinked_contacts, finished backfills and integration_errors; older rows are
   * pruned hourly. At least 4: claims must outlive every CRM's redelivery window (HubSpot 24 h, Salesforce replay 72 h).
   */
  RETENTION_DAYS: z.coerce.number().int().min(4).default(30),
  /** How often a worker looks for pulled feeds (Salesforce CDC) to subscribe to or whose lease to renew (ms). */
  FEED_LEASE_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
});

export type RawEnv = z.input<typeof rawEnvSchema>;

export const envSchema = rawEnvSchema
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== "production") return;
    if (!env.HUBSPOT_CLIENT_SECRET && !env.HUBSPOT_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["HUBSPOT_CLIENT_SECRET"],
        message: "required in production: webhooks cannot be verified without the app's client secret",
      });
    }
    if (!env.JWT_SECRET) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "required in production" });
    }
    if (!env.ENCRYPTION_KEY) {
      ctx.addIssue({ code: "custom", path: ["ENCRYPTION_KEY"], message: "required in production" });
    }
  })
  .superRefine((env, ctx) => {
    if (env.ENCRYPTION_KEY && Buffer.from(env.ENCRYPTION_KEY, "base64").length !== 32) {
      ctx.addIssue({ code: "custom", path: ["ENCRYPTION_KEY"], message: "must be 32 bytes, base64-encoded" });
    }
  })
  .transform((env) => {
    const isProduction = env.NODE_ENV === "production";
    return {
      nodeEnv: env.NODE_ENV,
      isProduction,
      logLevel: env.LOG_LEVEL,
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
      /** Where every process's Redis connections go: the cluster's seed nodes when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
      redis: { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES } as RedisTarget,
      queueShards: env.QUEUE_SHARDS ?? (env.REDIS_CLUSTER_NODES ? DEFAULT_CLUSTER_QUEUE_SHARDS : 1),
      redisWaitReplicas: env.REDIS_WAIT_REPLICAS,
      redisWaitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
      queuePrefix: env.QUEUE_PREFIX ?? (env.NODE_ENV === "development" ? devQueuePrefix(env.DATABASE_URL) : DEFAULT_QUEUE_PREFIX),
      port: env.PORT,
      host: env.HOST,
      apiUrl: (env.API_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, ""),
      leadSourceMarker: env.LEAD_SOURCE_MARKER,
      jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
      encryptionKey: Buffer.from(env.ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY, "base64"),
      bullBoard:
        env.BULL_BOARD_USER && env.BULL_BOARD_PASSWORD
          ? { user: env.BULL_BOARD_USER, password: env.BULL_BOARD_PASSWORD }
          : isProduction
            ? undefined // without an operator login, production keeps the dashboard off
            : { user: "admin", password: "admin" },
      inboundBatchWindowMs: env.INBOUND_BATCH_WINDOW_MS,
      workerConcurrency: env.WORKER_CONCURRENCY,
      workerBulkConcurrency: env.WORKER_BULK_CONCURRENCY,
      workerMetricsPort: env.WORKER_METRICS_PORT,
      workerLockDurationMs: env.WORKER_LOCK_DURATION_MS,
      workerStalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      webhookBodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
      apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      feedMaintenanceIntervalMs: env.FEED_MAINTENANCE_INTERVAL_MS,
      retentionDays: env.RETENTION_DAYS,
      feedLeaseIntervalMs: env.FEED_LEASE_INTERVAL_MS,
      hubspot: {
        /** The secret that signs webhooks (HUBSPOT_CLIENT_SECRET, alias HUBSPOT_WEBHOOK_SECRET). */
        clientSecret: env.HUBSPOT_CLIENT_SECRET ?? env.HUBSPOT_WEBHOOK_SECRET ?? DEV_CLIENT_SECRET,
        clientId: env.HUBSPOT_CLIENT_ID,
        accessToken: env.HUBSPOT_ACCESS_TOKEN,
        appId: env.HUBSPOT_APP_ID,
        developerApiKey: env.HUBSPOT_DEVELOPER_API_KEY,
        apiBase: env.HUBSPOT_API_BASE.replace(/\/+$/, ""),
        requestTimeoutMs: env.HUBSPOT_REQUEST_TIMEOUT_MS,
        sandboxPort: env.HUBSPOT_SANDBOX_PORT,
        /** No private-app token configured: `pnpm start` runs the built-in sandbox. */
        useSandbox: !env.HUBSPOT_ACCESS_TOKEN,
      },
      /**
       * Per provider besides HubSpot (whose settings are `hubspot` above): where its API or login lives and its OAuth app, as the provider package
       * reads them (core's ProviderEnvironment). `pnpm start` points them at the emulators in development.
       */
      providers: {
        salesforce: {
          apiBase: env.SALESFORCE_LOGIN_URL.replace(/\/+$/, ""),
          clientId: env.SALESFORCE_CLIENT_ID,
          clientSecret: env.SALESFORCE_CLIENT_SECRET,
          feedEndpoint: env.SALESFORCE_PUBSUB_URL,
          sandboxPort: env.SALESFORCE_SANDBOX_PORT,
        },
        zoho: {
          apiBase: env.ZOHO_ACCOUNTS_URL.replace(/\/+$/, ""),
          clientId: env.ZOHO_CLIENT_ID,
          clientSecret: env.ZOHO_CLIENT_SECRET,
          sandboxPort: env.ZOHO_SANDBOX_PORT,
        },
        pipedrive: {
          apiBase: env.PIPEDRIVE_API_BASE.replace(/\/+$/, ""),
          oauthBase: env.PIPEDRIVE_OAUTH_URL.replace(/\/+$/, ""),
          clientId: env.PIPEDRIVE_CLIENT_ID,
          clientSecret: env.PIPEDRIVE_CLIENT_SECRET,
          sandboxPort: env.PIPEDRIVE_SANDBOX_PORT,
        },
      } as Record<string, ProviderSettings>,
    };
  });

/** One provider's part of the configuration. */
export interface ProviderSettings {
  apiBase?: string | undefined;
  feedEndpoint?: string | undefined;
  oauthBase?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  appId?: string | undefined;
  developerApiKey?: string | undefined;
  sandboxPort?: number;
}

export type Config = Readonly<z.output<typeof envSchema>>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once, listing every problem at once; the result is frozen. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".") || "env"}: ${i.message}`));
  }
  return Object.freeze({ ...result.data, hubspot: Object.freeze(result.data.hubspot) });
}

/** For process entry points: the config, or the list of problems on stderr and exit code 1 (no stack trace). */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
