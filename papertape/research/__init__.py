"""Research at scale: parameter sweeps, Optuna searches and walk-forward optimisation.

A sweep runs one strategy over many parameter sets on one dataset. Each trial is the same
``run_backtest`` a ``papertape backtest`` runs, so its metrics are exactly that command's; trials
run on a pool of worker processes (every local core by default) or as tasks on a Ray cluster, and
every worker decodes the dataset once, not once per trial.

This package sits between the sessions (which run a sweep as a session) and the market layer (which
reads its data): it is given validated strategy plans and never looks strategies up itself.
"""
