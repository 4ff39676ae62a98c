import { useEffect, useState } from "react";

/** The wall clock, re-read every `everyMs`: what "3 min ago" texts render from (a render itself
 * may not call `Date.now()`, React's purity rule). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
