import { describe, expect, it } from "vitest";
import { emptyLog, mergeEvents, tickShowsGap, type TapeEvent } from "./eventLog";

const ev = (seq: number, kind = "fill"): TapeEvent => ({ seq, ts: seq * 1000, kind, data: {} });

describe("mergeEvents", () => {
  it("keeps events in seq order and tracks the contiguous end", () => {
    const log = mergeEvents(emptyLog, [ev(2), ev(1), ev(3)]);
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.lastSeq).toBe(3);
    expect(log.gap).toBe(false);
  });

  it("shows an event delivered twice (catch-up and socket) only once", () => {
    const fromHttp = mergeEvents(emptyLog, [ev(1), ev(2)]);
    const again = mergeEvents(fromHttp, [ev(2), ev(3)]);
    expect(again.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeEvents(again, [ev(3)])).toBe(again);
  });

  it("flags a gap and closes it when the missing events arrive", () => {
    const withGap = mergeEvents(mergeEvents(emptyLog, [ev(1)]), [ev(4)]);
    expect(withGap.lastSeq).toBe(1);
    expect(withGap.gap).toBe(true);
    const filled = mergeEvents(withGap, [ev(2), ev(3)]);
    expect(filled.lastSeq).toBe(4);
    expect(filled.gap).toBe(false);
  });

  it("appends the next events in order without disturbing what it holds", () => {
    const log = mergeEvents(emptyLog, [ev(1), ev(2)]);
    const next = mergeEvents(log, [ev(2), ev(3), ev(4)]);
    expect(next.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(next.events[0]).toBe(log.events[0]);
    expect(next.lastSeq).toBe(4);
  });
});

describe("tickShowsGap", () => {
  it("is true only when the tick's seq is ahead of the log", () => {
    const log = mergeEvents(emptyLog, [ev(1), ev(2)]);
    expect(tickShowsGap(log, 2)).toBe(false);
    expect(tickShowsGap(log, 3)).toBe(true);
    expect(tickShowsGap(log, undefined)).toBe(false);
  });
});
