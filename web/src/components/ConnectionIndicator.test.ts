import { describe, expect, it } from "vitest";
import { describeConnection } from "./ConnectionIndicator";

const base = { lastMessageAt: 1_000, connects: 1, retryInMs: null, lastError: null };

describe("describeConnection", () => {
  it("says Live only when the socket is open", () => {
    expect(describeConnection({ ...base, status: "open" }, 3_000).label).toBe("Live");
    expect(describeConnection({ ...base, status: "open" }, 3_000).detail).toContain("last message 2 s ago");
    expect(describeConnection({ ...base, status: "connecting" }, 3_000).label).not.toBe("Live");
  });

  it("says why and when it retries while reconnecting", () => {
    const text = describeConnection({ ...base, status: "reconnecting", retryInMs: 4_000, lastError: "closed (code 1006)" }, 3_000);
    expect(text.label).toBe("Reconnecting…");
    expect(text.detail).toContain("closed (code 1006)");
    expect(text.detail).toContain("Retrying in 4 s");
  });
});
