"""What pages show, without Streamlit: per-page tables and options (:mod:`pagelogic.views`),
plotly figures (:mod:`pagelogic.figures`), the progress editor's grid rules
(:mod:`pagelogic.editing`) and the deadline editor (:mod:`pagelogic.deadlines`).  It sits
between the library (:mod:`tracker`, :mod:`loaders`, :mod:`excel`) and the Streamlit glue
(:mod:`webui`); plotly lives here, never in the store's layer."""
