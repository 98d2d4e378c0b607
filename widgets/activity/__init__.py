"""The Activity pane: what each camera and sensing room saw in the last hour."""
