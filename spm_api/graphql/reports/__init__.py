"""Budget vs actual, investment, charges, cost recovery and the pipeline ranking."""
