import { type InfiniteData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef } from "react";
import { ApiError, logApiError, isErrorEnvelope } from "../api/errors";
import { query, request } from "../api/client";
import { keys } from "../api/hooks";
import type { CandleView, DatasetInfo } from "../api/types";

export interface CandleOptions {
  /** Read the bars up to this time (µs), asked at each fetch of the newest page; all recorded
   * bars without it. */
  endUs?: () => number | undefined;
  /** Re-read every so many ms (for a session that is still running). */
  refetchMs?: number | false;
  /** Bars per page (the server allows up to 20,000). */
  limit?: number;
}

export interface CandlePage {
  items: CandleView[];
  nextEndUs: number | null;
}

/**
 * Candles of a recorded symbol at any interval (the server resamples finer data), newest page
 * first; `fetchNextPage` loads the page of older bars before it (scrolling back in time).
 */
export function useCandles(source: string | null, symbol: string | null, interval: number, options: CandleOptions = {}) {
  const client = useQueryClient();
  const queryKey = useMemo(() => ["candles", source, symbol, interval], [source, symbol, interval]);
  const result = useInfiniteQuery({
    queryKey,
    enabled: Boolean(source && symbol),
    refetchInterval: options.refetchMs ?? false,
    initialPageParam: null as number | null,
    getNextPageParam: (last: CandlePage) => last.nextEndUs,
    queryFn: async ({ signal, pageParam }): Promise<CandlePage> => {
      const endUs = pageParam ?? options.endUs?.();
      const { data } = await request<{ items: CandleView[]; next_end_us?: number | null }>(
        `/data/${encodeURIComponent(source!)}/candles${query({ symbol, interval, end_us: endUs, limit: options.limit ?? 5000 })}`,
        { signal },
      );
      return { items: data.items, nextEndUs: data.next_end_us ?? null };
    },
  });
  const pages = result.data?.pages;
  const bars = useMemo(() => (pages ? [...pages].reverse().flatMap((p) => p.items) : undefined), [pages]);
  const limit = options.limit ?? 5000;
  const endUs = useRef(options.endUs); // a new function at each render: read when extending
  useEffect(() => {
    endUs.current = options.endUs;
  }, [options.endUs]);
  const { refetch } = result;
  const extending = useRef<Promise<void> | null>(null);
  /** Read only the bars from the newest one held on (a running session's chart): the newest
   * bar again, as it may have grown, and the ones after it; `refetch` would read every page. */
  const extend = useCallback((): Promise<void> => {
    const newest = client.getQueryData<InfiniteData<CandlePage>>(queryKey)?.pages[0]?.items.at(-1);
    if (!source || !symbol || !newest) return refetch().then(() => undefined);
    if (extending.current) return extending.current;
    const read = async () => {
      const { data } = await request<{ items: CandleView[] }>(
        `/data/${encodeURIComponent(source)}/candles${query({ symbol, interval, start_us: newest.time * 1_000_000, end_us: endUs.current?.(), limit })}`,
      );
      client.setQueryData<InfiniteData<CandlePage>>(queryKey, (held) => (held ? withNewest(held, data.items, limit) : held));
    };
    extending.current = read().finally(() => {
      extending.current = null;
    });
    return extending.current;
  }, [client, queryKey, source, symbol, interval, limit, refetch]);
  return { ...result, bars, extend };
}

/** The held pages with ``fresh`` bars (oldest first, from the newest held bar's open on) in
 * place of the bars they supersede; when the newest page outgrows ``limit`` its oldest bars are
 * dropped, with the older pages, and scrolling back reads them again. */
export function withNewest(held: InfiniteData<CandlePage>, fresh: CandleView[], limit: number): InfiniteData<CandlePage> {
  if (fresh.length === 0) return held;
  const [newest, ...older] = held.pages;
  const kept = newest.items.filter((bar) => bar.time < fresh[0].time);
  const items = [...kept, ...fresh];
  if (items.length <= limit) return { ...held, pages: [{ ...newest, items }, ...older] };
  const trimmed = items.slice(-limit);
  return { pages: [{ items: trimmed, nextEndUs: trimmed[0].time * 1_000_000 }], pageParams: [held.pageParams[0]] };
}

export interface ImportForm {
  file: File;
  name: string;
  symbol?: string;
  kind?: string;
}

/** POST /datasets is multipart (the file itself), so it is sent as FormData, not JSON. */
export function useImportDataset() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (form: ImportForm): Promise<DatasetInfo> => {
      const body = new FormData();
      body.set("file", form.file);
      body.set("name", form.name);
      if (form.symbol) body.set("symbol", form.symbol);
      if (form.kind) body.set("kind", form.kind);
      const label = "POST /datasets";
      let response: Response;
      try {
        response = await fetch("/datasets", { method: "POST", body });
      } catch {
        const error = new ApiError({ code: "network_error", message: "The papertape server could not be reached (POST /datasets).", httpStatus: 0, request: label });
        logApiError(error);
        throw error;
      }
      const json = await response.json().catch(() => undefined);
      if (response.ok && json?.data) return json.data as DatasetInfo;
      const error = isErrorEnvelope(json)
        ? new ApiError({ code: json.error_code, message: json.message, httpStatus: response.status, details: json.details, request: label })
        : new ApiError({ code: `http_${response.status}`, message: `The server answered ${label} with HTTP ${response.status}.`, httpStatus: response.status, details: json, request: label });
      logApiError(error);
      throw error;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: keys.datasets }),
  });
}
