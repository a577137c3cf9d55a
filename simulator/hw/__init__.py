"""Hardware components: timing (reservation of bandwidth resources) and action counting."""
