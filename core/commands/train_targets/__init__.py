"""The targets of ``python -m core train``: one module per target with ``add_arguments(parser)``
(imported when the parser is built: no torch at module level) and ``run(args) -> int``."""
