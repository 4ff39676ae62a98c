import { describe, expect, it } from "vitest";
import { extendsDrawn, type Bar } from "./PriceChart";

const bar = (time: number, close = 100): Bar => ({ time, open: 100, high: Math.max(100, close), low: Math.min(100, close), close });

describe("extendsDrawn", () => {
  const drawn = [bar(60), bar(120), bar(180)];

  it("redraws only the newest bar when a tick moved it", () => {
    expect(extendsDrawn(drawn, [drawn[0], drawn[1], bar(180, 101)])).toBe(2);
  });

  it("redraws the newest bar and the ones added after it", () => {
    expect(extendsDrawn(drawn, [...drawn, bar(240)])).toBe(2);
    expect(extendsDrawn(drawn, [drawn[0], drawn[1], bar(180, 99), bar(240), bar(300)])).toBe(2);
  });

  it("redraws nothing when nothing changed", () => {
    expect(extendsDrawn(drawn, [...drawn])).toBe(3);
  });

  it("sets every bar again when an older bar changed, a bar was dropped or older bars came in front", () => {
    expect(extendsDrawn(drawn, [drawn[0], bar(120, 105), bar(180)])).toBeNull();
    expect(extendsDrawn(drawn, [drawn[0], drawn[1], bar(240)])).toBeNull(); // the forming bar at 180 was dropped
    expect(extendsDrawn(drawn, [drawn[0], drawn[1]])).toBeNull();
    expect(extendsDrawn(drawn, [bar(0), ...drawn])).toBeNull();
    expect(extendsDrawn([], drawn)).toBeNull();
  });
});
