"""A tiny inventory kept in a JSON file."""
