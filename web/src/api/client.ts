import { ApiError, isErrorEnvelope, logApiError } from "./errors";

export interface Envelope<T> {
  status: string;
  data: T;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  /** The session the request is about, for error logs. */
  sessionId?: string;
  signal?: AbortSignal;
}

/** Call the papertape API; resolve with the success envelope or reject with an ApiError. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<Envelope<T>> {
  const method = options.method ?? "GET";
  const label = `${method} ${path}`;
  const sessionId = options.sessionId ?? sessionIdIn(path);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: options.body === undefined ? undefined : { "Content-Type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if ((cause as Error)?.name === "AbortError") throw cause;
    const error = new ApiError({
      code: "network_error",
      message: `The papertape server could not be reached (${label}).`,
      httpStatus: 0,
      sessionId,
      request: label,
    });
    logApiError(error);
    throw error;
  }
  const body = await readJson(response);
  if (response.ok && body && typeof body === "object" && "data" in body) {
    return body as Envelope<T>;
  }
  const error = isErrorEnvelope(body)
    ? new ApiError({
        code: body.error_code,
        message: body.message,
        httpStatus: response.status,
        details: body.details,
        sessionId,
        request: label,
      })
    : new ApiError({
        code: response.ok ? "unexpected_response" : `http_${response.status}`,
        message: response.ok
          ? `The server answered ${label} without a data envelope.`
          : `The server answered ${label} with HTTP ${response.status} ${response.statusText}.`,
        httpStatus: response.status,
        details: body,
        sessionId,
        request: label,
      });
  logApiError(error);
  throw error;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sessionIdIn(path: string): string | undefined {
  return /\/sessions\/(exec_[A-Za-z0-9_]+)/.exec(path)?.[1];
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
