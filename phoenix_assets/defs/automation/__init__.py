"""Automation: schedules, sensors and the policies every run follows."""
