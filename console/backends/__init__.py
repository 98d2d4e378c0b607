"""The panes' engine-side actions: each module satisfies one or more panes' ``api.py``
with blocking calls (run on query workers as the person logged in). The console's plugin
list (console/plugins.py) says which pane is given which."""
