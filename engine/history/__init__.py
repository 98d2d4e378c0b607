"""History: queries over what was recorded (events, clips), replay and evidence."""
