import { describe, expect, it } from "vitest";
import { FaultRegistry } from "../src/index.js";

type Kind = "latency" | "error" | "rate_limit" | "drop";
interface Input {
  kind: Kind;
  account?: string;
  count?: number;
  skip?: number;
}

const registry = () => new FaultRegistry<Kind, Input, string>((f) => f.account, new Set<Kind>(["latency", "error", "rate_limit"]));

describe("FaultRegistry", () => {
  it("an API call takes every latency and at most one failing fault; counts are used up, then the fault is gone", () => {
    const faults = registry();
    faults.add({ kind: "latency" });
    faults.add({ kind: "error", count: 1 });
    faults.add({ kind: "rate_limit", count: 1 });
    expect(faults.takeForApiCall("a").map((f) => f.kind)).toEqual(["latency", "error"]);
    expect(faults.takeForApiCall("a").map((f) => f.kind)).toEqual(["latency", "rate_limit"]);
    expect(faults.takeForApiCall("a").map((f) => f.kind)).toEqual(["latency"]);
    expect(faults.list().map((f) => f.kind)).toEqual(["latency"]);
  });

  it("a fault scoped to an account hits only that account; delivery kinds are taken apart from API calls", () => {
    const faults = registry();
    faults.add({ kind: "error", account: "b" });
    faults.add({ kind: "drop", account: "b", count: 1 });
    expect(faults.takeForApiCall("a")).toEqual([]);
    expect(faults.takeFirst("a", new Set(["drop"] as const))).toBeUndefined();
    expect(faults.takeForApiCall("b").map((f) => f.kind)).toEqual(["error"]);
    expect(faults.takeFirst("b", new Set(["drop"] as const))).toBe("drop");
    expect(faults.takeFirst("b", new Set(["drop"] as const))).toBeUndefined();
  });

  it("skip lets the first matching calls through, and the listing shows the fault as it was added", () => {
    const faults = registry();
    const added = faults.add({ kind: "error", skip: 2, count: 1 });
    expect(faults.takeForApiCall("a")).toEqual([]);
    expect(faults.takeForApiCall("a")).toEqual([]);
    expect(faults.list()).toEqual([{ kind: "error", skip: 2, count: 1, id: added.id, remaining: 1 }]);
    expect(faults.takeForApiCall("a").map((f) => f.kind)).toEqual(["error"]);
    expect(faults.list()).toEqual([]);
  });
});
