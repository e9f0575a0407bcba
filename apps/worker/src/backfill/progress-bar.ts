import type { BackfillProgress } from "./run-backfill.js";

/**
 * A one-line progress bar with rate and ETA for the terminal: redrawn in place on a TTY, one line every
 * few seconds otherwise (logs, CI).
 */

const WIDTH = 30;
const PLAIN_EVERY_MS = 5_000;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The line for a progress: `[#####-----]  45% 4,500/10,000  820/s  ETA 7s`. */
export function progressLine(progress: BackfillProgress, startedAt: number, startedFrom: number, now = Date.now()): string {
  const { processed, total } = progress;
  const ratio = total ? Math.min(1, processed / total) : 0;
  const filled = Math.round(ratio * WIDTH);
  const elapsedS = Math.max(0.001, (now - startedAt) / 1000);
  const rate = (processed - startedFrom) / elapsedS;
  const eta = total && rate > 0 ? formatDuration(((total - processed) / rate) * 1000) : "?";
  const count = `${processed.toLocaleString("en")}/${total === null ? "?" : total.toLocaleString("en")}`;
  return `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${count}  ${Math.round(rate)}/s  ETA ${eta}`;
}

export function createProgressBar(stream: NodeJS.WriteStream, startedFrom: number) {
  const startedAt = Date.now();
  let lastPlain = 0;
  return {
    update(progress: BackfillProgress) {
      const line = progressLine(progress, startedAt, startedFrom);
      if (stream.isTTY) stream.write(`\r${line}\x1b[K`);
      else if (Date.now() - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = Date.now();
        stream.write(`${line}\n`);
      }
    },
    /** The final line, always written (off a TTY, the last update may have fallen between two plain lines). */
    done(progress?: BackfillProgress) {
      if (progress) {
        const line = progressLine(progress, startedAt, startedFrom);
        stream.write(stream.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
      } else if (stream.isTTY) stream.write("\n");
    },
  };
}

/**
 * The backfill's closing sentence: every contact this run read in exactly one outcome, e.g.
 * `402 contact(s) read: 300 created, 0 updated, 0 linked, 101 already in sync, 1 skipped (no_email 1)`.
 */
export function backfillSummary(progress: BackfillProgress, startedFrom: number): string {
  const read = progress.processed - startedFrom;
  const reasons = Object.entries(progress.skippedByReason)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  const parts = [
    `${read} contact(s) read: ${progress.created} created, ${progress.updated} updated, ${progress.linked} linked`,
    `${progress.unchanged} already in sync, ${progress.skipped} skipped${reasons ? ` (${reasons})` : ""}`,
  ];
  const earlier = startedFrom > 0 ? `; ${progress.processed} in all with the earlier run(s)` : "";
  return `${parts.join(", ")}${earlier}`;
}
