import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, logApiError, isErrorEnvelope } from "../api/errors";
import { query, request } from "../api/client";
import { keys } from "../api/hooks";
import type { CandleView, DatasetInfo } from "../api/types";

export interface CandleOptions {
  /** Read the bars up to this time (µs), asked at each fetch; all recorded bars without it. */
  endUs?: () => number | undefined;
  /** Re-read every so many ms (for a session that is still running). */
  refetchMs?: number | false;
}

export function useCandles(source: string | null, symbol: string | null, interval: number, options: CandleOptions = {}) {
  return useQuery({
    queryKey: ["candles", source, symbol, interval],
    enabled: Boolean(source && symbol),
    refetchInterval: options.refetchMs ?? false,
    queryFn: async ({ signal }) => {
      const { data } = await request<{ items: CandleView[] }>(
        `/data/${encodeURIComponent(source!)}/candles${query({ symbol, interval, end_us: options.endUs?.() })}`,
        { signal },
      );
      return data.items;
    },
  });
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
