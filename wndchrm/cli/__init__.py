"""The wndchrm commands (``train``, ``test``, ``classify``, ``check``, and a job's ``features``), run.

- ``commands``: a command line checked as wndchrm 1.60 reads it (:func:`parse_job`), its inputs and
  outputs confined to the data root, and the images still needing features (:func:`missing_images`).
- ``support``: which options the built-in engine honours; the others are refused with the reason.
- ``runner``: each command run with the built-in engine (:func:`run`).
- ``report_files``: the files a ``test`` or ``classify`` writes, and what its outcome says of them.
- ``external``: each command run through a site's C++ ``wndchrm`` instead (:class:`ExternalWndchrm`).
  It is the engine's other runner, not part of the queue: it knows wndchrm's files and output and needs
  nothing of the queue, so it sits beside ``runner``.
- ``notices``: what a run warns of (test images it cannot score, RGB against grey training images).
- ``program``: the ``wndchrm`` console script (and ``python -m wndchrm``): the C++ program's command line
  in this process, no queue (:func:`main`); ``pool`` computes its features over local processes, the
  queue's dependency jobs without a queue; ``terminal`` is what it prints.

The queue's job kind (``services/kinds/wndchrm``) validates a job with ``commands`` and ``support``,
turns :func:`missing_images` into dependencies, and runs the job with ``runner`` or ``external``.
``commands``, ``support`` and ``external`` need no numpy: a submitter checks jobs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wndchrm._lazy import attach

if TYPE_CHECKING:
    from wndchrm.cli.commands import Job, feature_argv, missing_images, needed_images, parse_job
    from wndchrm.cli.external import ExternalFailed, ExternalWndchrm
    from wndchrm.cli.program import main
    from wndchrm.cli.report_files import write_reports
    from wndchrm.cli.runner import check_list, run
    from wndchrm.cli.support import check_external, check_supported

__all__ = [
    "ExternalFailed", "ExternalWndchrm", "Job", "check_external", "check_list", "check_supported", "feature_argv",
    "main", "missing_images", "needed_images", "parse_job", "run", "write_reports",
]

if not TYPE_CHECKING:  # at run time each name is imported on first use; mypy reads the imports above
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
