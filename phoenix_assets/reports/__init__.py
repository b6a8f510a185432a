"""Market reports: daily and weekly, as JSON, CSV and HTML with charts, and their delivery."""
