"""swim_sim: device simulators for the escalator.swim collection."""
