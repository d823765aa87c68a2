"""Signal routing: a pluggable Router turns the facts of a signal into a partner decision."""
