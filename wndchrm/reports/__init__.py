"""The reports of ``test`` and ``classify``: what wndchrm 1.60 prints, a JSON record, TSVs, one HTML page.

- ``render``: each report of a run as text (:func:`text_report`, :func:`json_report`,
  :func:`classify_tsv`, :func:`tsv_exports`) and the thumbnails the HTML shows.
- ``printout``: wndchrm's printed output, line for line, from its first split on.
- ``data``: the one structure behind both the JSON and the HTML (:func:`report_data`).
- ``stats``: the figures of wndchrm's HTML report that its printout lacks (P values, intervals,
  feature statistics, class distances).
- ``html``: the self-contained HTML page (:func:`html_report`), from ``tables`` and ``charts``.
- ``tables``: its tables; ``charts``: its pictures, each a PNG ``data:`` URI.

Which files a job writes, and where, is the command's business: :mod:`wndchrm.cli.report_files`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wndchrm._lazy import attach

if TYPE_CHECKING:
    from wndchrm.reports.data import dataset_summary, report_data
    from wndchrm.reports.html import html_report
    from wndchrm.reports.render import TSV_FOLDER, classify_tsv, json_report, text_report, thumbnails, tsv_exports

__all__ = [
    "TSV_FOLDER", "classify_tsv", "dataset_summary", "html_report", "json_report", "report_data", "text_report",
    "thumbnails", "tsv_exports",
]

if not TYPE_CHECKING:  # at run time each name is imported on first use; mypy reads the imports above
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
