import { MultiSelect } from "@mantine/core";
import type { useStrategies } from "../api/hooks";
import type { FieldErrorMap } from "./fieldErrors";
import type { StrategyChoice } from "./sessionForm";
import { defaultParams, strategyParams } from "./strategyParams";
import { StrategyParamsFields } from "./StrategyParamsFields";

type Strategies = ReturnType<typeof useStrategies>;

/** The strategies to run and, for each, its parameters (defaults until the user edits them). */
export function StrategyFields({
  strategies,
  chosen,
  onChange,
  errors,
  picker,
}: {
  strategies: Strategies;
  chosen: StrategyChoice[];
  onChange: (update: (chosen: StrategyChoice[]) => StrategyChoice[]) => void;
  errors: FieldErrorMap;
  /** Show the strategy picker (a collect session runs none; chosen ones keep their fields). */
  picker: boolean;
}) {
  const paramsOf = (name: string) => strategyParams(strategies.data?.find((s) => s.name === name));
  const choose = (names: string[]) =>
    onChange((current) => names.map((name) => current.find((s) => s.name === name) ?? { name, params: defaultParams(paramsOf(name)) }));
  const strategyError =
    errors.for("strategies") ??
    chosen.map((_, i) => errors.for(`strategies.${i}`) ?? errors.for(`strategies.${i}.name`)).find(Boolean);
  return (
    <>
      {picker && (
        <MultiSelect
          label="Strategies"
          placeholder={strategies.data?.length === 0 ? "The server lists no strategies" : "None: prices only, manual orders"}
          data={(strategies.data ?? []).map((s) => s.name)}
          value={chosen.map((s) => s.name)}
          onChange={choose}
          error={strategyError ?? (strategies.error ? `Strategies unavailable: ${(strategies.error as Error).message}` : undefined)}
          searchable
        />
      )}
      {chosen.map((choice, index) => (
        <StrategyParamsFields
          key={choice.name}
          strategyName={choice.name}
          params={paramsOf(choice.name)}
          values={choice.params}
          errors={errors}
          path={`strategies.${index}.params`}
          onChange={(params) => onChange((current) => current.map((s, i) => (i === index ? { ...s, params } : s)))}
        />
      ))}
    </>
  );
}
