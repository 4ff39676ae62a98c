"""A vectorised fast path for sweep trials, provably the event engine's result.

A sweep's trials differ only in their parameters: the candles are the same, and so are most of
the indicators (``fast=5:50:5`` x ``slow=30:210:20`` is 94 trials but only 20 moving averages).
For the strategies (``sma_cross`` long only, ``rsi_reversion``, ``breakout``) and settings it
supports, ``FastPath`` evaluates a trial over numpy arrays — the candles decoded once per worker,
each distinct indicator computed once per worker — instead of running every bar through
``papertape.engine``; anything else runs on the event engine (``TrialData.run`` in
``papertape.research.trials`` decides, and records which ran as the trial's ``engine``:
``"vectorised"`` or ``"event"``).

"The same result" means the same floating-point numbers, not approximately equal ones, and it is
obtained by doing the same arithmetic in the same order, never a re-derivation:

* the SMA reproduces ``papertape.domain.indicators.Sma``'s incremental recurrence — the
  running sum updated by ``x − x_old`` and re-anchored with ``math.fsum`` once per lap — with
  ``numpy.cumsum`` (a strict left-to-right recurrence) per lap, so each value is bit-identical
  and a crossover decided on a near-zero difference is decided the same way; the RSI, the EMA
  and the volume surge (recurrences numpy would round differently) are the indicators
  themselves, run once per period; the highest high is a window's ``max`` (exact);
* fills go through the real ``Portfolio`` (its sizing, fees and round trips), at the prices and
  times the paper venue uses: a market order decided on bar i fills at bar i+1's open, and
  breakout's stop-loss fills on the first later bar that reaches it, at ``min(open, stop)``,
  before the strategy sees that bar (``breakout``);
* the equity curve is the one the engine samples (``equity``) and the metrics come from the
  same ``papertape.domain.metrics`` code (``summarise``, ``ratios``, ``account_metrics``).

``tests/research/test_fastpath.py`` checks every supported strategy against the event engine on
the shared candles and on generated prices (hypothesis), and that everything else falls back.
"""

from papertape.research.fastpath.evaluator import FastPath, refusal

__all__ = ["FastPath", "refusal"]
