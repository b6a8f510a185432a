"""Asset checks: what keeps bad data from moving downstream."""
