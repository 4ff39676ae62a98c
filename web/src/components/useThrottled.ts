import { useEffect, useRef, useState } from "react";

/**
 * `value`, changed at most once per `everyMs`: a change within the wait is shown at its end,
 * the newest one (the last is never lost, intermediate ones are skipped). `everyMs` 0 passes
 * every value through at once.
 */
export function useThrottled<T>(value: T, everyMs: number): T {
  const [shown, setShown] = useState(value);
  const lastShownAt = useRef(0);
  useEffect(() => {
    if (everyMs <= 0) return;
    // the deadline is set by the last change shown: a steady stream of changes cannot push it back
    const wait = Math.max(0, lastShownAt.current + everyMs - Date.now());
    const timer = setTimeout(() => {
      lastShownAt.current = Date.now();
      setShown(() => value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, everyMs]);
  return everyMs <= 0 ? value : shown;
}
