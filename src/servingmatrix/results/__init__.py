"""Results on disk: run folders and their cells, written and read in one place, and saved baselines."""
