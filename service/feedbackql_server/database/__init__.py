"""Finding or starting the MongoDB-compatible server the service stores its data in."""
