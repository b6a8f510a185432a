"""The error every delivery channel raises."""


class DeliveryError(Exception):
    """A message could not be delivered; the text is safe to log (no secret in it)."""
