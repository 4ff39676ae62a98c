/** Every failed request becomes an ApiError carrying the server's envelope, and is logged. */

export interface FieldError {
  field: string;
  message: string;
}

export interface ErrorEnvelope {
  status: "error";
  error_code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details: unknown;
  readonly sessionId: string | undefined;
  readonly at: string;
  readonly request: string;

  constructor(args: {
    code: string;
    message: string;
    httpStatus: number;
    details?: unknown;
    sessionId?: string;
    request: string;
  }) {
    super(args.message);
    this.name = "ApiError";
    this.code = args.code;
    this.httpStatus = args.httpStatus;
    this.details = args.details;
    this.sessionId = args.sessionId;
    this.request = args.request;
    this.at = new Date().toISOString();
  }

  /** Validation details as `{field, message}` pairs (empty when the server sent none). */
  get fieldErrors(): FieldError[] {
    return toFieldErrors(this.details);
  }
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { status?: unknown }).status === "error" &&
    typeof (body as { error_code?: unknown }).error_code === "string"
  );
}

export function toFieldErrors(details: unknown): FieldError[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) =>
    typeof d === "object" && d !== null && typeof d.field === "string"
      ? [{ field: d.field, message: String(d.message ?? "invalid") }]
      : [],
  );
}

/** Log a failure with everything needed to find it in the server's logs. A 4xx is the server
 * answering a request it refuses (a form error, something not there yet): a warning, not an
 * error; network failures and 5xx are errors. */
export function logApiError(error: ApiError): void {
  const refused = error.httpStatus >= 400 && error.httpStatus < 500;
  (refused ? console.warn : console.error)("papertape request failed", {
    request: error.request,
    session_id: error.sessionId ?? null,
    error_code: error.code,
    status: error.httpStatus,
    message: error.message,
    details: error.details,
    time: error.at,
  });
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
