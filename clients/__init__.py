"""Client libraries for the partner API."""
