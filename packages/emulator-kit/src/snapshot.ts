import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * An emulator's state in a JSON file, so a restarted emulator (`pnpm start` again) still has the accounts, records,
 * tokens and feeds a database of the previous run points at. Opt-in: each emulator's start function takes a
 * `snapshotPath`; without it the emulator is in memory only, as tests want it.
 *
 * The file is an envelope `{ format, emulator, version, savedAt, state }`; the emulator owns `state` (what it keeps
 * and how it parses it). Writes are atomic (a temp file renamed over the old one) and debounced: at most one write per
 * `debounceMs` after a change, and a final one on close, so a kill -9 loses at most the last moments.
 */

const FORMAT = "leadsync-emulator-snapshot";

/** Why no state was loaded: no file yet, or one that cannot be used (then the emulator starts empty). */
export type SnapshotMiss = { reason: "missing" } | { reason: "unusable"; detail: string };

export type SnapshotRead<T> = { state: T } | ({ state?: undefined } & SnapshotMiss);

export interface SnapshotFileOptions<T> {
  path: string;
  /** e.g. "hubspot-sandbox": a file of another emulator is unusable, not misread */
  emulator: string;
  /** bumped when the shape of `state` changes incompatibly: an older file is then unusable (a fresh start) */
  version: number;
  /** validates the stored `state` (a zod schema's `parse`); throwing makes the file unusable */
  parse(state: unknown): T;
}

/** Reads and validates the snapshot; never throws (a broken file must not stop the emulator). */
export function readSnapshot<T>(options: SnapshotFileOptions<T>): SnapshotRead<T> {
  let text: string;
  try {
    text = readFileSync(options.path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { reason: "missing" };
    return { reason: "unusable", detail: describe(error) };
  }
  try {
    const envelope = JSON.parse(text) as Record<string, unknown> | null;
    if (typeof envelope !== "object" || envelope === null || envelope["format"] !== FORMAT) return { reason: "unusable", detail: "not an emulator snapshot" };
    if (envelope["emulator"] !== options.emulator) return { reason: "unusable", detail: `a snapshot of ${String(envelope["emulator"])}` };
    if (envelope["version"] !== options.version) return { reason: "unusable", detail: `snapshot version ${String(envelope["version"])}, expected ${options.version}` };
    return { state: options.parse(envelope["state"]) };
  } catch (error) {
    return { reason: "unusable", detail: describe(error) };
  }
}

/** Writes `state` atomically: readable by the user only (it holds the emulator's tokens). */
export function writeSnapshot(path: string, emulator: string, version: number, state: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const envelope = { format: FORMAT, emulator, version, savedAt: new Date().toISOString(), state };
  try {
    writeFileSync(tmp, JSON.stringify(envelope, jsonReplacer), { mode: 0o600 });
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

export interface SnapshotWriterOptions {
  path: string;
  emulator: string;
  version: number;
  /** the state to store, as plain JSON (bigints are written as strings) */
  collect(): unknown;
  /** default 250 ms */
  debounceMs?: number;
  /** a failed write (disk full, folder removed): reported, and retried on the next change */
  onError?(error: unknown): void;
}

/** Saves the emulator's state after changes (debounced) and once more on close. */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SnapshotWriterOptions) {}

  /** Something changed: a write within `debounceMs` (one write covers every change until then). */
  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 250);
    // a pending write must not keep a process alive; close() writes what is left
    this.timer.unref();
  }

  /** Writes now (synchronously: it also runs on the way out of a process). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      writeSnapshot(this.options.path, this.options.emulator, this.options.version, this.options.collect());
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** The final write; later changes are not saved. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}

/** Requests that can change an emulator's state: anything but a read. */
export function isMutatingMethod(method: string): boolean {
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}

/** Entries of a Map as an array (JSON has no maps), and back. */
export const entriesOf = <K, V>(map: ReadonlyMap<K, V>): [K, V][] => [...map.entries()];

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What an emulator started with a `snapshotPath` says about its snapshot (for the caller's log line). */
export type SnapshotStatus = { path: string } & ({ restored: true } | ({ restored: false } & SnapshotMiss));

export interface BuildWithSnapshotInput<T, B> {
  /** the snapshot file; undefined keeps the emulator in memory only (no file read or written) */
  file: SnapshotFileOptions<T> | undefined;
  /**
   * Builds the emulator, from `restore` when a usable snapshot was read; `changed` is to be called after anything that
   * changes its state (e.g. an `onResponse` hook for mutating requests). A build that throws with `restore` is retried
   * without it: a snapshot that does not fit must not stop the emulator.
   */
  build(restore: T | undefined, changed: () => void): Promise<B>;
  /** the state to save, from what `build` returned */
  collect(built: B): unknown;
  /**
   * Where a failed save is said: the emulator's logger (a warn line), else a process warning — a lost snapshot must
   * not pass unnoticed, even for an emulator without a logger.
   */
  logger?: false | { warn(fields: object, message: string): void } | undefined;
}

/**
 * The start of an emulator with an optional snapshot: read it, build from it (or empty), and save after changes.
 * The caller closes `writer` when the emulator stops (the final write).
 */
export async function buildWithSnapshot<T, B>(input: BuildWithSnapshotInput<T, B>): Promise<{ built: B; status: SnapshotStatus | undefined; writer: SnapshotWriter | undefined }> {
  const { file } = input;
  if (!file) return { built: await input.build(undefined, () => undefined), status: undefined, writer: undefined };
  let writer: SnapshotWriter | undefined;
  const changed = () => writer?.changed();
  const read = readSnapshot(file);
  let built: B;
  let status: SnapshotStatus;
  if ("state" in read && read.state !== undefined) {
    try {
      built = await input.build(read.state, changed);
      status = { path: file.path, restored: true };
    } catch (error) {
      built = await input.build(undefined, changed);
      status = { path: file.path, restored: false, reason: "unusable", detail: describe(error) };
    }
  } else {
    built = await input.build(undefined, changed);
    const miss = read as SnapshotMiss;
    status = { path: file.path, restored: false, ...miss };
  }
  const done = built;
  writer = new SnapshotWriter({
    path: file.path,
    emulator: file.emulator,
    version: file.version,
    collect: () => input.collect(done),
    onError: (error) => {
      if (input.logger) input.logger.warn({ err: error, path: file.path }, `${file.emulator}: could not save its snapshot`);
      else process.emitWarning(`${file.emulator} could not save its state to ${file.path}: ${describe(error)}`);
    },
  });
  return { built, status, writer };
}

/** `options` without its undefined values, so spreading it over a snapshot's defaults keeps those. */
export function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
