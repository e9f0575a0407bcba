/** Small numeric helpers for the reports. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const BARS = "▁▂▃▄▅▆▇█";

/** A Unicode sparkline of `values` scaled to [0, max]. */
export function sparkline(values: readonly number[], max = Math.max(1, ...values)): string {
  return values.map((v) => BARS[Math.min(BARS.length - 1, Math.max(0, Math.round((v / max) * (BARS.length - 1))))]).join("");
}

/**
 * Calls in the trailing 10 s window at each 1 s sample, from cumulative call counts sampled once a second
 * (`samples[i]` = total calls at second i).
 */
export function rollingWindow(samples: readonly number[], windowSamples = 10): number[] {
  return samples.map((total, i) => total - (samples[Math.max(0, i - windowSamples)] ?? 0));
}
