/** One progress line on the terminal (rewritten in place on a TTY, plain lines otherwise). */
const tty = process.stderr.isTTY === true;
let last = "";
let lastPrintedAt = 0;

export function progress(message: string): void {
  if (tty) {
    process.stderr.write(`\r\x1b[2K${message}`);
  } else if (message !== last && Date.now() - lastPrintedAt > 2_000) {
    process.stderr.write(`${message}\n`);
    lastPrintedAt = Date.now();
  }
  last = message;
}

/** Ends the current progress line with a final message. */
export function done(message: string): void {
  if (tty) process.stderr.write(`\r\x1b[2K${message}\n`);
  else process.stderr.write(`${message}\n`);
  last = "";
}
