import { notifications } from "@mantine/notifications";
import { ApiError } from "../api/errors";

export function notifyError(error: unknown, title = "Request failed") {
  const api = error instanceof ApiError ? error : null;
  notifications.show({
    color: "red",
    title,
    message: api ? `${api.message} (${api.code})` : String((error as Error)?.message ?? error),
    autoClose: 8000,
  });
}

export function notifyInfo(title: string, message: string, color = "blue") {
  notifications.show({ color, title, message, autoClose: 6000 });
}
