import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, logApiError } from "./errors";

const failure = (httpStatus: number) => new ApiError({ code: "x", message: "m", httpStatus, request: "GET /x" });

describe("logApiError", () => {
  afterEach(() => vi.restoreAllMocks());
  it("warns about a refused request (4xx) and errors on a server or network failure", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    logApiError(failure(404));
    logApiError(failure(422));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(error).not.toHaveBeenCalled();
    logApiError(failure(503));
    logApiError(failure(0));
    expect(error).toHaveBeenCalledTimes(2);
  });
});
