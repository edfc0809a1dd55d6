"""Grid boundary editing: versions, the coverage-preserving edit engine, impact preview, commit and undo."""
