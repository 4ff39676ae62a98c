import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../test/render";
import { StopControl } from "./StopControl";

function stopAnswer(status: number, body: object) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status })));
}

describe("StopControl", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("says a session was already stopped as a notice, not an error", async () => {
    stopAnswer(200, { status: "session_stopped", data: { session_id: "exec_x", stopped_via: "already_stopped", final_state: "stopped", stop_reason: "user", error_code: null } });
    renderWithProviders(<StopControl sessionId="exec_x" terminal={false} />);
    await userEvent.click(screen.getByTestId("stop-button"));
    const notice = await screen.findByTestId("stop-result");
    expect(notice).toHaveTextContent("Session was already stopped");
    expect(screen.queryByTestId("error-notice")).toBeNull();
  });

  it("shows the server's message and logs the details when the stop fails", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    stopAnswer(504, { status: "error", error_code: "stop_timeout", message: "the runner did not finish in 10 s; the session is still stopping", details: null });
    renderWithProviders(<StopControl sessionId="exec_x" terminal={false} />);
    await userEvent.click(screen.getByTestId("stop-button"));
    expect(await screen.findByTestId("error-notice")).toHaveTextContent("the runner did not finish in 10 s");
    expect(log).toHaveBeenCalledWith(
      "papertape request failed",
      expect.objectContaining({ session_id: "exec_x", error_code: "stop_timeout", status: 504, time: expect.any(String) }),
    );
  });
});
