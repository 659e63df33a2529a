"""The study: its experiments and what reports them.

``experiments`` (the registry, ``reproduce``) runs the experiments of ``point_estimates`` and
``accuracy_covariance_speed`` (on ``speed``) in run folders set up by ``runs``; ``report`` compares
their results with the study's published numbers using ``tables``; ``plotting`` draws the figures.
"""
