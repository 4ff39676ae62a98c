import { Divider, NumberInput, SimpleGrid, TextInput } from "@mantine/core";
import type { SectionProps, SessionFormVariant } from "./sessionFormFields";

/** Cash, leverage, fees and the risk limits; then how long the session runs and its label. */
export function BudgetRiskFields({ variant, values, set, fieldError }: SectionProps & { variant: SessionFormVariant }) {
  return (
    <>
      <Divider label="Budget, fees and risk" labelPosition="left" />
      <SimpleGrid cols={4} spacing="sm">
        <NumberInput label="Cash" value={values.cash} onChange={(v) => set("cash", v)} error={fieldError("cash")} />
        <NumberInput label="Leverage" value={values.leverage} onChange={(v) => set("leverage", v)} error={fieldError("leverage")} />
        <NumberInput label="Taker fee" placeholder="exchange default" description="fraction, 0.001 = 0.1 %" value={values.feeTaker} onChange={(v) => set("feeTaker", v)} error={fieldError("feeTaker")} />
        <NumberInput label="Maker fee" placeholder="exchange default" description="fraction" value={values.feeMaker} onChange={(v) => set("feeMaker", v)} error={fieldError("feeMaker")} />
        <NumberInput label="Max position notional" placeholder="no limit" value={values.maxPositionNotional} onChange={(v) => set("maxPositionNotional", v)} error={fieldError("maxPositionNotional")} />
        <NumberInput label="Max open positions" placeholder="no limit" value={values.maxOpenPositions} onChange={(v) => set("maxOpenPositions", v)} error={fieldError("maxOpenPositions")} />
        <NumberInput label="Daily loss limit" placeholder="no limit" value={values.dailyLossLimit} onChange={(v) => set("dailyLossLimit", v)} error={fieldError("dailyLossLimit")} />
        <NumberInput label="Max drawdown %" placeholder="no limit" value={values.maxDrawdownPct} onChange={(v) => set("maxDrawdownPct", v)} error={fieldError("maxDrawdownPct")} />
      </SimpleGrid>
      <SimpleGrid cols={2} spacing="sm">
        {variant === "session" && (
          <NumberInput label="Duration (seconds)" placeholder="until stopped" value={values.duration} onChange={(v) => set("duration", v)} error={fieldError("duration")} />
        )}
        <TextInput label="Label" placeholder="optional" value={values.label} onChange={(e) => set("label", e.currentTarget.value)} error={fieldError("label")} />
      </SimpleGrid>
    </>
  );
}
