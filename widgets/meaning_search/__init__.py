"""The "Search reports" pane: incident reports, bookmarks and event summaries by meaning."""
