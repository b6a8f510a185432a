"""What the definition tests read from Dagster: a run's step output metadata, and the
chain of errors behind a code location that failed to load."""

from collections.abc import Callable
from typing import Any

import dagster as dg
import pytest


def output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The metadata of the run's only step output, as plain values."""
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {key: value.value for key, value in output.step_output_data.metadata.items()}


def causes(error: BaseException) -> list[BaseException]:
    """``error`` and every error it was raised from, outermost first."""
    chain = [error]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    return chain


def load_failure(load: Callable[[], dg.Definitions]) -> list[BaseException]:
    """Load the code location, which must fail; the errors behind the failure."""
    with pytest.raises(Exception) as raised:
        load()
    return causes(raised.value)
