/** What every scenario module exports and returns. */

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The figure it is compared with, measured or computed in the same run. */
  baseline?: { name: string; value: number; unit: string };
  /** value ÷ baseline, or baseline ÷ value for times (always "higher is better"). */
  ratio?: number;
  /** The target, as text ("≥ 50% of ceiling"). */
  target?: string;
  pass?: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  sizes: Record<string, number | string>;
  figures: Figure[];
  /** How the scenario was run, and what limits it: shown under its table. */
  notes: string[];
  /** Markdown (a code block or a mermaid chart). */
  chart?: string;
  durationSeconds?: number;
  /** 1-minute load average before and after: other work on the machine shows here. */
  loadAverage?: { before: number; after: number };
}

export interface ScenarioContext {
  quick: boolean;
  progress(message: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
