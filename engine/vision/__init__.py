"""Vision: camera sources and (later) detection, tracking, faces and clips."""
