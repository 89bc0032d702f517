"""Fleet benchmark of the escalator.swim collection (``make bench``); see docs/performance.md."""
