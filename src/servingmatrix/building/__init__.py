"""Building: the base image, the wheelhouse, the lock files, and the files rendered from the registries."""
