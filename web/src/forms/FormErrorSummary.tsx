import { Alert, List, Text } from "@mantine/core";
import type { ApiError, FieldError } from "../api/errors";
import type { FieldErrorMap } from "./fieldErrors";

/**
 * The banner of a refused submit. Each field shows its own message; the summary repeats only
 * what no field shows (`leftover`).
 */
export function FormErrorSummary({
  apiError,
  errors,
  leftover,
}: {
  apiError: ApiError;
  errors: FieldErrorMap;
  leftover: FieldError[];
}) {
  return (
    <Alert color="red" title={errors.size > 0 ? "Please fix the highlighted fields" : "The server refused"} role="alert" data-testid="form-error">
      {(errors.size === 0 || leftover.length > 0) && <Text size="sm">{errors.size === 0 ? apiError.message : "Also:"}</Text>}
      {errors.size > 0 && leftover.length === 0 && <Text size="sm">{`${errors.size} field${errors.size === 1 ? "" : "s"} to change, marked below.`}</Text>}
      {leftover.length > 0 && (
        <List size="sm" mt={4}>
          {leftover.map((e) => (
            <List.Item key={e.field + e.message}>
              {e.field ? <b>{e.field}: </b> : null}
              {e.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
