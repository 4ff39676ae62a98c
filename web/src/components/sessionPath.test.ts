import { describe, expect, it } from "vitest";
import { sessionPath } from "./sessionPath";

describe("sessionPath", () => {
  it("opens a sweep on its sweep page and any other session on its own page", () => {
    expect(sessionPath({ session_id: "exec_a", mode: "sweep" })).toBe("/sweeps/exec_a");
    for (const mode of ["paper", "backtest", "collect", "live"] as const) {
      expect(sessionPath({ session_id: "exec_b", mode })).toBe("/sessions/exec_b");
    }
  });
});
