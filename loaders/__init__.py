"""Turn published policy texts into the measures table.  No Streamlit here: the CLI, tests and
pages all call the same functions on text and bytes."""

from loaders.measures_csv import (
    BuildResult,
    build_measures,
    policies_frame,
    read_measures,
    task_id,
    to_csv_bytes,
)
from loaders.policy_text import (
    Measure,
    ParseWarning,
    Policy,
    Section,
    Task,
    decode_policy,
    parse_policy,
    policy_id_from_name,
)
from loaders.units import UnitInfo, UnitRef, UnitRegistry, read_units, split_clause, split_units

__all__ = [
    "BuildResult",
    "Measure",
    "ParseWarning",
    "Policy",
    "Section",
    "Task",
    "UnitInfo",
    "UnitRef",
    "UnitRegistry",
    "build_measures",
    "decode_policy",
    "parse_policy",
    "policies_frame",
    "policy_id_from_name",
    "read_measures",
    "read_units",
    "split_clause",
    "split_units",
    "task_id",
    "to_csv_bytes",
]
