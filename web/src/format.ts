import type { Timestamp } from "./api/types";

/** Milliseconds since the epoch from an API timestamp (ISO text, or s / ms / µs / ns numbers). */
export function toMillis(ts: Timestamp): number | null {
  if (ts === null || ts === undefined || ts === "") return null;
  if (typeof ts === "string") {
    const numeric = Number(ts);
    if (!Number.isNaN(numeric)) return toMillis(numeric);
    const parsed = Date.parse(ts);
    return Number.isNaN(parsed) ? null : parsed;
  }
  if (ts > 1e17) return ts / 1e6; // ns
  if (ts > 1e14) return ts / 1e3; // µs
  if (ts > 1e11) return ts; // ms
  return ts * 1000; // s
}

/**
 * A number in US English with these options. `toLocaleString` with options builds a new
 * `Intl.NumberFormat` at every call (tens of µs): a records table of a few thousand fills took
 * seconds of the page's time at each refresh. One formatter per set of options, kept.
 */
const formatters = new Map<string, Intl.NumberFormat>();
export function localeNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  const key = JSON.stringify(options);
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat("en-US", options);
    formatters.set(key, formatter);
  }
  return formatter.format(value);
}

export function formatTime(ts: Timestamp): string {
  const ms = toMillis(ts);
  if (ms === null) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function formatNumber(value: unknown, digits = 2): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  return localeNumber(value, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatPrice(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const digits = Math.abs(value) >= 100 ? 2 : Math.abs(value) >= 1 ? 4 : 8;
  return localeNumber(value, { maximumFractionDigits: digits });
}

/** Money in the quote currency: thousands separators, 2 decimals. */
export function formatMoney(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  return localeNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A percentage, 2 decimals, with its unit. */
export function formatPct(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  return `${localeNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;
}

/**
 * A traded quantity: at most 6 significant digits (never the 17 of a float), trailing zeros
 * dropped. The market's own step is not known for every source, so this is its stand-in.
 */
export function formatQty(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  if (Math.abs(value) >= 1e5) return formatNumber(value, 0);
  return localeNumber(value, { maximumSignificantDigits: 6 });
}

/** A duration in seconds as the two largest units ("3 d 4 h", "12 min 5 s"). */
export function formatDuration(seconds: unknown): string {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "—";
  const units: [string, number][] = [["d", 86_400], ["h", 3_600], ["min", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of units) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** Money with its sign: "+8,364.52", "−3,112.40", "0.00". */
export function formatSigned(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const text = formatMoney(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

export function asNumber(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
    return Number(value);
  }
  return null;
}
