/** Helpers that read the `data` of an envelope whose exact shape the OpenAPI document leaves open. */

export function pickList<T>(data: unknown, ...keys: string[]): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === "object") {
    for (const key of [...keys, "items", "results"]) {
      const value = (data as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}

export function pickNumber(data: unknown, key: string): number | undefined {
  if (data && typeof data === "object") {
    const value = (data as Record<string, unknown>)[key];
    if (typeof value === "number") return value;
  }
  return undefined;
}
