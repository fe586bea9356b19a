"""Running a matrix: stacks of containers, the load generator, the samples, and the cells they make."""
