"""The ``report_delivery`` resource: where the daily and weekly market reports go.

The report variables (``PHOENIX_REPORT_EMAIL_TO``, ``PHOENIX_REPORT_WEBHOOK_URL``,
``PHOENIX_REPORT_WEBHOOK_FORMAT``, and the ``PHOENIX_SMTP_*`` server) are parsed when the
code location loads, so a bad value fails the load naming the variable; the resource
reads them through ``dg.EnvVar`` at run time, so no secret is written into the
definitions or shown in the UI.
"""

import os

import dagster as dg

from phoenix_assets.delivery.settings import ReportDeliverySettings
from phoenix_assets.reports.delivery import ReportDelivery


@dg.definitions
def report_delivery() -> dg.Definitions:
    """The ``report_delivery`` resource, configured from the environment (all optional)."""
    ReportDeliverySettings.from_env(os.environ)
    return dg.Definitions(resources={"report_delivery": ReportDelivery.from_environment()})
