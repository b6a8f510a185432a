"""Tests of the run figures and their Prometheus export."""
