"""The command-line tools, one module per command.

Each module is installed as a console script by ``pip install -e .`` and
wrapped by the OpenMMLab-style ``tools/<module>.py``:

- ``autoloss-search``: :mod:`.search`
- ``autoloss-train``: :mod:`.train`
- ``autoloss-test``: :mod:`.test`
- ``autoloss-tune``: :mod:`.tune_coefficients`
- ``autoloss-show-loss``: :mod:`.show_loss`
- ``autoloss-analyze``: :mod:`.analyze_search`
- ``autoloss-make-demo-data``: :mod:`.make_demo_data`

In every module ``run(argv)`` does the work and returns its result (a
Runner, metrics, a summary) for callers in Python, and ``main(argv)`` runs
it and returns the exit status 0 for the console script. Every command takes
``--verbose``, which shows the third-party advice warnings that
:mod:`.quiet` hides otherwise. The search and the OpenMMLab runners are
imported inside ``run``, after :func:`.quiet.quiet`: ``--help`` answers at
once, and the warnings they raise on import are filtered too.
"""
