"""Pure numerical code of the catalog: vectors, nearest neighbours, projection, clusters, outliers, drift.

No Django imports here; everything takes and returns numpy arrays or plain Python values.
"""
