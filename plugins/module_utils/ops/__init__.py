# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""One file per module: its argument spec and its logic over the protocol-neutral device API."""
