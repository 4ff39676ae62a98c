import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
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
  const result = useInfiniteQuery({
    queryKey: ["candles", source, symbol, interval],
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
  return { ...result, bars };
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
