"""Jenkins' REST API: :mod:`.client` (one session, crumbs, retries) and :mod:`.copyartifact`.

Importing this package is cheap; the submodules import requests and python-jenkins.
"""
