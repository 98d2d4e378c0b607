"""Incidents: reports filed by operators and field reporters, checked before anything is
stored (:mod:`engine.incidents.reports`), and the geometry their correlation searches with
(:mod:`engine.incidents.geo`)."""
