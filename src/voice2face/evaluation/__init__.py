"""`voice2face evaluate`: a model's faces beside reference rows, scored by registered metrics.

- :mod:`.registry`: the only metric registry (name → ``fn(ctx) -> dict`` with its table labels), and
  how a metric is run (skipped or failed, with the reason, instead of raising);
- :mod:`.context`: the evaluation context every metric takes;
- :mod:`.metrics`: the built-in metrics (realism, traits, descriptors, identity, attributes, fd, fid, kid,
  ppl, lpips);
- :mod:`.rows`: the reference rows (real, blurred real, oracle_voice, oracle_sex);
- :mod:`.run`: :func:`evaluate_model`, which orchestrates a whole evaluation;
- :mod:`.tables`: the text table and the ``--json`` summary.
"""

from voice2face.evaluation.run import (
    evaluate_model,
    generate_faces,
    reference_levels,
    write_evaluation_grid,
)
from voice2face.evaluation.tables import format_table, markdown_table, summary_json, table_rows, verdict

__all__ = [
    "evaluate_model",
    "format_table",
    "generate_faces",
    "markdown_table",
    "reference_levels",
    "summary_json",
    "table_rows",
    "verdict",
    "write_evaluation_grid",
]
