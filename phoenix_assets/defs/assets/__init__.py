"""The asset graph: raw listings -> property snapshots -> market summaries and trends."""
