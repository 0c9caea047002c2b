"""KissPoll: ranked-ballot fan polls for blogs.

The app factory lives in `polls.factory` so that `python -m polls.tally`
(the pure counting engine) starts without importing Flask.
"""
