"""Builders that are not measurements: the catalog, the GPU check, the README's generated tables."""
