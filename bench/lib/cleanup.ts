/**
 * Everything a benchmark starts (processes, databases, Redis keys, servers) registers how to undo it here, so a
 * finished scenario, a failed one and Ctrl-C all leave nothing behind. Undo runs newest first.
 */
type Undo = () => Promise<void> | void;

const stack: { name: string; undo: Undo }[] = [];

export function onCleanup(name: string, undo: Undo): () => Promise<void> {
  const entry = { name, undo };
  stack.push(entry);
  return async () => {
    const index = stack.indexOf(entry);
    if (index < 0) return;
    stack.splice(index, 1);
    await runUndo(entry);
  };
}

async function runUndo(entry: { name: string; undo: Undo }): Promise<void> {
  try {
    await entry.undo();
  } catch (error) {
    process.stderr.write(`\ncleanup of ${entry.name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Undoes everything registered since `mark` (a scenario's own resources). */
export async function cleanupSince(mark: number): Promise<void> {
  while (stack.length > mark) {
    const entry = stack.pop();
    if (entry) await runUndo(entry);
  }
}

export function cleanupMark(): number {
  return stack.length;
}

let interrupted = false;
/** On Ctrl-C / SIGTERM: undo everything, then exit 130. */
export function cleanupOnSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${signal}: cleaning up…\n`);
      void cleanupSince(0).finally(() => process.exit(130));
    });
  }
}
