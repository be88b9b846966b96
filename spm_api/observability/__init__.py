"""What an operator sees of a running process: the request in progress (its id, who,
which operation, its statements), Prometheus metrics and the request log line. Imports
nothing of the layers, so every layer may report into it."""
