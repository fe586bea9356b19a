"""What the results say: statistics, flags, points, verdicts, capacity and comparisons. Renders nothing."""
