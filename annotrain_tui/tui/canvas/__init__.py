"""The item canvas's pure parts (no Textual): the model (:mod:`.model`) and the rasteriser
(:mod:`.raster`). The widget on top is :mod:`annotrain_tui.tui.widgets.shape_canvas`."""
