"""The targets of ``python -m core eval``: one module per target, each with ``add_arguments(group)``
(its own flags; imported when the parser is built, so nothing heavy at module level),
``run(args) -> dict`` (flags -> the typed evaluation in core.ml / core.kinematics / core.model)
and ``format_text(dict) -> str``."""
