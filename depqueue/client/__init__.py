"""The queue as its users see it: ``DepQueue`` (submit, read progress, cancel, list and retry failures)
and the one reader of tube figures that ``get_stats``, ``parent_progress`` and the monitor share."""
