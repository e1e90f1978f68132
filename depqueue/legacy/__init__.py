"""Fenced off: what exists only to move installations of the original wndchrm-queue over.

- ``original``: the original's configuration reader (``-f PATH`` on the command line, lenient keys)
  and the public names of its DepQueue and QueueMain that nothing here uses (``which``, ``write_log``,
  ``clear_all`` ...), mixed into today's classes so the original's scripts keep working;
- ``cutover``: the wire cut-over of tab-joined bodies and the guard against original workers, which
  the pool hands to each worker.

Nothing outside this folder needs it but those two classes and the pool.
"""
