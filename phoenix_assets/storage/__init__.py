"""Storage: the MongoDB resource, the embedded local server and the IO manager."""
