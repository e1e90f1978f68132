"""WND-CHARM image analysis: the C++ wndchrm 1.60's commands, files and numbers, on CharmFeatures.

The engine, by layer (each imports only from the layers above it in this list):

- ``dataroot``: the data root every path stays inside; ``options``, ``option_values``: a wndchrm command
  line as the C++ program parses it, which every part reads (tile counts, ``-l``, ``-R`` ...).
- ``formats``: wndchrm's files and names (``.fit``, feature names, ``.sig`` names, datasets, outputs).
- ``features``: an image's features: read and cut into samples, computed by CharmFeatures, kept in
  wndchrm's ``.sig`` files or this project's cache.
- ``classifier``: WND-5 and WNN, Fisher weights, splits, runs of ``test`` and ``classify``.
- ``reports``: what ``test`` and ``classify`` print and write: text, JSON, TSVs, one HTML page.
- ``cli``: the commands (``train``, ``test``, ``classify``, ``check``): a command line checked, the
  images it needs, and its run, in this process (``python -m wndchrm``) or through a C++ binary.

The queue knows none of this: ``services/kinds/wndchrm`` is the adapter that makes these commands a job
kind. This package imports nothing from ``services``; from ``depqueue`` only its error classes. See README.md.
"""
