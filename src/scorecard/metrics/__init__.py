"""The metrics layer: registry, thresholds, computation, trends and questions for leaders."""
