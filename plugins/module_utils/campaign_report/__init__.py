# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The campaign report: HTML page, CSV and JUnit XML built from a campaign directory (PRIVATE to the collection).

load (read the directory) -> model (one plain-data description of the campaign) -> render_html / render_csv /
render_junit. Shared by the module escalator.swim.campaign_report and the command ``swim report``.
"""
