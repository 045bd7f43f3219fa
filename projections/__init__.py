"""Read models built only from the event log; each view stores its rows and position together."""
