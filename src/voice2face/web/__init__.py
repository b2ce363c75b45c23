"""The web service and page (``voice2face serve``): calls :mod:`voice2face.inference` only."""
