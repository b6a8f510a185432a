"""A resource whose fields are environment variables, bound through ``dg.EnvVar``.

A field is set to ``dg.EnvVar(<variable>)`` when that variable is set where the
definitions load, so its value (a token, a password) is read in the run's own process
and never shown in the UI; an unset field means the variable is unset and its default
applies. ``environ()`` gives the values back under their variables' names, for the
same parser that validated them at load time.
"""

import os
from typing import ClassVar, Self

import dagster as dg


class EnvSettingsResource(dg.ConfigurableResource):
    """Settings named ``<prefix><FIELD NAME>`` in the environment, or as ``variables`` says."""

    prefix: ClassVar[str] = ""
    # Field name -> variable, for fields not named <prefix><FIELD NAME>.
    variables: ClassVar[dict[str, str]] = {}

    @classmethod
    def variable(cls, field_name: str) -> str:
        return cls.variables.get(field_name) or f"{cls.prefix}{field_name.upper()}"

    @classmethod
    def from_environment(cls) -> Self:
        """The resource with every variable that is set bound through ``dg.EnvVar``."""
        bound = {
            name: dg.EnvVar(cls.variable(name))
            for name in cls.model_fields
            if os.environ.get(cls.variable(name), "").strip()
        }
        return cls(**bound)

    def environ(self) -> dict[str, str]:
        """The settings as the variables they came from."""
        return {
            self.variable(name): value
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        }
