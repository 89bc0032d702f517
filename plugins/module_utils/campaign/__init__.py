# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Campaign plans: schema (``schema``), offline validation (``validate``), resolution into batches (``resolve``).

PRIVATE to the collection. Pure Python without device I/O, so a plan can be checked in CI, in a
module, in a filter or in a unit test alike. Reference for plan authors: docs/campaign-plan.md.
"""
